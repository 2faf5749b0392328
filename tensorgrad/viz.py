"""Pictures of the computation graph: Graphviz DOT text, and files rendered from it.

``to_dot(t)`` needs nothing but the standard library: it returns DOT source with one node per
tensor that `t` was computed from and an edge from each input to the tensor made from it, so
the picture reads in the direction the data flowed (inputs on top, `t` at the bottom).
``render(t, "graph.svg")`` pipes that text through the Graphviz ``dot`` program.

Node styles:

- op result: an ellipse labelled with the op's name (``mul``, ``matmul``, a `Function`
  subclass's class name ...);
- ``param``: a leaf that requires grad (an ``nn.Parameter`` or any ``requires_grad=True``
  leaf), a filled box; these are where ``backward()`` leaves ``.grad``;
- ``leaf``: a constant leaf (input data, a number that took part in an op), a plain box;
- ``freed``: a node whose graph a ``backward()`` without ``retain_graph`` has freed, dashed;
  its inputs are forgotten, so the picture stops there.

The output tensor gets a double border. Every label also gives the shape and dtype.

Examples:
    >>> import tensorgrad as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> print(to_dot((x * tg.tensor(3.0)).sum()), end="")
    digraph tensorgrad {
      node [fontname="Helvetica", fontsize=11];
      edge [arrowsize=0.7];
      n0 [label="sum\\n() float32", shape=ellipse, style=filled, fillcolor="#dbe9f6",
          peripheries=2];
      n1 [label="mul\\n(2,) float32", shape=ellipse, style=filled, fillcolor="#dbe9f6"];
      n2 [label="param\\n(2,) float32", shape=box, style="filled,rounded", fillcolor="#c9e7c3"];
      n3 [label="leaf\\n() float32", shape=box, style=rounded, color="#888888"];
      n1 -> n0;
      n2 -> n1;
      n3 -> n1;
    }
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import numpy as np

from .tensor import Tensor

__all__ = ["to_dot", "render"]

_STYLE = {
    "op": 'shape=ellipse, style=filled, fillcolor="#dbe9f6"',
    "param": 'shape=box, style="filled,rounded", fillcolor="#c9e7c3"',
    "leaf": 'shape=box, style=rounded, color="#888888"',
    "freed": 'shape=ellipse, style=dashed, color="#888888", fontcolor="#888888"',
}

_INSTALL_HINT = (
    "render: the Graphviz 'dot' program was not found on PATH. Install Graphviz "
    "(Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install graphviz`; conda: "
    "`conda install graphviz`), or use tensorgrad.viz.to_dot(tensor), which needs no "
    "Graphviz, and paste its text into any DOT viewer."
)


def _quote(text: str) -> str:
    """`text` as a DOT double-quoted string; newlines become DOT's centred line break."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def _kind(t: Any) -> str:
    if t._op is not None:
        return "freed" if t._inputs is None else "op"
    # Compared by class name so that drawing a graph never imports tensorgrad.nn.
    if t.requires_grad or any(c.__name__ == "Parameter" for c in type(t).__mro__):
        return "param"
    return "leaf"


def _summary(a: np.ndarray) -> str:
    """A few values of `a`, or its range when it is large."""
    if a.size <= 12:
        return np.array2string(a, precision=4, separator=", ", threshold=12)
    if a.dtype.kind in "fiu":
        return f"min {a.min():.4g}  mean {a.mean():.4g}  max {a.max():.4g}"
    return f"{a.size} values"


def _params_text(params: Optional[dict]) -> str:
    """The op's simple non-tensor arguments (axis, shape ...): numbers, strings, tuples."""
    simple = (bool, int, float, str, type(None))
    items = []
    for k, v in (params or {}).items():
        if isinstance(v, simple) or isinstance(v, tuple) and all(isinstance(e, simple) for e in v):
            items.append(f"{k}={v!r}")
    return " ".join(items)


