"""The documentation is tested like code.

- Every ```python block of every page under docs/ runs, one pytest case per page: the blocks
  of a page run in order in one shared namespace. A block opts out only with the visible
  marker ``<!-- no-run -->`` on the line before it. Snippet lines (``--8<-- "file:section"``,
  pymdownx.snippets) are expanded first, so an included file runs as the reader sees it.
- The pictures in docs/img/ are what ``docs/graphs.py`` draws today.
- Every ``>>>`` example in the package's docstrings passes under doctest (one case per module).
- ``mkdocs build --strict`` succeeds (skipped when mkdocs and its plugins are not installed).
"""
from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
import re
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.autograd import grad_mode
from tensorgrad.autograd import op as opmod

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
NO_RUN = "<!-- no-run -->"
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
SNIPPET = re.compile(r'^(?P<indent>\s*)--8<--\s+"(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"\s*$')
# Included only when it exists: `make bench` writes it, a fresh clone has none.
OPTIONAL_SNIPPETS = {"benchmarks/results/results.md"}


def code_blocks(text: str) -> list:
    """[(first line number, info string, code, opted out)] of every fenced block in `text`."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(fence)
                                      and lines[i].strip().strip(fence[0]) == ""):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        prev = next((ln.strip() for ln in reversed(lines[:start - 1]) if ln.strip()), "")
        blocks.append((start + 1, m.group("info").strip(), "\n".join(body), prev == NO_RUN))
        i += 1
    return blocks


def snippet(path: str, section: str | None) -> str:
    """The text pymdownx.snippets would include for ``--8<-- "path:section"``."""
    text = (ROOT / path).read_text()
    if section is None:
        return text
    start = re.search(rf"^.*--8<-- \[start:{re.escape(section)}\].*$", text, re.M)
    end = re.search(rf"^.*--8<-- \[end:{re.escape(section)}\].*$", text, re.M)
    assert start and end, f"section {section!r} not found in {path}"
    # Dedented, as with the snippets option dedent_subsections in mkdocs.yml.
    return textwrap.dedent(text[start.end():end.start()]).strip("\n")


def expand(code: str) -> tuple[str, bool]:
    """`code` with its snippet lines replaced by the included text; and whether any was."""
    out, used = [], False
    for line in code.splitlines():
        m = SNIPPET.match(line)
        if m:
            used = True
            out.extend(m.group("indent") + s for s in snippet(m.group("path"),
                                                               m.group("section")).splitlines())
        else:
            out.append(line)
    return "\n".join(out), used


def is_python(info: str) -> bool:
    return info.split()[0].lower() in ("python", "py") if info else False


@pytest.fixture
def clean_state(tmp_path, monkeypatch):
    """Each page starts from tensorgrad's defaults in an empty working directory."""
    monkeypatch.chdir(tmp_path)
    dtype, enabled, np_errors = tg.get_default_dtype(), grad_mode.is_grad_enabled(), np.geterr()
    tg.manual_seed(0)
    yield tmp_path
    np.seterr(**np_errors)
    tg.set_default_dtype(dtype)
    grad_mode.set_grad_enabled(enabled)
    opmod.anomaly_hook = None


def runnable(page: Path) -> list:
    """[(line, code)] of the python blocks of `page` that run, in order."""
    return [(line, code) for line, info, code, opted_out in code_blocks(page.read_text())
            if is_python(info) and not opted_out]


EXAMPLE_PAGES = [p for p in [ROOT / "README.md", *PAGES] if runnable(p)]


@pytest.mark.parametrize("page", EXAMPLE_PAGES,
                         ids=[str(p.relative_to(ROOT)) for p in EXAMPLE_PAGES])
def test_page_examples_run(page, clean_state):
    ns: dict = {"__name__": f"docs.{page.stem}"}
    for line, code in runnable(page):
        source, included = expand(code)
        if included:
            filename = f"{page.relative_to(ROOT)} (block at line {line}, snippets expanded)"
        else:  # padded so that a traceback points at the line of the .md file
            filename, source = str(page.relative_to(ROOT)), "\n" * (line - 1) + source
        exec(compile(source, filename, "exec"), ns)


def test_snippet_references_exist():
    for page in PAGES:
        for line in page.read_text().splitlines():
            m = SNIPPET.match(line)
            if m and m.group("path") not in OPTIONAL_SNIPPETS:
                snippet(m.group("path"), m.group("section"))  # raises when missing


def test_no_run_marker_is_used_sparingly():
    """Opting out is for what cannot run here (say, a path to files the reader has)."""
    for page in PAGES:
        skipped = sum(b[3] and is_python(b[1]) for b in code_blocks(page.read_text()))
        assert skipped <= 2, f"{page.name}: {skipped} python blocks are marked {NO_RUN}"


def test_block_parser_finds_blocks_markers_and_indented_fences():
    text = "\n".join([
        "```python", "a = 1", "```", "", NO_RUN, "```python", "b = 2", "```",
        '!!! note', '    ```py', '    c = 3', '    if c:', '        c = 4', '    ```',
        "```bash", "make test", "```",
    ])
    blocks = code_blocks(text)
    assert [(b[0], b[1], b[3]) for b in blocks] == [
        (2, "python", False), (7, "python", True), (11, "py", False), (16, "bash", False)]
    assert blocks[2][2] == "c = 3\nif c:\n    c = 4"


# --------------------------------------------------------------------------- pictures


def test_pictures_match_the_code_that_draws_them():
    graphs = runpy.run_path(str(DOCS / "graphs.py"), run_name="docs_graphs")
    pictures = graphs["pictures"]()
    assert pictures, "docs/graphs.py draws nothing"
    for name, dot in pictures.items():
        committed = DOCS / "img" / f"{name}.dot"
        assert committed.exists(), f"{committed} is missing: run python docs/graphs.py"
        assert committed.read_text() == dot, f"{committed} is stale: run python docs/graphs.py"
        assert (DOCS / "img" / f"{name}.svg").exists(), f"{name}.svg is missing"


# --------------------------------------------------------------------------- doctests


def _package_modules() -> list:
    names = ["tensorgrad"]
    names += [m.name for m in pkgutil.walk_packages(tg.__path__, "tensorgrad.")]
    return sorted(names)


def _modules_with_examples() -> list:
    found = []
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in _package_modules():
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported by its own failing case below
            found.append(name)
            continue
        if any(t.examples for t in finder.find(module, name)):
            found.append(name)
    return found


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = io.StringIO()
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()


# --------------------------------------------------------------------------- the site


def _mkdocs_missing() -> str:
    for mod in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        try:
            importlib.import_module(mod)
        except ImportError:
            return f"{mod} is not installed (pip install -e '.[docs]', or run make docs)"
    return ""


@pytest.mark.skipif(bool(_mkdocs_missing()), reason=_mkdocs_missing() or "mkdocs available")
def test_mkdocs_build_strict(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "index.html").exists()

