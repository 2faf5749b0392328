"""Benchmark 2: per-op overhead of the autograd machinery.

A chain of 1000 elementwise ops (alternating ``y = y * 1.0001`` and ``y = y + 0.001``) on a
``(4,)`` tensor, forward and backward, divided by the number of ops; against plain numpy
doing the same arithmetic: the forward chain, then the backward by hand (the gradient times
1.0001 for each multiplication; an addition passes it through). On arrays this small the
arithmetic is nearly free, so the difference is what tensorgrad adds per op: building the
Tensor, recording the node, ordering the graph and running the gradient rule.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Dict, Sequence

import numpy as np

from .common import (
    Mode,
    Section,
    Target,
    compare,
    fmt_ratio,
    fmt_time,
    fmt_timing,
    log,
    md_table,
    ratio,
)

N_OPS = 1000
SHAPE = (4,)
GOAL_US = 4.0
RATIO_GOAL = 3.0  # issue 11: the ratio to numpy doing the same arithmetic in the same run


def tensorgrad_chain(x: Any, n_ops: int, seed: np.ndarray) -> None:
    """Forward and backward of the chain from the leaf ``x`` (its ``.grad`` is reset first)."""
    x.grad = None
    y = x
    for _ in range(n_ops // 2):
        y = y * 1.0001
        y = y + 0.001
    y.backward(seed)


def numpy_chain(x: np.ndarray, n_ops: int, seed: np.ndarray) -> np.ndarray:
    """The same arithmetic in numpy: forward chain, then dL/dx by hand."""
    y = x
    for _ in range(n_ops // 2):
        y = y * 1.0001
        y = y + 0.001
    g = seed
    for _ in range(n_ops // 2):
        g = g * 1.0001  # d(y * c)/dy = c; d(y + c)/dy = 1 needs no work
    return g


def run(mode: Mode, dtypes: Sequence[str], n_ops: int = N_OPS) -> Section:
    import tensorgrad as tg

    t_start = time.perf_counter()
    results = []
    targets = []
    rows = []
    for dtype_name in dtypes:
        log(f"  per_op {dtype_name}")
        dtype = np.dtype(dtype_name)
        x0 = np.linspace(0.5, 2.0, SHAPE[0]).astype(dtype)
        seed = np.ones(SHAPE, dtype=dtype)
        x = tg.tensor(x0, requires_grad=True)
        # Same gradient from both, or the comparison is not of the same work.
        tensorgrad_chain(x, n_ops, seed)
        expected = numpy_chain(x0, n_ops, seed)
        assert x.grad is not None
        np.testing.assert_allclose(x.grad, expected, rtol=1e-5)
        timings = compare({"tensorgrad": partial(tensorgrad_chain, x, n_ops, seed),
                           "numpy": partial(numpy_chain, x0, n_ops, seed)}, mode)
        tg_t, np_t = timings["tensorgrad"], timings["numpy"]
        per_op = tg_t.median / n_ops
        overhead = (tg_t.median - np_t.median) / n_ops
        results.append({
            "dtype": dtype_name, "n_ops": n_ops, "shape": list(SHAPE),
            "tensorgrad": tg_t.to_dict(), "numpy": np_t.to_dict(),
            "tensorgrad_per_op_s": per_op, "numpy_per_op_s": np_t.median / n_ops,
            "overhead_per_op_s": overhead, "ratio": ratio(tg_t, np_t),
        })
        rows.append([dtype_name, fmt_timing(tg_t), fmt_timing(np_t), fmt_time(per_op),
                     fmt_time(np_t.median / n_ops), fmt_time(overhead),
                     fmt_ratio(ratio(tg_t, np_t))])
        targets.append(Target(f"per-op overhead ({dtype_name})", f"<= {GOAL_US:g} us per op",
                              f"{overhead * 1e6:.2f} us (tensorgrad {per_op * 1e6:.2f} us/op, "
                              f"numpy {np_t.median / n_ops * 1e6:.2f} us/op)",
                              overhead * 1e6 <= GOAL_US,
                              "overhead = (tensorgrad - numpy) / ops, forward + backward",
                              score=overhead * 1e6 / GOAL_US))
        r = ratio(tg_t, np_t)
        targets.append(Target(f"per-op fwd+bwd vs numpy ({dtype_name})",
                              f"<= {RATIO_GOAL:g}x numpy, same arithmetic, same run",
                              fmt_ratio(r), r is not None and r <= RATIO_GOAL,
                              score=None if r is None else r / RATIO_GOAL))
    md = md_table(["dtype", f"tensorgrad, {n_ops} ops fwd+bwd", "numpy, same arithmetic",
                   "tensorgrad per op", "numpy per op", "overhead per op", "ratio"], rows)
    data: Dict[str, Any] = {"config": {"n_ops": n_ops, "shape": list(SHAPE)}, "results": results}
    return Section("per_op", f"Per-op overhead: chain of {n_ops} elementwise ops on a (4,) "
                   "tensor, forward + backward", data, md, targets,
                   seconds=time.perf_counter() - t_start)
