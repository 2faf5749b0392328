"""The graphs pictured in the docs, drawn from real tensorgrad code.

    python docs/graphs.py      # writes docs/img/<name>.dot, and <name>.svg when Graphviz is here

The pages include the code between the ``--8<--`` markers (pymdownx.snippets), and
tests/test_docs.py checks that every committed .dot file is what this code draws today.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

try:
    import tensorgrad as tg
except ImportError:  # run from a checkout without installing: use the tree next to docs/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import tensorgrad as tg
import tensorgrad.nn as nn


def neuron() -> tuple:
    # --8<-- [start:neuron]
    x = tg.tensor([[1.0, 2.0, 3.0]])  # input data: a constant leaf
    w = tg.tensor([[0.2], [-0.4], [0.1]], requires_grad=True)  # parameters
    b = tg.tensor([0.1], requires_grad=True)
    y = tg.tensor([[1.0]])
    loss = ((tg.tanh(x @ w + b) - y) ** 2).mean()
    # --8<-- [end:neuron]
    return loss, {"w": w, "b": b}


def fan_out() -> tuple:
    # --8<-- [start:fan_out]
    x = tg.tensor(2.0, requires_grad=True)
    u = x * x  # x is used twice here ...
    v = tg.sin(x)  # ... and once more here
    f = u + v
    # --8<-- [end:fan_out]
    return f, {"x": x}


def mlp() -> tuple:
    # --8<-- [start:mlp]
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    xb = tg.tensor(np.ones((5, 4), dtype=np.float32))
    yb = tg.tensor(np.array([0, 1, 1, 0, 1]))
    loss = nn.CrossEntropyLoss()(model(xb), yb)
    # --8<-- [end:mlp]
    return loss, dict(model.named_parameters())


def second_order() -> tuple:
    # --8<-- [start:second_order]
    a = tg.tensor(3.0, requires_grad=True)
    cube = a ** 3
    (da,) = tg.grad(cube, a, create_graph=True)  # da = 3 a^2, itself a recorded graph
    # --8<-- [end:second_order]
    return da, {"a": a}


def freed() -> tuple:
    # --8<-- [start:freed]
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    h = tg.exp(p)
    h.sum().backward()  # frees the graph behind h
    out = h * 2.0  # a new op on top of the freed node
    # --8<-- [end:freed]
    return out, {"p": p}


PICTURES = {
    "neuron": neuron,
    "fan_out": fan_out,
    "mlp": mlp,
    "second_order": second_order,
    "freed": freed,
}


def pictures() -> dict:
    """{name: DOT text} of every pictured graph."""
    out = {}
    for name, build in PICTURES.items():
        tensor, names = build()
        out[name] = tg.viz.to_dot(tensor, names=names)
    return out


def main() -> None:
    img = Path(__file__).resolve().parent / "img"
    img.mkdir(exist_ok=True)
    have_dot = shutil.which("dot") is not None
    for name, build in PICTURES.items():
        tensor, names = build()
        (img / f"{name}.dot").write_text(tg.viz.to_dot(tensor, names=names))
        if have_dot:
            tg.viz.render(tensor, img / f"{name}.svg", names=names)
        print(f"wrote {img / name}.dot" + (" and .svg" if have_dot else " (no Graphviz: no .svg)"))


if __name__ == "__main__":
    main()
