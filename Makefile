# Every target bootstraps its own virtual environment in .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
# Extras are installed once, then again only when pyproject.toml changes (as the dev stamp).
BENCH_STAMP := $(VENV)/.installed-bench
DOCS_STAMP  := $(VENV)/.installed-docs
BENCH_ARGS ?=
# JAX is an optional peer: its own environment (under build/, removed by make clean), never .venv.
JAX_VENV   ?= build/venv-jax
JAX_STAMP  := $(JAX_VENV)/.installed
KATEX ?= 0.19.1

.PHONY: test lint typecheck pytest demo demo-attention demo-cnn bench bench-full bench-jax docs vendor-katex clean

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

## make demo-attention: embedding + multi-head attention + LayerNorm + MLP learn to sort digits
demo-attention: $(STAMP)
	$(PY) -m tensorgrad.examples.attention

## make demo-cnn: a small CNN (Conv2d, MaxPool2d) on the same digits as 8x8 images, ~99%
demo-cnn: $(STAMP)
	$(PY) -m tensorgrad.examples.cnn

$(BENCH_STAMP): $(STAMP)
	@# Optional (the chart, BLAS details): a failure is reported and retried next time.
	$(PY) -m pip install -q -e ".[bench]" && touch $@ \
		|| echo "optional bench extras unavailable; continuing without them"

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[docs]"
	touch $@

## make bench: quick benchmarks (1-2 minutes) into build/benchmarks/; make bench-full for the
## full run; BENCH_ARGS=--update-results rewrites the committed benchmarks/results/
bench: $(BENCH_STAMP)
	$(PY) benchmarks/run.py --quick $(BENCH_ARGS)

bench-full: $(BENCH_STAMP)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

$(JAX_STAMP):
	test -x $(JAX_VENV)/bin/python || $(PYTHON) -m venv $(JAX_VENV)
	$(JAX_VENV)/bin/python -m pip install -q jax numpy threadpoolctl
	touch $@

## make bench-jax: tg.compile against JAX jit (MLP step and digits training, float32); JAX is
## installed from PyPI into its own venv (JAX_VENV, build/venv-jax) on first use
bench-jax: $(BENCH_STAMP) $(JAX_STAMP)
	$(PY) benchmarks/run.py --quick --only mlp_step,training --dtype float32 --frameworks jax \
		--frameworks-python $(JAX_VENV)/bin/python $(BENCH_ARGS)

## make docs: build the documentation site with --strict (offline: KaTeX is in docs/assets)
docs: $(DOCS_STAMP)
	$(VENV)/bin/mkdocs build --strict

## make vendor-katex KATEX=<version>: refresh docs/assets/katex from the npm package
vendor-katex:
	rm -rf build/katex && mkdir -p build/katex
	cd build/katex && npm pack -q katex@$(KATEX) && tar xzf katex-$(KATEX).tgz
	rm -rf docs/assets/katex && mkdir -p docs/assets/katex/contrib docs/assets/katex/fonts
	cp build/katex/package/dist/katex.min.js build/katex/package/dist/katex.min.css \
		build/katex/package/LICENSE docs/assets/katex/
	cp build/katex/package/dist/contrib/auto-render.min.js docs/assets/katex/contrib/
	cp build/katex/package/dist/fonts/*.woff2 docs/assets/katex/fonts/
	printf 'KaTeX $(KATEX) (MIT, see LICENSE), unchanged files from the npm package "katex":\n%s\n' \
		'dist/katex.min.js, dist/katex.min.css, dist/contrib/auto-render.min.js, dist/fonts/*.woff2' \
		> docs/assets/katex/VERSION.txt

clean:
	rm -rf $(VENV) site build *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache
