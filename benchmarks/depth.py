"""Benchmark 3: deep graphs.

``y = y * 1.0 + 0.0`` repeated 10,000 times on a scalar (20,000 recorded ops), forward and
backward, timed like everything else; in full mode also 1,000,000 repetitions (2,000,000
ops), which must simply work (the engine is iterative, so no ``RecursionError``) and whose
time is reported. Plain numpy doing the forward and the hand-written backward is timed
alongside for scale.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .common import (
    Mode,
    Section,
    Target,
    Timing,
    compare,
    fmt_ratio,
    fmt_time,
    fmt_timing,
    log,
    md_table,
    measure,
    ratio,
)

DEPTH = 10_000
DEEP = 1_000_000
GOAL_S = 0.080
RATIO_GOAL = 3.0  # issue 11: the same chain by hand in numpy, timed beside it


def chain(dtype: np.dtype, depth: int) -> float:
    """Build the chain from a fresh leaf, run backward, return d(y)/d(x) (which is 1)."""
    import tensorgrad as tg

    x = tg.tensor(np.asarray(1.0, dtype=dtype), requires_grad=True)
    y = x
    for _ in range(depth):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad is not None
    return float(x.grad)


def numpy_chain(dtype: np.dtype, depth: int) -> float:
    y = np.asarray(1.0, dtype=dtype)
    for _ in range(depth):
        y = y * 1.0 + 0.0
    g = np.asarray(1.0, dtype=dtype)
    for _ in range(depth):
        g = g * 1.0
    return float(g)


def run(mode: Mode, dtypes: Sequence[str], depth: int = DEPTH, deep: int = 0) -> Section:
    """``deep`` > 0 also runs that many repetitions once per repeat (full mode: 1,000,000)."""
    t_start = time.perf_counter()
    results: List[Dict[str, Any]] = []
    rows, targets, notes = [], [], []
    for dtype_name in dtypes:
        log(f"  depth {dtype_name}")
        dtype = np.dtype(dtype_name)
        if chain(dtype, depth) != 1.0:
            raise AssertionError("depth: the gradient of the chain should be exactly 1")
        timings = compare({"tensorgrad": partial(chain, dtype, depth),
                           "numpy": partial(numpy_chain, dtype, depth)}, mode)
        t, n = timings["tensorgrad"], timings["numpy"]
        results.append({"dtype": dtype_name, "depth": depth, "ops": 2 * depth,
                        "tensorgrad": t.to_dict(), "numpy": n.to_dict(),
                        "ratio": ratio(t, n)})
        rows.append([dtype_name, f"{depth:,} ({2 * depth:,} ops)", fmt_timing(t), fmt_timing(n),
                     fmt_ratio(ratio(t, n))])
        targets.append(Target(f"{depth:,}-deep chain ({dtype_name})",
                              f"<= {GOAL_S * 1e3:g} ms fwd+bwd", fmt_time(t.median),
                              t.median <= GOAL_S, score=t.median / GOAL_S))
        r = ratio(t, n)
        targets.append(Target(f"{depth:,}-deep chain vs numpy ({dtype_name})",
                              f"<= {RATIO_GOAL:g}x numpy, same arithmetic, same run",
                              fmt_ratio(r), r is not None and r <= RATIO_GOAL,
                              score=None if r is None else r / RATIO_GOAL))
    if deep:
        # One dtype is enough to show it works; each run takes seconds, so few repeats.
        dtype_name = dtypes[0]
        log(f"  depth {deep:,} {dtype_name}")
        deep_mode = Mode("deep", repeat=3, block_time=0.0, warmup=0)
        works, error = True, ""
        deep_t: Optional[Timing]
        try:
            deep_t = measure(partial(chain, np.dtype(dtype_name), deep), deep_mode)
        except Exception as e:  # reported, not raised: "works" is the thing measured
            works, error, deep_t = False, f"{type(e).__name__}: {e}", None
        results.append({"dtype": dtype_name, "depth": deep, "ops": 2 * deep, "works": works,
                        "error": error, "tensorgrad": deep_t.to_dict() if deep_t else None})
        rows.append([dtype_name, f"{deep:,} ({2 * deep:,} ops)", fmt_timing(deep_t), "-", "-"])
        targets.append(Target(f"{deep:,}-deep chain works", "no error",
                              f"works, {fmt_time(deep_t.median)}" if deep_t else error, works))
    else:
        notes.append(f"the {DEEP:,}-deep chain runs in full mode only.")
    md = md_table(["dtype", "depth", "tensorgrad fwd+bwd", "numpy fwd+bwd by hand", "ratio"],
                  rows)
    return Section("depth", "Deep graph: y = y * 1.0 + 0.0 repeated, forward + backward",
                   {"results": results}, md, targets, notes,
                   seconds=time.perf_counter() - t_start)
