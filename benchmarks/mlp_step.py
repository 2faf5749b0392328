"""Benchmark 1: one MLP training step (forward, softmax cross-entropy, backward, SGD).

Network 784-256-128-10 with ReLU, random data from a fixed seed, batch 1, 32, 256 and
2048, float32 and float64. Contenders: tensorgrad, the hand-derived numpy reference, the
"GEMM floor" (only the 8 matrix products a step needs, into preallocated outputs) and any
optional framework that imports. Before timing, every contender takes one step from the
same parameters and its update is checked against the reference's.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import contenders as C
from .common import (
    Mode,
    Section,
    Target,
    Timing,
    compare,
    fmt_ratio,
    fmt_timing,
    log,
    md_table,
    paired_ratio,
    ratio,
)

SIZES = (784, 256, 128, 10)
BATCHES = (1, 32, 256, 2048)
LR = 0.01
SEED = 0
FLOOR = "GEMM floor"
REF = C.ReferenceContender.name
TG_NAMES = (C.TensorgradContender.name, C.TensorgradNNContender.name)

# Largest tensorgrad / reference ratio the issue allows, by batch size.
GOALS = {1: 1.0, 32: 1.25, 256: 1.05, 2048: 1.05}


# --------------------------------------------------------------------------- GEMM floor


class GemmFloor:
    """The matrix products of one step and nothing else, into preallocated outputs.

    For sizes (n0, n1, n2, n3) and batch N: forward ``Z^l = A^{l-1} W^l`` (3 products),
    ``dA^l = dZ^{l+1} (W^{l+1})^T`` for l = 1, 2 (2 products) and ``dW^l = (A^{l-1})^T dZ^l``
    (3 products). Operands hold fixed random values (what they contain does not change the
    cost of a product). At batch 1 the ``dW`` products are outer products, for which
    ``choose_outer`` picks the fastest numpy path.
    """

    def __init__(self, sizes: Sequence[int], batch: int, dtype: np.dtype, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)

        def rand(*shape: int) -> np.ndarray:
            return rng.standard_normal(shape).astype(dtype)

        n = list(sizes)
        L = len(n) - 1
        self.A = [rand(batch, n[i]) for i in range(L)]  # A^0 = X .. A^{L-1}
        self.W = [rand(n[i], n[i + 1]) for i in range(L)]
        self.dZ = [rand(batch, n[i + 1]) for i in range(L)]
        Z = [np.empty((batch, n[i + 1]), dtype) for i in range(L)]
        dA = [np.empty((batch, n[i]), dtype) for i in range(1, L)]
        self.dW = [np.empty((n[i], n[i + 1]), dtype) for i in range(L)]
        self.batch = batch
        self.products: List[Callable[[], Any]] = []
        for i in range(L):
            self.products.append(_mm(self.A[i], self.W[i], Z[i]))
        for i in range(1, L):
            self.products.append(_mm(self.dZ[i], self.W[i].T, dA[i - 1]))
        self.outer: Dict[int, str] = {}
        for i in range(L):
            self.products.append(_mm(self.A[i].T, self.dZ[i], self.dW[i]))
            self.outer[len(self.products) - 1] = "matmul"

    def choose_outer(self, mode: Mode) -> Dict[str, str]:
        """At batch 1, time each way of forming each outer product ``dW`` and keep the
        fastest. Returns the choice per layer."""
        if self.batch != 1:
            return {}
        chosen = {}
        for layer, idx in enumerate(sorted(self.outer), start=1):
            a, g, out = self.A[layer - 1], self.dZ[layer - 1], self.dW[layer - 1]
            ways: Dict[str, Callable[[], Any]] = {
                "matmul": _mm(a.T, g, out),
                "broadcast multiply": partial(np.multiply, a.T, g, out=out),
                "multiply.outer": partial(np.multiply.outer, a[0], g[0], out=out),
            }
            times = compare(ways, mode)
            best = min(times, key=lambda k: times[k].median)
            self.products[idx] = ways[best]
            self.outer[idx] = best
            chosen[f"dW{layer}"] = best
        return chosen

    def step(self) -> None:
        for p in self.products:
            p()


def _mm(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> Callable[[], Any]:
    return lambda: np.matmul(a, b, out=out)


# --------------------------------------------------------------------------- the run


def make_batch(batch: int, dtype: np.dtype, seed: int = SEED) -> Tuple[np.ndarray, np.ndarray]:
    """Standard-normal inputs ``(batch, 784)`` of ``dtype`` and int64 labels ``(batch,)``."""
    rng = np.random.default_rng([seed, batch])
    X = rng.standard_normal((batch, SIZES[0]), dtype=dtype)
    y = rng.integers(0, SIZES[-1], size=batch).astype(np.int64)
    return X, y


def _one_step_check(factory: Any, params: C.Params, X: np.ndarray, y: np.ndarray,
                    ref_after: Any) -> float:
    c = factory(params, LR)
    c.step(*c.prepare(X, y))
    return C.agreement(c, ref_after, params)


def run(mode: Mode, dtypes: Sequence[str], batches: Sequence[int] = BATCHES,
        frameworks: bool = True, threads: int = 2) -> Section:
    """Time every contender at every batch size and dtype; see the module docstring."""
    from tensorgrad.reference import init_params

    t_start = time.perf_counter()
    factories, notes = C.core_factories()
    optional: Dict[str, Any] = {}
    if frameworks:
        from . import frameworks as F

        optional, fw_notes = F.available(threads, full=mode.name == "full")
        notes += fw_notes
    else:
        notes.append("optional frameworks not run (--no-frameworks).")
    factories.update(optional)

    results: List[Dict[str, Any]] = []
    floor_choices: Dict[str, Dict[str, str]] = {}
    broken: Dict[str, str] = {}
    for dtype_name in dtypes:
        dtype = np.dtype(dtype_name)
        for batch in batches:
            log(f"  mlp_step {dtype_name} batch {batch}")
            params = init_params(SIZES, seed=SEED, dtype=dtype)
            X, y = make_batch(batch, dtype)
            ref_after = C.ReferenceContender(params, LR)
            ref_after.step(X, y)
            fns: Dict[str, Callable[[], Any]] = {}
            agree: Dict[str, Optional[float]] = {}
            for name, factory in factories.items():
                if name in broken:
                    continue
                try:
                    agree[name] = _one_step_check(factory, params, X, y, ref_after)
                    c = factory(params, LR)
                    prepared = c.prepare(X, y)
                    fns[name] = partial(c.step, *prepared)
                except Exception as e:  # an optional or in-progress contender must not stop the run
                    if name in (REF, C.TensorgradContender.name):
                        raise
                    broken[name] = f"{type(e).__name__}: {e}"
                    notes.append(f"{name} failed at {dtype_name} batch {batch} and was "
                                 f"dropped: {broken[name]}")
            floor = GemmFloor(SIZES, batch, dtype)
            choice = floor.choose_outer(Mode("choose", repeat=5, block_time=mode.block_time / 5,
                                             warmup=1))
            if choice:
                floor_choices[dtype_name] = choice
            fns[FLOOR] = floor.step
            # Interleave only contenders on numpy's BLAS. PyTorch and XLA run their own thread
            # pools, whose threads spin-wait after each call; interleaved with OpenBLAS's on
            # few cores, each runtime would slow the other down.
            groups: Dict[str, Dict[str, Callable[[], Any]]] = {}
            for name, fn in fns.items():
                runtime = getattr(factories.get(name), "runtime", "numpy")
                groups.setdefault(runtime, {})[name] = fn
            timings: Dict[str, Timing] = {}
            together: Dict[str, str] = {}  # contender -> its timing group
            for runtime, group in groups.items():
                timings.update(compare(group, mode))
                together.update({name: runtime for name in group})
            for name, t in timings.items():
                tol = C.AGREE_TOL[dtype_name]
                err = agree.get(name)
                results.append({
                    "dtype": dtype_name, "batch": batch, "contender": name,
                    **t.to_dict(),
                    "ratio_vs_reference": ratio(t, timings.get(REF)),
                    "ratio_vs_reference_paired": paired_ratio(t, timings.get(REF))
                    if together.get(name) == together.get(REF) else None,
                    "ratio_vs_floor": ratio(t, timings[FLOOR]),
                    "update_rel_diff_vs_reference": err,
                    "agrees_with_reference": None if err is None else bool(err <= tol),
                })
    for r in results:
        if r["agrees_with_reference"] is False:
            notes.append(f"{r['contender']} ({r['dtype']}, batch {r['batch']}): its update "
                         f"differs from the reference's by {r['update_rel_diff_vs_reference']:.2e}"
                         " (relative); its time is not comparable.")
    notes.append("Contenders on numpy's BLAS (the reference, tensorgrad, the floor, MyGrad, "
                 "HIPS autograd) are timed with interleaved blocks; PyTorch and JAX, which "
                 "run their own thread pools, each in a group of their own right after, in "
                 "the same run.")
    notes.append("GEMM floor: the 8 matmuls of a step (3 forward, dA for layers 2 and 3, "
                 "3 dW) with np.matmul(..., out=); at batch 1 each dW outer product uses the "
                 "fastest of matmul / broadcast multiply / np.multiply.outer, measured in the "
                 f"same run: {floor_choices or 'not measured'}.")
    section = Section(
        name="mlp_step",
        title="MLP training step 784-256-128-10 (ReLU, softmax cross-entropy, SGD)",
        data={"config": {"sizes": SIZES, "batches": list(batches), "lr": LR, "seed": SEED,
                         "dtypes": list(dtypes)},
              "floor_outer_choice": floor_choices, "results": results},
        markdown="",
        notes=notes,
    )
    section.targets = _targets(results, dtypes, batches)
    section.markdown = _markdown(results, dtypes, batches)
    section.seconds = time.perf_counter() - t_start
    return section


def _targets(results: List[Dict[str, Any]], dtypes: Sequence[str],
             batches: Sequence[int]) -> List[Target]:
    out = []
    for batch in batches:
        goal = GOALS.get(batch)
        if goal is None:
            continue
        values, met, worst = [], True, None
        for dtype in dtypes:
            for r in results:
                if r["batch"] == batch and r["dtype"] == dtype and r["contender"] in TG_NAMES:
                    x = r["ratio_vs_reference"]
                    ok = x is not None and x <= goal and r["agrees_with_reference"] is not False
                    met = met and ok
                    if x is not None:
                        worst = x if worst is None else max(worst, x)
                    label = "" if r["contender"] == C.TensorgradContender.name else " (nn)"
                    values.append(f"{dtype}{label} {fmt_ratio(x)}")
        if values:
            out.append(Target(f"MLP step, batch {batch}", f"<= {goal:.2f}x reference",
                              ", ".join(values), met,
                              score=None if worst is None else worst / goal))
    return out


def _markdown(results: List[Dict[str, Any]], dtypes: Sequence[str],
              batches: Sequence[int]) -> str:
    parts = []
    names: List[str] = []
    for r in results:
        if r["contender"] not in names:
            names.append(r["contender"])
    for dtype in dtypes:
        cell = {(r["contender"], r["batch"]): r for r in results if r["dtype"] == dtype}
        rows = []
        for name in names:
            row = [name]
            for b in batches:
                if (name, b) not in cell:
                    row.append("n/a")
                    continue
                r = cell[(name, b)]
                t = Timing(r["median"], r["min"], r["max"], r["number"], r["repeat"])
                flag = " (disagrees!)" if r["agrees_with_reference"] is False else ""
                row.append(f"{fmt_timing(t)}<br>{fmt_ratio(r['ratio_vs_reference'])} ref, "
                           f"{fmt_ratio(r['ratio_vs_floor'])} floor{flag}")
            rows.append(row)
        parts.append(f"**{dtype}** — time per step, median (min .. max); "
                     "ratios of medians to the reference and to the GEMM floor\n\n"
                     + md_table(["contender"] + [f"batch {b}" for b in batches], rows))
    return "\n\n".join(parts)
