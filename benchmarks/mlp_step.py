"""Benchmark 1: one MLP training step (forward, softmax cross-entropy, backward, SGD).

Network 784-256-128-10 with ReLU, random data from a fixed seed, batch 1, 32, 256 and
2048, float32 and float64. Contenders: tensorgrad, the hand-derived numpy reference, the
"GEMM floor" (only the 8 matrix products a step needs, into preallocated outputs) and any
optional framework that imports. Before timing, every contender takes one step from the
same parameters and its update is checked against the reference's.

The optional frameworks run in a fresh subprocess after everything else here
(``frameworks_worker.py``), which times the reference and the floor again beside them, so
that nothing they load or start (thread pools, allocations, libraries) can change how fast
numpy runs where tensorgrad and the reference are timed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from functools import partial
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import contenders as C
from .common import (
    ROOT,
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
COMPILED = C.TensorgradCompiledContender.name
MAIN_PROCESS = "main"
FW_PROCESS = "frameworks"  # rows timed in the frameworks' own subprocess
FW_MARK = " †"  # appended to the table label of those rows
FW_TIMEOUT = 1800.0  # seconds the frameworks' process may take before it is killed
FW_NOTE = ("† Timed in a separate fresh Python process, after everything in this one: "
           "the optional frameworks, with the numpy reference and the GEMM floor timed again "
           "there (rows 'numpy reference †' and 'GEMM floor †'). The ratios of a "
           "† row are to that process's reference and floor, never to this one's. In that "
           "process the reference, the floor, MyGrad and HIPS autograd (all on numpy's BLAS) "
           "are interleaved and timed first, at every size, before PyTorch or JAX start "
           "their thread pools (which slow numpy's BLAS down in the same process); PyTorch "
           "and JAX are then each timed in a group of their own.")

# Largest tensorgrad / reference ratio the issue allows, by batch size.
GOALS = {1: 1.0, 32: 1.25, 256: 1.05, 2048: 1.05}
# The same for the compiled step (issue 11), float32: faster than the hand-written step.
COMPILED_GOALS = {1: 0.4, 32: 0.8, 256: 0.95, 2048: 1.0}


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


def _measure(factories: Dict[str, Any], mode: Mode, dtypes: Sequence[str],
             batches: Sequence[int], notes: List[str], process: str
             ) -> Tuple[List[Dict[str, Any]], Dict[str, Dict[str, str]]]:
    """Check and time every contender of ``factories`` plus the GEMM floor at every dtype and
    batch, in this process. Returns the result rows (ratios to the reference and the floor
    timed here, each row tagged with ``process``) and the floor's outer-product choices.
    A contender other than the reference and tensorgrad that fails is dropped with a note."""
    from tensorgrad.reference import init_params

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
                    "dtype": dtype_name, "batch": batch, "contender": name, "process": process,
                    **t.to_dict(),
                    "ratio_vs_reference": ratio(t, timings.get(REF)),
                    "ratio_vs_reference_paired": paired_ratio(t, timings.get(REF))
                    if together.get(name) == together.get(REF) else None,
                    "ratio_vs_floor": ratio(t, timings[FLOOR]),
                    "update_rel_diff_vs_reference": err,
                    "agrees_with_reference": None if err is None else bool(err <= tol),
                })
    return results, floor_choices


def measure_frameworks(mode: Mode, dtypes: Sequence[str], batches: Sequence[int],
                       threads: int, modules: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """What the frameworks' process measures (``python -m benchmarks.frameworks_worker``):
    the optional frameworks that import (of ``modules``, default all), with the numpy
    reference and the GEMM floor timed again in this process, so that each framework's
    ratio compares two figures taken in the same process. Returns a JSON-able dict with
    ``results`` (rows as in :func:`run`, ``process`` = ``"frameworks"``), ``notes``,
    ``floor_outer_choice``, ``ran`` (the frameworks timed) and ``blas``.

    The contenders on numpy's BLAS (the reference, the floor, MyGrad, HIPS autograd) are
    timed first, at every size, before PyTorch or JAX start a thread pool: once started,
    those pools stay for the life of the process, and their threads could slow numpy's
    BLAS down and so flatter every ratio to a reference timed beside them. PyTorch and JAX
    come next, each framework's ratios taken to that first reference and floor."""
    from . import frameworks as F
    from .common import blas_info

    optional, notes = F.available(threads, full=mode.name == "full", modules=modules)
    results: List[Dict[str, Any]] = []
    choices: Dict[str, Dict[str, str]] = {}
    if optional:
        on_numpy = {n: f for n, f in optional.items() if not hasattr(f, "runtime")}
        pooled = {n: f for n, f in optional.items() if hasattr(f, "runtime")}
        results, choices = _measure({REF: C.ReferenceContender, **on_numpy}, mode, dtypes,
                                    batches, notes, FW_PROCESS)
        if pooled:
            # The reference is in again for the paired ratio's sake only; its second timing,
            # beside the pools, is dropped.
            later, _ = _measure({REF: C.ReferenceContender, **pooled}, mode, dtypes, batches,
                                notes, FW_PROCESS)
            base = {(r["dtype"], r["batch"], r["contender"]): r for r in results}
            for r in later:
                if r["contender"] in pooled:
                    ref = base[(r["dtype"], r["batch"], REF)]
                    floor = base[(r["dtype"], r["batch"], FLOOR)]
                    r["ratio_vs_reference"] = r["median"] / ref["median"]
                    r["ratio_vs_floor"] = r["median"] / floor["median"]
                    r["ratio_vs_reference_paired"] = None  # not timed beside that reference
                    results.append(r)
    return {"results": results, "notes": notes, "floor_outer_choice": choices,
            "ran": sorted(optional), "blas": blas_info()}


