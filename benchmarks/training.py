"""Benchmark 5: training to accuracy on the embedded digits.

A 64-64-10 ReLU MLP trained with plain SGD (lr 0.1, batch 32, 20 epochs) on the embedded
digits (``tensorgrad.data.load_digits``), standardised with the training statistics and
split 80/20 stratified by class. tensorgrad and the numpy reference start from the same
parameters and see the same batches in the same order; the wall time of the whole loop
(batching included, evaluation not) is compared and each one's test accuracy reported.
A hand-fused numpy step (`fused.py`) runs beside them as a floor: how far under the inline
reference numpy itself can go at this size.
JAX jit, when it imports, trains the same way in the frameworks' own process (as in
``mlp_step``), beside the reference timed again there.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from functools import partial
from typing import Any, Dict, List, Optional, Sequence, Tuple

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
    ratio,
)
from .fused import FusedNumpyContender
from .mlp_step import (
    FW_MARK,
    FW_PROCESS,
    JAX_JIT,
    MAIN_PROCESS,
    frameworks_in_subprocess,
    interpreter_note,
)

SIZES = (64, 64, 10)
LR = 0.1
BATCH = 32
EPOCHS = 20
SEED = 0
ACC_GOAL = 0.97
GOAL = 1.5
COMPILED_GOAL = 0.8  # issue 11: the compiled loop beats the hand-written one
REPEATS = {"tiny": 1, "quick": 3, "full": 7}


def digits(dtype: np.dtype) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)``: standardised features of ``dtype``."""
    from tensorgrad.data import load_digits, standardize, train_test_split

    X, y = load_digits(dtype=dtype)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=SEED, stratify=y)
    X_tr, X_te = standardize(X_tr, X_te)[:2]
    return X_tr.astype(dtype), y_tr.astype(np.int64), X_te.astype(dtype), y_te.astype(np.int64)


def batches(n: int, epochs: int) -> List[np.ndarray]:
    """Index arrays of every mini-batch of every epoch, reshuffled per epoch (fixed seed)."""
    rng = np.random.default_rng(SEED)
    out = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        out += [perm[i:i + BATCH] for i in range(0, n, BATCH)]
    return out


def train(factory: Any, params: C.Params, X: np.ndarray, y: np.ndarray,
          order: List[np.ndarray]) -> Any:
    """The timed loop: a fresh model from ``params``, one step per mini-batch."""
    model = factory(params, LR)
    for idx in order:
        model.step(*model.prepare(X[idx], y[idx]))
    return model


def _train_and_score(factory: Any, params: C.Params, data: Tuple[np.ndarray, ...],
                     order: List[np.ndarray], acc: Dict[str, float], name: str) -> None:
    """One timed repeat: train from scratch, then store the test accuracy in ``acc``."""
    X_tr, y_tr, X_te, y_te = data
    model = train(factory, params, X_tr, y_tr, order)
    acc[name] = float((model.predict(X_te) == y_te).mean())


def _measure(factories: Dict[str, Any], loop_mode: Mode, dtypes: Sequence[str], epochs: int,
             process: str) -> List[Dict[str, Any]]:
    """Time the training loop of every contender of ``factories`` (the reference among them)
    in this process; rows tagged with ``process``, ratios to the reference timed here (None
    when it is not among them).
    Contenders on numpy are interleaved; one with a ``runtime`` of its own (JAX) is timed in
    a group of its own (see ``mlp_step._measure``)."""
    from tensorgrad.reference import init_params

    results: List[Dict[str, Any]] = []
    for dtype_name in dtypes:
        log(f"  training {dtype_name}: {epochs} epochs")
        dtype = np.dtype(dtype_name)
        data = digits(dtype)
        params = init_params(SIZES, seed=SEED, dtype=dtype)
        order = batches(len(data[0]), epochs)
        acc: Dict[str, float] = {}
        groups: Dict[str, Dict[str, Any]] = {}
        for name, f in factories.items():
            groups.setdefault(getattr(f, "runtime", "numpy"), {})[name] = partial(
                _train_and_score, f, params, data, order, acc, name)
        timings = {}
        for group in groups.values():
            timings.update(compare(group, loop_mode))
        ref_t = timings.get(C.ReferenceContender.name)
        for name, t in timings.items():
            results.append({"dtype": dtype_name, "contender": name, "process": process,
                            "epochs": epochs, "steps": len(order), "test_accuracy": acc[name],
                            **t.to_dict(), "ratio_vs_reference": ratio(t, ref_t)})
    return results


