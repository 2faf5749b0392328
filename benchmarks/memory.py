"""Benchmark 4: memory.

Peak resident memory of the MLP step at batch 2048, each case in a fresh interpreter
(``memory_case.py``), tensorgrad against the numpy reference. The peak of an interpreter
that only imports the same modules (the baseline) is measured the same way; both the raw
peaks and the net peaks (raw minus baseline) are reported, and the target is judged on the
net ones, which are what the step itself costs. The peak is ``VmHWM`` on Linux and
``ru_maxrss`` elsewhere (both are in the JSON): Linux counts the parent's resident size into
a child's ``ru_maxrss``, which would count this runner in.

Then the live Tensor count: after 1000 training steps (batch 32) the number of Tensor
objects that ``gc.get_objects()`` finds must equal its count before them. It is also counted
with the cyclic garbage collector switched off during the steps, which shows whether the
graph of a step is freed by reference counting alone (no reference cycles).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from typing import Any, Dict, List, Sequence

import numpy as np

from . import contenders as C
from .common import ROOT, Mode, Section, Target, fmt_bytes, fmt_ratio, log, md_table

BATCH = 2048
LEAK_BATCH = 32
LEAK_STEPS = 1000
GOAL = 1.15
STEPS = {"tiny": 2, "quick": 10, "full": 30}
REPEATS = {"tiny": 1, "quick": 3, "full": 5}


def _run_case(case: str, dtype: str, batch: int, steps: int) -> Dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_case", case, dtype, str(batch), str(steps)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory case {case!r} ({dtype}) failed:\n{proc.stderr[-2000:]}")
    out: Dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    # VmHWM where the OS has it: ru_maxrss would include this (large) parent's size.
    out["peak_bytes"] = out["vmhwm_bytes"] or out["maxrss_bytes"]
    out["peak_source"] = "VmHWM" if out["vmhwm_bytes"] else "ru_maxrss"
    return out


def count_tensors() -> int:
    """Tensor objects the garbage collector can see (every Tensor is GC-tracked)."""
    from tensorgrad import Tensor

    with warnings.catch_warnings():
        # isinstance() on some of PyTorch's deprecated module attributes warns
        warnings.simplefilter("ignore")
        return sum(1 for o in gc.get_objects() if isinstance(o, Tensor))


def leak_check(factory: Any, dtype: np.dtype, steps: int) -> Dict[str, int]:
    """Tensor counts before and after ``steps`` training steps of a fresh contender."""
    from tensorgrad.reference import init_params

    from .mlp_step import LR, SEED, SIZES, make_batch

    c = factory(init_params(SIZES, seed=SEED, dtype=dtype), LR)
    prepared = c.prepare(*make_batch(LEAK_BATCH, dtype))
    c.step(*prepared)  # the first step creates optimizer state and caches: not a leak
    gc.collect()
    before = count_tensors()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(steps):
            c.step(*prepared)
        without_gc = count_tensors()
    finally:
        if enabled:
            gc.enable()
    gc.collect()
    after = count_tensors()
    return {"before": before, "after": after, "after_without_gc": without_gc, "steps": steps}


def run(mode: Mode, dtypes: Sequence[str]) -> Section:
    t_start = time.perf_counter()
    factories, notes = C.core_factories()
    cases = ["baseline"] + list(factories)
    steps, repeats = STEPS.get(mode.name, 10), REPEATS.get(mode.name, 3)
    rss_rows, leak_rows, targets = [], [], []
    rss_results: List[Dict[str, Any]] = []
    leak_results: List[Dict[str, Any]] = []
    for dtype in dtypes:
        log(f"  memory {dtype}: {len(cases)} cases x {repeats} fresh interpreters")
        peaks: Dict[str, List[int]] = {c: [] for c in cases}
        maxrss: Dict[str, List[int]] = {c: [] for c in cases}
        source = "ru_maxrss"
        for _ in range(repeats):  # interleaved, like the timings
            for case in cases:
                got = _run_case(case, dtype, BATCH, steps)
                peaks[case].append(got["peak_bytes"])
                maxrss[case].append(got["maxrss_bytes"])
                source = got["peak_source"]
        med = {c: statistics.median(v) for c, v in peaks.items()}
        base = med["baseline"]
        ref_net = med[C.ReferenceContender.name] - base
        for case in cases:
            net = med[case] - base
            r = net / ref_net if case != "baseline" and ref_net > 0 else None
            rss_results.append({"dtype": dtype, "case": case, "batch": BATCH, "steps": steps,
                                "peak_source": source,
                                "raw_bytes_median": med[case], "raw_bytes": peaks[case],
                                "ru_maxrss_bytes": maxrss[case],
                                "net_bytes": net if case != "baseline" else None,
                                "net_ratio_vs_reference": r,
                                "raw_ratio_vs_reference":
                                    med[case] / med[C.ReferenceContender.name]})
            rss_rows.append([dtype, case, fmt_bytes(med[case]),
                             f"{fmt_bytes(min(peaks[case]))} .. {fmt_bytes(max(peaks[case]))}",
                             "-" if case == "baseline" else fmt_bytes(net),
                             "-" if case == "baseline" else
                             f"{fmt_ratio(r)} net, "
                             f"{fmt_ratio(med[case] / med[C.ReferenceContender.name])} raw"])
            if case in (C.TensorgradContender.name, C.TensorgradNNContender.name):
                raw_r = med[case] / med[C.ReferenceContender.name]
                targets.append(Target(f"peak RSS, MLP step batch {BATCH} ({dtype}, {case})",
                                      f"<= {GOAL:.2f}x reference (net of baseline)",
                                      f"{fmt_ratio(r)} net ({fmt_bytes(net)} vs "
                                      f"{fmt_bytes(ref_net)}); {fmt_ratio(raw_r)} raw",
                                      r is not None and r <= GOAL,
                                      score=None if r is None else r / GOAL))
        leak_steps = mode.count(LEAK_STEPS, minimum=20)
        for name, factory in factories.items():
            if name == C.ReferenceContender.name:
                continue
            log(f"  memory {dtype}: Tensor count over {leak_steps} steps ({name})")
            counts = leak_check(factory, np.dtype(dtype), leak_steps)
            leak_results.append({"dtype": dtype, "contender": name, "batch": LEAK_BATCH,
                                 **counts})
            leak_rows.append([dtype, name, str(counts["before"]), str(counts["after"]),
                              str(counts["after_without_gc"])])
            targets.append(Target(f"no Tensor leak ({dtype}, {name})",
                                  "live Tensors after the steps == before",
                                  f"{counts['before']} before, {counts['after']} after "
                                  f"{counts['steps']} steps ({counts['after_without_gc']} "
                                  "with gc off)",
                                  counts["after"] == counts["before"]))
    md = (f"Peak RSS ({source}), MLP step 784-256-128-10 at batch {BATCH}, {steps} steps, "
          f"median of {repeats} fresh interpreters; net = minus the baseline (interpreter + "
          "imports)\n\n"
          + md_table(["dtype", "case", "peak RSS (median)", "min .. max", "net of baseline",
                      "vs reference"], rss_rows)
          + f"\n\nLive Tensor objects (gc.get_objects) around the training steps, batch "
            f"{LEAK_BATCH}\n\n"
          + md_table(["dtype", "contender", "before", "after (gc.collect)",
                      "after, gc disabled during the steps"], leak_rows))
    notes.append("'after, gc disabled' equal to 'before' means each step's graph is freed by "
                 "reference counting alone, with no cycles left for the collector.")
    return Section("memory", "Memory: peak RSS and live Tensor count",
                   {"rss": rss_results, "tensor_count": leak_results}, md, targets, notes,
                   seconds=time.perf_counter() - t_start)