def frameworks_in_subprocess(mode: Mode, dtypes: Sequence[str], batches: Sequence[int],
                             threads: int, modules: Sequence[str],
                             python: Optional[str] = None, benchmark: str = "mlp_step",
                             extra: Sequence[str] = ()) -> Dict[str, Any]:
    """Run :func:`measure_frameworks` in a fresh interpreter (``python``, default this one's)
    and return what it measured. ``benchmark="training"`` (with ``extra`` worker arguments
    such as ``--epochs``) runs ``training.measure_frameworks`` there instead.

    The frameworks are never imported here: what they load and start stays in this process
    for good and may change how fast numpy runs in it, and with it every
    tensorgrad/reference ratio. The child's output is passed through to stderr as it comes.
    Raises RuntimeError when the child fails."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "frameworks.json"
        cmd = [python or sys.executable, "-m", "benchmarks.frameworks_worker",
               "--benchmark", benchmark, "--mode", mode.name, "--dtypes", ",".join(dtypes),
               "--batches", ",".join(map(str, batches)), "--threads", str(threads),
               "--modules", ",".join(modules), *extra, "--json-out", str(out)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        killer = threading.Timer(FW_TIMEOUT, proc.kill)  # a hung framework must not hang the run
        killer.start()
        tail: Deque[str] = deque(maxlen=20)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                tail.append(line)
                sys.stderr.write(f"    [frameworks' process] {line}")
            code = proc.wait()
        finally:
            killer.cancel()
        if code != 0 or not out.exists():
            raise RuntimeError(f"the frameworks' process exited with {code}:\n"
                               + "".join(tail)[-2000:])
        data: Dict[str, Any] = json.loads(out.read_text())
    data["seconds"] = time.perf_counter() - t0
    data["command"] = " ".join(cmd[:-2])  # without the temporary output path
    return data


def run(mode: Mode, dtypes: Sequence[str], batches: Sequence[int] = BATCHES,
        frameworks: bool = True, threads: int = 2,
        framework_modules: Optional[Sequence[str]] = None,
        frameworks_python: Optional[str] = None) -> Section:
    """Time every contender at every batch size and dtype; see the module docstring.

    tensorgrad, the reference and the floor are timed in this process. With ``frameworks``,
    the optional frameworks (those of ``framework_modules``, module names, default all)
    are timed afterwards in a fresh subprocess, never imported here; it runs
    ``frameworks_python`` (an interpreter whose environment has them) or this interpreter."""
    t_start = time.perf_counter()
    factories, notes = C.core_factories()
    results, floor_choices = _measure(factories, mode, dtypes, batches, notes, MAIN_PROCESS)
    fw_data: Dict[str, Any] = {}
    notes.append("tensorgrad, the reference and the GEMM floor are timed in this process with "
                 "interleaved blocks; no optional framework is ever imported into it.")
    if not frameworks:
        notes.append("optional frameworks not run (--no-frameworks).")
    else:
        from .frameworks import OPTIONAL

        wanted = list(dict.fromkeys(m for _, m in OPTIONAL
                                    if framework_modules is None or m in framework_modules))
        if frameworks_python:
            present = wanted  # only that interpreter can tell; it notes what fails to import
        else:
            # find_spec locates a package without importing it
            present = [m for m in wanted if importlib.util.find_spec(m) is not None]
            notes += [f"{m} skipped: not installed for {sys.executable} (--frameworks-python "
                      "names an interpreter that has it)." for m in wanted if m not in present]
        if present:
            log(f"  mlp_step: optional frameworks ({', '.join(present)}) in a fresh process "
                f"({frameworks_python or sys.executable})")
            try:
                fw_data = frameworks_in_subprocess(mode, dtypes, batches, threads, present,
                                                   frameworks_python)
            except Exception as e:  # the frameworks are optional: report, keep our figures
                notes.append(f"optional frameworks failed in their own process: {e}")
            else:
                fw_rows = fw_data.pop("results")
                results += fw_rows
                notes += fw_data.pop("notes")
                if fw_rows:
                    notes.append(FW_NOTE)
                notes.append(interpreter_note(fw_data))
    for r in results:
        if r["agrees_with_reference"] is False:
            notes.append(f"{r['contender']} ({r['dtype']}, batch {r['batch']}): its update "
                         f"differs from the reference's by {r['update_rel_diff_vs_reference']:.2e}"
                         " (relative); its time is not comparable.")
    notes.append("GEMM floor: the 8 matmuls of a step (3 forward, dA for layers 2 and 3, "
                 "3 dW) with np.matmul(..., out=); at batch 1 each dW outer product uses the "
                 "fastest of matmul / broadcast multiply / np.multiply.outer, measured in the "
                 f"same run: {floor_choices or 'not measured'}.")
    section = Section(
        name="mlp_step",
        title="MLP training step 784-256-128-10 (ReLU, softmax cross-entropy, SGD)",
        data={"config": {"sizes": SIZES, "batches": list(batches), "lr": LR, "seed": SEED,
                         "dtypes": list(dtypes)},
              "floor_outer_choice": floor_choices, "results": results,
              "frameworks_process": fw_data or None},
        markdown="",
        notes=notes,
    )
    jax_wanted = frameworks and (framework_modules is None or "jax" in framework_modules)
    versus, table, section.summary = _versus_jax(results, batches, jax_wanted)
    section.targets = _targets(results, dtypes, batches) + versus
    section.markdown = "\n\n".join(filter(None, [table, _markdown(results, dtypes, batches)]))
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
                if (r["batch"] == batch and r["dtype"] == dtype and r["contender"] in TG_NAMES
                        and r.get("process", MAIN_PROCESS) == MAIN_PROCESS):
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
    for batch in batches:
        goal = COMPILED_GOALS.get(batch)
        row = next((r for r in results if r["batch"] == batch and r["dtype"] == "float32"
                    and r["contender"] == COMPILED
                    and r.get("process", MAIN_PROCESS) == MAIN_PROCESS), None)
        if goal is None or row is None:
            continue
        x = row["ratio_vs_reference"]
        out.append(Target(f"MLP step, batch {batch}, compiled", f"<= {goal:.2f}x reference",
                          f"float32 {fmt_ratio(x)}", x is not None and x <= goal
                          and row["agrees_with_reference"] is not False,
                          score=None if x is None else x / goal))
    return out


JAX_JIT = "jax (jit)"


def _row(results: List[Dict[str, Any]], batch: int, contender: str,
         process: str) -> Optional[Dict[str, Any]]:
    """The float32 result row of ``contender`` timed in ``process`` at ``batch``, if any."""
    return next((r for r in results if r["batch"] == batch and r["dtype"] == "float32"
                 and r["contender"] == contender
                 and r.get("process", MAIN_PROCESS) == process), None)


def _versus_jax(results: List[Dict[str, Any]], batches: Sequence[int], jax_wanted: bool
                ) -> Tuple[List[Target], str, List[str]]:
    """Issue 11's "compiled ahead of JAX jit at every batch size in the same run", float32:
    per batch, tg.compile's ratio to this process's reference beside JAX jit's ratio to the
    frameworks' process's reference. Returns the targets, a markdown table and lines for
    the terminal summary (none of them when there is no compiled row; one target "not
    judged" when JAX was asked for but not timed)."""
    pairs = [(b, _row(results, b, COMPILED, MAIN_PROCESS), _row(results, b, JAX_JIT, FW_PROCESS))
             for b in batches]
    pairs = [(b, c, j) for b, c, j in pairs if c is not None]
    if not pairs:
        return [], "", []
    if all(j is None for _, _, j in pairs):
        if not jax_wanted:
            return [], "", []
        target = Target("MLP step, compiled ahead of JAX jit", "tg.compile ratio < JAX jit's",
                        "JAX jit not timed", None,
                        "see the notes; --frameworks-python PYTHON names an interpreter "
                        "that has JAX")
        return [target], "", []
    targets, rows = [], []
    lines = ["tg.compile vs JAX jit, float32 (each a ratio to its own process's numpy "
             "reference; lower is faster):"]
    for b, c, j in pairs:
        assert c is not None
        x = c["ratio_vs_reference"]
        y = None if j is None else j["ratio_vs_reference"]
        ok = (x is not None and y is not None and x < y
              and c["agrees_with_reference"] is not False
              and j is not None and j["agrees_with_reference"] is not False)
        verdict = "n/a" if y is None else "ahead" if ok else "NOT ahead"
        value = f"tg.compile {fmt_ratio(x)} vs JAX jit {fmt_ratio(y)} reference"
        targets.append(Target(f"MLP step, batch {b}, compiled ahead of JAX jit",
                              "tg.compile ratio < JAX jit's", value,
                              None if y is None else ok,
                              score=None if x is None or not y else x / y))
        jt = None if j is None else Timing(j["median"], j["min"], j["max"], j["number"],
                                           j["repeat"])
        ct = Timing(c["median"], c["min"], c["max"], c["number"], c["repeat"])
        rows.append([str(b), f"{fmt_timing(ct)}<br>{fmt_ratio(x)} ref",
                     f"{fmt_timing(jt)}<br>{fmt_ratio(y)} ref †",
                     f"<= {COMPILED_GOALS[b]:.2f}x" if b in COMPILED_GOALS else "",
                     verdict])
        lines.append(f"  batch {b:>4}: tg.compile {fmt_ratio(x):>6}   JAX jit {fmt_ratio(y):>6}"
                     f"   {verdict}")
    table = ("**tg.compile against JAX jit, float32** — issue 11: the compiled step ahead of "
             "JAX jit at every batch size in the same run. Each ratio is to the numpy "
             "reference of the contender's own process (JAX's is the frameworks' process, †).\n\n"
             + md_table(["batch", "tg.compile", "jax (jit) †", "compiled goal", "compiled vs jit"],
                        rows))
    return targets, table, lines


def interpreter_note(fw_data: Dict[str, Any]) -> str:
    """Which interpreter timed the frameworks, with what, and JAX's threads."""
    interp = fw_data.get("interpreter") or {}
    versions = ", ".join(f"{k} {v}" for k, v in sorted((interp.get("versions") or {}).items()))
    text = (f"The frameworks' process ran {interp.get('executable', '?')} (Python "
            f"{interp.get('python', '?')}, numpy {interp.get('numpy', '?')}; "
            f"{versions or 'no optional package'})")
    if any(name.startswith("jax") for name in fw_data.get("ran", [])):
        text += f"; JAX's threads: {fw_data.get('jax_threads', '?')}"
    return text + "."


def label(row: Dict[str, Any]) -> str:
    """A result row's name in the tables and the chart: frameworks' process rows get ``†``."""
    return row["contender"] + (FW_MARK if row.get("process") == FW_PROCESS else "")


def _markdown(results: List[Dict[str, Any]], dtypes: Sequence[str],
              batches: Sequence[int]) -> str:
    parts = []
    # This process's rows first, then the frameworks' process, its reference and floor first.
    order = {MAIN_PROCESS: 0, FW_PROCESS: 1}
    firsts = {REF: 0, FLOOR: 1}
    ranked = sorted(results, key=lambda r: (order.get(r.get("process", MAIN_PROCESS), 0),
                                            firsts.get(r["contender"], 2)
                                            if r.get("process") == FW_PROCESS else 0))
    names = list(dict.fromkeys(label(r) for r in ranked))
    legend = (" Rows marked † were timed in the frameworks' own process; their ratios are to "
              "the reference and floor timed there (the † rows)."
              if any(r.get("process") == FW_PROCESS for r in results) else "")
    for dtype in dtypes:
        cell = {(label(r), r["batch"]): r for r in results if r["dtype"] == dtype}
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
                     "ratios of medians to the reference and to the GEMM floor of the same "
                     f"process.{legend}\n\n"
                     + md_table(["contender"] + [f"batch {b}" for b in batches], rows))
    return "\n\n".join(parts)