def _label(t: Any, kind: str, show_data: bool, name: Optional[str]) -> str:
    title = t._op.name if kind == "op" else kind
    if name is not None:
        title = f"{title} {name}"
    lines = [title, f"{tuple(t.data.shape)} {t.data.dtype}"]
    if show_data:
        if kind == "op" and type(t._params) is dict and "ctx" not in t._params:
            extra = _params_text(t._params)
            if extra:
                lines.insert(1, extra)
        lines.append("data " + _summary(t.data))
        if t.grad is not None:
            lines.append("grad " + _summary(np.asarray(t.grad)))
    return "\n".join(lines)


def to_dot(tensor: Tensor, show_data: bool = False,
           names: Optional[Mapping[str, Tensor]] = None) -> str:
    """Graphviz DOT source for the graph that produced `tensor`.

    One node per distinct tensor reachable from `tensor` through the recorded ops, labelled
    with its op name (or ``leaf`` / ``param`` / ``freed``, see the module docstring), its shape
    and dtype; one edge ``input -> output`` per input of each op (an op that uses the same
    tensor twice, like ``x * x``, has two edges from it). The walk uses an explicit stack, so a
    graph 100,000 ops deep is fine. Nothing is computed or freed.

    Args:
        tensor: any Tensor; a leaf gives a one-node graph.
        show_data: also print each tensor's values (a short summary for more than 12
            elements), its ``.grad`` when set, and the op's simple arguments (axis, shape ...).
        names: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) whose
            names are added to those tensors' labels.

    Returns:
        The DOT text, ending in a newline.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a tensorgrad Tensor, got {type(tensor).__name__}")
    label_of = {id(t): n for n, t in (names or {}).items()}
    ids: dict = {id(tensor): 0}
    # Keeps every visited tensor alive, so no id() can be reused during the walk.
    stack = [tensor]
    nodes: list = []
    edges: list = []
    while stack:
        t = stack.pop()
        me = ids[id(t)]
        kind = _kind(t)
        attrs = f"label={_quote(_label(t, kind, show_data, label_of.get(id(t))))}, {_STYLE[kind]}"
        if t is tensor:
            attrs += ", peripheries=2"
        nodes.append((me, f"  n{me} [{attrs}];"))
        if kind != "op" or not t._inputs:
            continue
        fresh = []
        for p in t._inputs:
            if id(p) not in ids:
                ids[id(p)] = len(ids)
                fresh.append(p)
            edges.append(f"  n{ids[id(p)]} -> n{me};")
        # Reversed so that inputs are visited (and numbered) first-input first.
        stack.extend(reversed(fresh))
    nodes.sort()
    header = [
        "digraph tensorgrad {",
        '  node [fontname="Helvetica", fontsize=11];',
        "  edge [arrowsize=0.7];",
    ]
    return "\n".join(header + [line for _, line in nodes] + edges + ["}"]) + "\n"


def render(tensor: Tensor, path: Union[str, os.PathLike[str]], format: Optional[str] = None,
           show_data: bool = False, names: Optional[Mapping[str, Tensor]] = None) -> Path:
    """Draw the graph of `tensor` into an image file with Graphviz's ``dot`` program.

    Args:
        tensor: the output whose graph is drawn (see `to_dot`).
        path: the file to write; parent directories must exist.
        format: any output format ``dot`` knows (``"svg"``, ``"png"``, ``"pdf"`` ...);
            by default the suffix of `path`.
        show_data: as for `to_dot`.
        names: as for `to_dot`.

    Returns:
        `path` as a ``pathlib.Path``.

    Raises:
        RuntimeError: ``dot`` is not installed (the message says how to install it), or it
            failed (with its error output).
        ValueError: no `format` and `path` has no suffix.
    """
    out = Path(path)
    fmt = format if format is not None else out.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"render: cannot tell the image format of {str(out)!r}; give the "
                         "file a suffix such as .svg or .png, or pass format='svg'")
    text = to_dot(tensor, show_data=show_data, names=names)
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(_INSTALL_HINT)
    done = subprocess.run([exe, f"-T{fmt}", "-o", str(out)], input=text.encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot -T{fmt} failed (exit {done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")
    return out
