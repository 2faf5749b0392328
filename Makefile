# Every target bootstraps its own virtual environment in .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: test lint typecheck pytest demo bench bench-full docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

## make test: lint (ruff), type check (mypy), then the full test suite
test: lint typecheck pytest

lint: $(STAMP)
	$(PY) -m ruff check tensorgrad tests benchmarks docs

typecheck: $(STAMP)
	$(PY) -m mypy tensorgrad

pytest: $(STAMP)
	$(PY) -m pytest

## make demo: the main job, training an MLP on the embedded digits
demo: $(STAMP)
	$(PY) -m tensorgrad.examples.digits

## make bench: quick benchmarks (under 2 minutes); make bench-full for the full run
bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]" || echo "optional bench extras unavailable; continuing"
	$(PY) benchmarks/run.py --quick

bench-full: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]" || echo "optional bench extras unavailable; continuing"
	$(PY) benchmarks/run.py

## make docs: build the documentation site with --strict
docs: $(STAMP)
	$(PY) -m pip install -q -e ".[docs]"
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) site build *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache
