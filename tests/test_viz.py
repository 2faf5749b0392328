"""tensorgrad.viz: the DOT text describes the real graph; render() calls Graphviz or says how
to get it."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import viz

NODE = re.compile(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+);$")


def parse(dot: str) -> tuple[dict, list]:
    """({node id: (label lines, attribute text)}, [(src id, dst id), ...]); fails on any line
    that is neither a node, an edge nor the fixed header."""
    lines = dot.splitlines()
    assert lines[0] == "digraph tensorgrad {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if line.strip().startswith(("node [", "edge [")):
            continue
        m = NODE.match(line)
        if m:
            assert m.group(1) not in nodes, f"node {m.group(1)} declared twice"
            label = m.group(2).replace('\\"', '"').split("\\n")
            nodes[m.group(1)] = (label, m.group(3))
            continue
        m = EDGE.match(line)
        assert m, f"unexpected DOT line: {line!r}"
        edges.append((m.group(1), m.group(2)))
    for a, b in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} names an undeclared node"
    return nodes, edges


def titled_edges(dot: str) -> Counter:
    """Edges as (title + shape of source, title + shape of target), counted."""
    nodes, edges = parse(dot)
    name = {k: f"{lab[0]} {lab[1]}" for k, (lab, _) in nodes.items()}
    return Counter((name[a], name[b]) for a, b in edges)


def small_graph() -> tuple:
    x = tg.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tg.tensor(0.5, requires_grad=True)
    return x, w, b, (x * w + b).sum()


def test_small_graph_has_exactly_the_expected_nodes_and_edges():
    _, _, _, out = small_graph()
    dot = viz.to_dot(out)
    nodes, edges = parse(dot)
    titles = Counter(lab[0] for lab, _ in nodes.values())
    assert titles == Counter({"sum": 1, "add": 1, "mul": 1, "leaf": 1, "param": 2})
    assert titled_edges(dot) == Counter({
        ("leaf (2, 3) float32", "mul (2, 3) float32"): 1,
        ("param (3,) float32", "mul (2, 3) float32"): 1,
        ("mul (2, 3) float32", "add (2, 3) float32"): 1,
        ("param () float32", "add (2, 3) float32"): 1,
        ("add (2, 3) float32", "sum () float32"): 1,
    })


def test_output_params_and_constants_are_styled_apart():
    _, _, _, out = small_graph()
    nodes, _ = parse(viz.to_dot(out))
    style = {lab[0]: attrs for lab, attrs in nodes.values()}
    assert "peripheries=2" in style["sum"]
    assert all("peripheries" not in a for t, a in style.items() if t != "sum")
    assert len({style["param"], style["leaf"], style["mul"]}) == 3


def test_tensor_used_twice_gives_two_edges_and_one_node():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    dot = viz.to_dot(x * x)
    nodes, edges = parse(dot)
    assert len(nodes) == 2
    assert titled_edges(dot) == Counter({("param (2,) float32", "mul (2,) float32"): 2})


def test_dtype_and_custom_function_name_appear():
    from custom_functions import Cube

    x = tg.tensor(np.ones((4, 1)), requires_grad=True)
    assert titled_edges(viz.to_dot(Cube.apply(x))) == Counter(
        {("param (4, 1) float64", "Cube (4, 1) float64"): 1})


def test_class_named_parameter_is_drawn_as_param():
    class Parameter(tg.Tensor):
        __slots__ = ()

    p = Parameter(np.zeros(2, dtype=np.float32))  # no requires_grad: the class alone decides
    nodes, _ = parse(viz.to_dot(p))
    assert [lab[0] for lab, _ in nodes.values()] == ["param"]


def test_leaf_alone_and_no_grad_results_are_single_leaves():
    x = tg.tensor([1.0])
    with tg.no_grad():
        y = tg.tensor([2.0], requires_grad=True) * 3
    for t in (x, y):
        nodes, edges = parse(viz.to_dot(t))
        assert [lab[0] for lab, _ in nodes.values()] == ["leaf"] and edges == []


def test_freed_graph_shows_freed_and_stops_there():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.sum().backward()
    nodes, edges = parse(viz.to_dot(y))
    assert [lab[0] for lab, _ in nodes.values()] == ["freed"] and edges == []
    # A new op on top of the freed node: drawn up to it, and nothing behind it.
    z = y * 3.0
    assert titled_edges(viz.to_dot(z)) == Counter({
        ("freed (2,) float32", "mul (2,) float32"): 1,  # 3.0 is an argument, not a node
    })


def test_retained_graph_is_drawn_whole():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.0).sum()
    before = viz.to_dot(y)
    y.backward(retain_graph=True)
    assert viz.to_dot(y) == before
    assert "freed" not in before


def test_show_data_adds_values_grad_and_op_arguments():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    y = (x * x).sum(axis=0)
    y.backward(retain_graph=True)
    nodes, _ = parse(viz.to_dot(y, show_data=True))
    labels = {lab[0]: lab for lab, _ in nodes.values()}
    assert "axis=(0,) keepdims=False" in labels["sum"]
    assert any(line.startswith("data [ 1., -2.]") for line in labels["param"])
    assert any(line.startswith("grad [ 2., -4.]") for line in labels["param"])
    big = tg.tensor(np.arange(100.0), requires_grad=True)
    (lab, _), = parse(viz.to_dot(big, show_data=True))[0].values()
    assert lab[-1] == "data min 0  mean 49.5  max 99"


def test_names_label_tensors_and_quotes_are_escaped():
    _, w, b, out = small_graph()
    dot = viz.to_dot(out, names={"w": w, 'b"1': b})
    nodes, _ = parse(dot)
    titles = {lab[0] for lab, _ in nodes.values()}
    assert {"param w", 'param b"1'} <= titles
    assert '\\"' in dot


def test_to_dot_rejects_non_tensors():
    with pytest.raises(TypeError, match="to_dot"):
        viz.to_dot(np.zeros(3))  # type: ignore[arg-type]


def test_a_chain_100000_ops_deep_exports_without_recursion():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = -y
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # anything recursive would fail long before the bottom
    try:
        dot = viz.to_dot(y)
    finally:
        sys.setrecursionlimit(limit)
    nodes, edges = parse(dot)
    assert len(nodes) == 100_001 and len(edges) == 100_000
    assert Counter(lab[0] for lab, _ in nodes.values()) == Counter({"neg": 100_000, "param": 1})


def _no_dot_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("dot") is None


def test_render_without_dot_says_how_to_install_it(monkeypatch, tmp_path):
    _no_dot_on_path(monkeypatch, tmp_path)
    _, _, _, out = small_graph()
    with pytest.raises(RuntimeError) as e:
        viz.render(out, tmp_path / "g.svg")
    msg = str(e.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz",
                 "to_dot"):
        assert hint in msg
    assert not (tmp_path / "g.svg").exists()


def test_render_without_dot_also_when_which_finds_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        viz.render(small_graph()[3], tmp_path / "g.png")


def test_render_needs_a_format(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        viz.render(small_graph()[3], tmp_path / "graph")


needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz 'dot' is not installed")


@needs_dot
def test_render_writes_svg_and_png(tmp_path):
    _, w, b, out = small_graph()
    svg = viz.render(out, tmp_path / "g.svg", names={"w": w, 'b"1': b}, show_data=True)
    text = svg.read_text()
    assert "<svg" in text and "matmul" not in text
    for word in ("sum", "add", "mul", "param w", "leaf"):
        assert f">{word}" in text, word
    png = viz.render(out, str(tmp_path / "g.PNG"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    forced = viz.render(out, tmp_path / "graph.out", format="svg")
    assert "<svg" in forced.read_text()


@needs_dot
def test_render_reports_dot_failures(tmp_path):
    with pytest.raises(RuntimeError, match="dot -Tnot-a-format failed"):
        viz.render(small_graph()[3], tmp_path / "g.not-a-format")


@needs_dot
def test_deep_graph_dot_text_is_valid_graphviz():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(50):
        y = tg.exp(-y) + x
    done = subprocess.run(["dot", "-Tcanon"], input=viz.to_dot(y).encode(), capture_output=True)
    assert done.returncode == 0, done.stderr
