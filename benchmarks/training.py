"""Benchmark 5: training to accuracy on the embedded digits.

A 64-64-10 ReLU MLP trained with plain SGD (lr 0.1, batch 32, 20 epochs) on the embedded
digits (``tensorgrad.data.load_digits``), standardised with the training statistics and
split 80/20 stratified by class. tensorgrad and the numpy reference start from the same
parameters and see the same batches in the same order; the wall time of the whole loop
(batching included, evaluation not) is compared and each one's test accuracy reported.
A hand-fused numpy step (`fused.py`) runs beside them as a floor: how far under the inline
reference numpy itself can go at this size.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from . import contenders as C
from .common import Mode, Section, Target, compare, fmt_ratio, fmt_timing, log, md_table, ratio
from .fused import FusedNumpyContender

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


def run(mode: Mode, dtypes: Sequence[str], epochs: int = EPOCHS) -> Section:
    from tensorgrad.reference import init_params

    t_start = time.perf_counter()
    factories, notes = C.core_factories()
    factories[FusedNumpyContender.name] = FusedNumpyContender  # a floor, not a target
    epochs = mode.count(epochs)
    loop_mode = Mode("training", repeat=REPEATS.get(mode.name, 3), block_time=0.0, warmup=1)
    results: List[Dict[str, Any]] = []
    rows, targets = [], []
    for dtype_name in dtypes:
        log(f"  training {dtype_name}: {epochs} epochs")
        dtype = np.dtype(dtype_name)
        data = digits(dtype)
        params = init_params(SIZES, seed=SEED, dtype=dtype)
        order = batches(len(data[0]), epochs)
        acc: Dict[str, float] = {}
        timings = compare({name: partial(_train_and_score, f, params, data, order, acc, name)
                           for name, f in factories.items()}, loop_mode)
        ref_t = timings[C.ReferenceContender.name]
        for name, t in timings.items():
            r = ratio(t, ref_t)
            results.append({"dtype": dtype_name, "contender": name, "epochs": epochs,
                            "steps": len(order), "test_accuracy": acc[name], **t.to_dict(),
                            "ratio_vs_reference": r})
            rows.append([dtype_name, name, fmt_timing(t), fmt_ratio(r), f"{acc[name]:.2%}"])
            if name not in (C.ReferenceContender.name, FusedNumpyContender.name):
                goal = COMPILED_GOAL if name == C.TensorgradCompiledContender.name else GOAL
                targets.append(Target(f"training time ({dtype_name}, {name})",
                                      f"<= {goal:.2f}x reference", fmt_ratio(r),
                                      r is not None and r <= goal,
                                      score=None if r is None else r / goal))
        targets.append(Target(f"test accuracy after {epochs} epochs ({dtype_name})",
                              f">= {ACC_GOAL:.0%} for every contender",
                              ", ".join(f"{n} {a:.2%}" for n, a in acc.items()),
                              all(a >= ACC_GOAL for a in acc.values())
                              if epochs == EPOCHS else None,
                              "" if epochs == EPOCHS else "too few epochs in this mode to judge"))
    md = md_table(["dtype", "contender", f"{epochs} epochs wall time", "vs reference",
                   "test accuracy"], rows)
    config = {"sizes": SIZES, "lr": LR, "batch": BATCH, "epochs": epochs, "seed": SEED,
              "split": "80/20 stratified", "features": "standardised with train statistics"}
    return Section("training", f"Training a {'-'.join(map(str, SIZES))} MLP on the embedded "
                   f"digits (SGD lr {LR}, batch {BATCH}, {epochs} epochs)",
                   {"config": config, "results": results}, md, targets, notes,
                   seconds=time.perf_counter() - t_start)
