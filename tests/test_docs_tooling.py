"""The documentation and tooling rough edges of issue 10: the site needs no network (math by
the vendored KaTeX, no font CDN), every formula of the docs is one KaTeX renders, the 404 page
links work below any root, the API pages show what modules export, make targets install
extras once, and the distribution name is not the index's unrelated `tensorgrad`."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KATEX = ROOT / "docs" / "assets" / "katex"


def _mkdocs_yml() -> str:
    return (ROOT / "mkdocs.yml").read_text()


def _listed(key: str) -> list[str]:
    """The entries of a top-level list in mkdocs.yml (a simple reader: no yaml needed)."""
    block = re.search(rf"^{key}:\n((?:[ \t]+- .*\n)+)", _mkdocs_yml(), re.M)
    assert block, key
    return [line.strip()[2:].strip() for line in block.group(1).splitlines()]


def test_site_assets_are_local_files():
    scripts, styles = _listed("extra_javascript"), _listed("extra_css")
    assert any("katex.min.js" in s for s in scripts) and any("katex" in s for s in styles)
    for path in scripts + styles:
        assert "://" not in path and not path.startswith("//"), path
        assert (ROOT / "docs" / path).is_file(), path
    assert not re.search(r"https?://", "\n".join(scripts + styles))
    assert re.search(r"^\s+font: false", _mkdocs_yml(), re.M)  # no Google Fonts request


def test_katex_fonts_named_by_its_css_are_shipped():
    css = (KATEX / "katex.min.css").read_text()
    woff2 = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css))
    assert len(woff2) >= 15
    for font in woff2:
        assert (KATEX / font).is_file(), font
    assert "MIT" in (KATEX / "LICENSE").read_text()


def _formulas(text: str) -> list[tuple[str, bool]]:
    """The math of a page as pymdownx.arithmatex finds it (code blocks and spans excluded)."""
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    found = []
    for pattern, display in ((r"\$\$(.+?)\$\$", True), (r"\\\[(.+?)\\\]", True),
                             (r"\\\((.+?)\\\)", False)):
        found += [(m.group(1), display) for m in re.finditer(pattern, text, flags=re.S)]
        text = re.sub(pattern, "", text, flags=re.S)
    found += [(m.group(1), False) for m in
              re.finditer(r"(?<![\\$\w])\$(?![\s$])(.+?)(?<![\s\\])\$(?!\w)", text)]
    return found


_RENDER = """
const katex = require(process.argv[1]);
const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
const bad = [];
for (const it of items) {
  try { katex.renderToString(it.tex, {displayMode: it.display, throwOnError: true}); }
  catch (e) { bad.push(it.page + ": " + e.message); }
}
console.log(JSON.stringify(bad));
"""


def test_every_formula_of_the_docs_renders_with_the_vendored_katex():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (it runs the vendored KaTeX here)")
    pages = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
    items = [{"page": str(p.relative_to(ROOT)), "tex": tex, "display": display}
             for p in pages for tex, display in _formulas(p.read_text())]
    assert len(items) > 50  # the derivation pages are full of math
    proc = subprocess.run([node, "-e", _RENDER, str(KATEX / "katex.min.js")],
                          input=json.dumps(items), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
    # and a formula KaTeX cannot read is reported, so the check can fail
    proc = subprocess.run([node, "-e", _RENDER, str(KATEX / "katex.min.js")],
                          input=json.dumps([{"page": "x", "tex": r"\frac{1}{", "display": True}]),
                          capture_output=True, text=True, timeout=120)
    assert len(json.loads(proc.stdout)) == 1


def test_docs_hook_documents_exports_not_imports():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.remove(str(ROOT / "docs"))
    names = hooks.exported("tensorgrad.nn.functional")
    assert "cross_entropy" in names and "l1_loss" in names
    assert "Tensor" not in names and "get_rng" not in names
    root = hooks.exported("tensorgrad")
    assert "Tensor" in root and "save" in root and "float32" not in root and "ops" not in root
    page = hooks.on_page_markdown("# x\n\n::: tensorgrad.data\n    options:\n      a: 1\n\n"
                                  "::: tensorgrad.viz\n    options:\n      members: [render]\n")
    assert "members: ['DataLoader', 'Dataset', 'TensorDataset'," in page
    assert page.count("members:") == 2  # an explicit list is left alone


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once, for publication below a sub-path."""
    if not _has("mkdocs"):
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]', or run make docs)")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, SITE_URL="https://example.org/sub/dir/", NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_404_page_links_resolve_below_the_site_path(site):
    html = (site / "404.html").read_text()
    links = set(re.findall(r'(?:href|src)="(/[^"#]*)', html))
    assert links and all(link.startswith("/sub/dir/") for link in links), links
    for link in links:
        path = site / link[len("/sub/dir/"):]
        assert path.is_file() or (path / "index.html").is_file(), link


def test_no_page_loads_anything_from_another_host(site):
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert not re.search(r'<script[^>]+src="(https?:)?//', html), page
        assert not re.search(r'<link[^>]+rel="stylesheet"[^>]+href="(https?:)?//', html), page
        assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html, page


def test_api_pages_list_tensor_methods_and_no_imports(site):
    index = (site / "api" / "index.html").read_text()
    for method in ("exp", "sum", "reshape", "backward", "max", "softmax"):
        assert f'id="tensorgrad.Tensor.{method}"' in index, method
    nn = (site / "api" / "nn" / "index.html").read_text()
    assert 'id="tensorgrad.nn.L1Loss"' in nn and 'id="tensorgrad.nn.SmoothL1Loss"' in nn
    for imported in ("functional.Tensor", "functional.get_rng", "init.get_rng"):
        assert f'id="tensorgrad.nn.{imported}"' not in nn, imported


# ----------------------------------------------------------------------------- make, packaging
def test_make_installs_extras_once():
    make = (ROOT / "Makefile").read_text()
    for target in ("bench", "bench-full", "docs"):
        recipe = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)*)", make, re.M)
        assert recipe, target
        assert "pip install" not in recipe.group(1), f"make {target} reinstalls every run"
        assert "STAMP" in recipe.group(0), target
    assert re.search(r"^\$\(DOCS_STAMP\):.*\n(\t.*\n)*\ttouch \$@", make, re.M)
    if shutil.which("make"):
        dry = subprocess.run(["make", "-n", "bench", "docs", "VENV=/nonexistent-venv"],
                             cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0 and "benchmarks/run.py --quick" in dry.stdout


def test_distribution_name_is_not_the_unrelated_tensorgrad():
    text = (ROOT / "pyproject.toml").read_text()
    name = re.search(r'^name = "([^"]+)"', text, re.M).group(1)
    assert name == "tensorgrad-numpy"
    assert "tensorgrad-numpy" in (ROOT / "README.md").read_text()
    assert re.search(r'include = \["tensorgrad\*"\]', text)  # the import name stays