def _loop_mode(mode: Mode) -> Mode:
    return Mode("training", repeat=REPEATS.get(mode.name, 3), block_time=0.0, warmup=1)


def measure_frameworks(mode: Mode, dtypes: Sequence[str], epochs: int, threads: int,
                       modules: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """What the frameworks' process measures for this benchmark
    (``python -m benchmarks.frameworks_worker --benchmark training``): the training loop of
    JAX jit, when it imports, beside the numpy reference's timed again here. Returns a
    JSON-able dict with ``results`` (``process`` = ``"frameworks"``), ``notes``, ``ran``
    and ``blas``."""
    from . import frameworks as F
    from .common import blas_info

    found, notes = F.available(threads, full=False, modules=modules)
    # Only JAX jit has a training-loop adapter (predict, no wait after each step).
    optional = {name: F.JaxJitTrainingContender for name in found
                if name == F.JaxJitContender.name}
    notes = [n for n in notes if n.startswith(F.JaxJitContender.name)]
    results: List[Dict[str, Any]] = []
    if optional:
        # The reference first, for every dtype, before JAX starts its thread pool (see
        # mlp_step.measure_frameworks); JAX's ratio is to that.
        epochs = mode.count(epochs)
        results = _measure({C.ReferenceContender.name: C.ReferenceContender},
                           _loop_mode(mode), dtypes, epochs, FW_PROCESS)
        refs = {r["dtype"]: r["median"] for r in results}
        for r in _measure(optional, _loop_mode(mode), dtypes, epochs, FW_PROCESS):
            r["ratio_vs_reference"] = r["median"] / refs[r["dtype"]]
            results.append(r)
    return {"results": results, "notes": notes, "ran": sorted(optional), "blas": blas_info()}


def run(mode: Mode, dtypes: Sequence[str], epochs: int = EPOCHS, frameworks: bool = False,
        threads: int = 2, framework_modules: Optional[Sequence[str]] = None,
        frameworks_python: Optional[str] = None) -> Section:
    """Train every contender; with ``frameworks`` (and JAX among ``framework_modules``,
    default all), JAX jit's loop is timed afterwards in the frameworks' own process
    (``frameworks_python`` or this interpreter), beside the reference timed again there."""
    t_start = time.perf_counter()
    factories, notes = C.core_factories()
    factories[FusedNumpyContender.name] = FusedNumpyContender  # a floor, not a target
    n_epochs = mode.count(epochs)
    results = _measure(factories, _loop_mode(mode), dtypes, n_epochs, MAIN_PROCESS)
    if frameworks and (framework_modules is None or "jax" in framework_modules):
        if not frameworks_python and importlib.util.find_spec("jax") is None:
            notes.append(f"jax (jit) skipped: not installed for {sys.executable} "
                         "(--frameworks-python names an interpreter that has it).")
        else:
            log("  training: JAX jit in a fresh process "
                f"({frameworks_python or sys.executable})")
            try:
                fw = frameworks_in_subprocess(mode, dtypes, (), threads, ["jax"],
                                              frameworks_python, benchmark="training",
                                              extra=["--epochs", str(epochs)])
            except Exception as e:  # optional: report, keep this process's figures
                notes.append(f"JAX jit training failed in its own process: {e}")
            else:
                results += fw.pop("results")
                notes += fw.pop("notes")
                notes.append("† Timed in a separate fresh process after everything here, "
                             "with the numpy reference timed again there first (before JAX "
                             "starts its thread pool); its ratio is to that reference. JAX's "
                             "loop does not wait after each step (as a JAX user writes it); "
                             "the final predict waits.")
                notes.append(interpreter_note(fw))
    rows, targets = [], []
    for r in results:
        main = r["process"] == MAIN_PROCESS
        name = r["contender"] + ("" if main else FW_MARK)
        t = Timing(r["median"], r["min"], r["max"], r["number"], r["repeat"])
        rows.append([r["dtype"], name, fmt_timing(t), fmt_ratio(r["ratio_vs_reference"]),
                     f"{r['test_accuracy']:.2%}"])
        if main and r["contender"] not in (C.ReferenceContender.name,
                                           FusedNumpyContender.name):
            x = r["ratio_vs_reference"]
            goal = COMPILED_GOAL if r["contender"] == C.TensorgradCompiledContender.name else GOAL
            targets.append(Target(f"training time ({r['dtype']}, {r['contender']})",
                                  f"<= {goal:.2f}x reference", fmt_ratio(x),
                                  x is not None and x <= goal,
                                  score=None if x is None else x / goal))
    for dtype_name in dtypes:
        acc = {r["contender"]: r["test_accuracy"] for r in results
               if r["dtype"] == dtype_name and r["process"] == MAIN_PROCESS}
        targets.append(Target(f"test accuracy after {n_epochs} epochs ({dtype_name})",
                              f">= {ACC_GOAL:.0%} for every contender",
                              ", ".join(f"{n} {a:.2%}" for n, a in acc.items()),
                              all(a >= ACC_GOAL for a in acc.values())
                              if n_epochs == EPOCHS else None,
                              "" if n_epochs == EPOCHS else "too few epochs in this mode to judge"))
    versus, summary = _versus_jax(results)
    targets += versus
    md = md_table(["dtype", "contender", f"{n_epochs} epochs wall time", "vs reference",
                   "test accuracy"], rows)
    config = {"sizes": SIZES, "lr": LR, "batch": BATCH, "epochs": n_epochs, "seed": SEED,
              "split": "80/20 stratified", "features": "standardised with train statistics"}
    return Section("training", f"Training a {'-'.join(map(str, SIZES))} MLP on the embedded "
                   f"digits (SGD lr {LR}, batch {BATCH}, {n_epochs} epochs)",
                   {"config": config, "results": results}, md, targets, notes,
                   seconds=time.perf_counter() - t_start, summary=summary)


def _versus_jax(results: List[Dict[str, Any]]) -> Tuple[List[Target], List[str]]:
    """Issue 11's "compiled ahead of JAX jit", for the float32 training loop: tg.compile's
    ratio to this process's reference against JAX jit's to the frameworks' process's.
    Returns the target and a line for the terminal summary (none without both rows)."""
    def find(process: str, contender: str) -> Optional[Dict[str, Any]]:
        return next((r for r in results if r["dtype"] == "float32" and r["process"] == process
                     and r["contender"] == contender), None)

    compiled = find(MAIN_PROCESS, C.TensorgradCompiledContender.name)
    jax_row = find(FW_PROCESS, JAX_JIT)
    if compiled is None or jax_row is None:
        return [], []
    x, y = compiled["ratio_vs_reference"], jax_row["ratio_vs_reference"]
    ok = x is not None and y is not None and x < y
    target = Target("training time (float32), compiled ahead of JAX jit",
                    "tg.compile ratio < JAX jit's",
                    f"tg.compile {fmt_ratio(x)} vs JAX jit {fmt_ratio(y)} reference",
                    ok, score=None if x is None or not y else x / y)
    return [target], [f"Digits training, float32: tg.compile {fmt_ratio(x)}, JAX jit "
                      f"{fmt_ratio(y)} (each of its process's reference): "
                      + ("ahead" if ok else "NOT ahead")]
