"""Run tensorgrad's benchmark suite and write results.{json,md,png}.

    python benchmarks/run.py --quick              # under 2 minutes (make bench)
    python benchmarks/run.py                      # full run, under 10 minutes (make bench-full)
    python benchmarks/run.py --only per_op --only depth --dtype float64
    python benchmarks/run.py --update-results     # rewrite the tracked benchmarks/results/

The results go to build/benchmarks/ (untracked) unless ``--out DIR`` or
``--update-results`` (the committed benchmarks/results/, which the docs embed) say
otherwise. The terminal gets a short summary: the targets not met, with their goal and
measured value, and the names of those met; the full tables are in results.md.

Benchmarks: mlp_step, per_op, depth, memory, training, cnn_step (see each module's docstring).
The optional frameworks (PyTorch, MyGrad, HIPS autograd, JAX) are never imported into this
process: mlp_step times them in a fresh subprocess of their own (frameworks_worker.py), run
by this interpreter or by ``--frameworks-python PYTHON`` (e.g. a venv that has JAX).

Threads: every contender gets the same number (``--threads``, default 2). The BLAS that
numpy loads (shared by numpy, tensorgrad, the reference, MyGrad and HIPS autograd) reads
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS when it loads, so they are set
here before numpy is imported; PyTorch gets ``torch.set_num_threads``; XLA (JAX) has no
thread-count setting and runs one thread per CPU it may use, so with fewer threads than
CPUs the frameworks' process is confined to that many CPUs (sched_setaffinity, Linux).
Without ``--threads`` a value already in the environment is respected. Nothing else about
BLAS (e.g. OPENBLAS_CORETYPE) is touched; the BLAS in use, its thread count and those
variables are recorded in results.json (the frameworks' process records its own BLAS view,
interpreter and versions under mlp_step.frameworks_process).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    # Run as a script: import `benchmarks` and `tensorgrad` from this checkout, and keep the
    # benchmarks folder itself off the path so its modules cannot shadow anything.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
    sys.path.insert(0, str(ROOT))

NAMES = ("mlp_step", "per_op", "depth", "memory", "training", "cnn_step")
# Module names of the optional frameworks (benchmarks.frameworks.OPTIONAL), listed here
# because arguments are parsed before numpy may be imported.
FRAMEWORKS = ("torch", "mygrad", "autograd", "jax")
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
TRACKED = ROOT / "benchmarks" / "results"
DEFAULT_OUT = ROOT / "build" / "benchmarks"
# What each mode costs on a 2-core machine, said before starting.
DURATION = {"tiny": "a few seconds", "quick": "about 1-2 minutes",
            "full": "about 5-10 minutes"}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="fewer repeats (under 2 minutes)")
    speed.add_argument("--tiny", action="store_true",
                       help="a few iterations of everything, to prove the scripts run "
                            "(seconds; the numbers mean nothing)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"run only these benchmarks (repeatable or comma-separated): "
                        f"{', '.join(NAMES)}")
    p.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/framework threads for every contender (default: the "
                        "environment's OPENBLAS_NUM_THREADS/OMP_NUM_THREADS, else 2)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=None,
                       help="output folder (default build/benchmarks, untracked)")
    where.add_argument("--update-results", action="store_true",
                       help="write to the tracked benchmarks/results/ (embedded by the docs)")
    fw = p.add_mutually_exclusive_group()
    fw.add_argument("--no-frameworks", action="store_true",
                    help="skip the optional frameworks (PyTorch, MyGrad, autograd, JAX)")
    fw.add_argument("--frameworks", metavar="MODULES",
                    help=f"only these optional frameworks, by module (comma-separated): "
                         f"{', '.join(FRAMEWORKS)}; default all that are installed")
    p.add_argument("--frameworks-python", metavar="PYTHON",
                   help="the interpreter that times the optional frameworks (one whose "
                        "environment has them and numpy, e.g. a venv with jax); default: "
                        "this one")
    p.add_argument("--no-plot", action="store_true", help="do not draw results.png")
    args = p.parse_args(argv)
    only = [n.strip() for item in (args.only or []) for n in item.split(",") if n.strip()]
    unknown = [n for n in only if n not in NAMES]
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    args.only = only or list(NAMES)
    if args.out is None:
        args.out = TRACKED if args.update_results else DEFAULT_OUT
    if args.frameworks is not None:
        chosen = [n.strip() for n in args.frameworks.split(",") if n.strip()]
        bad = [n for n in chosen if n not in FRAMEWORKS]
        if bad or not chosen:
            p.error(f"--frameworks takes some of {', '.join(FRAMEWORKS)}")
        args.frameworks = chosen
    if args.frameworks_python is not None:
        if args.no_frameworks:
            p.error("--frameworks-python has nothing to run with --no-frameworks")
        found = shutil.which(args.frameworks_python)
        if found is None:
            p.error(f"--frameworks-python {args.frameworks_python}: no such executable")
        # Absolute but not resolved: a venv's python is a symlink that only works by its name.
        args.frameworks_python = os.path.abspath(found)
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    return args


def set_threads(requested: Optional[int]) -> int:
    """Fix the BLAS thread count before numpy loads its BLAS; returns the count."""
    if requested is not None:
        for var in _THREAD_VARS:
            os.environ[var] = str(requested)
        return requested
    n = int(os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or 2)
    for var in _THREAD_VARS:
        os.environ.setdefault(var, str(n))
    return n


def _shown(path: Path) -> str:
    """`path` relative to the checkout when inside it (shorter to read)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    preset = {var: os.environ[var] for var in _THREAD_VARS if var in os.environ}
    threads = set_threads(args.threads)
    if "numpy" in sys.modules:
        print("warning: numpy was imported before the thread count was set; "
              "BLAS keeps the threads it started with", file=sys.stderr)

    from benchmarks import cnn_step, depth, memory, mlp_step, per_op, report, training
    from benchmarks.common import MODES, Section, blas_threads, environment, log

    mode = MODES["tiny" if args.tiny else "quick" if args.quick else "full"]
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    tiny = mode.name == "tiny"
    runners: Dict[str, Callable[[], Section]] = {
        "mlp_step": lambda: mlp_step.run(mode, dtypes,
                                         batches=(1, 32) if tiny else mlp_step.BATCHES,
                                         frameworks=not args.no_frameworks, threads=threads,
                                         framework_modules=args.frameworks,
                                         frameworks_python=args.frameworks_python),
        "per_op": lambda: per_op.run(mode, dtypes, n_ops=100 if tiny else per_op.N_OPS),
        "depth": lambda: depth.run(mode, dtypes, depth=1000 if tiny else depth.DEPTH,
                                   deep=depth.DEEP if mode.name == "full" else 0),
        "memory": lambda: memory.run(mode, dtypes),
        "training": lambda: training.run(mode, dtypes, frameworks=not args.no_frameworks,
                                         threads=threads, framework_modules=args.frameworks,
                                         frameworks_python=args.frameworks_python),
        "cnn_step": lambda: cnn_step.run(
            mode, dtypes, sizes=(8,) if tiny else cnn_step.SIZES,
            batches=(32,) if tiny else cnn_step.BATCHES,
            frameworks=not args.no_frameworks and (args.frameworks is None
                                                   or "torch" in args.frameworks),
            threads=threads),
    }
    from benchmarks.common import CpuWatch

    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    watch = CpuWatch()
    t0 = time.perf_counter()
    env = environment(threads)
    actual = blas_threads()
    if actual is not None and actual != threads:
        log(f"warning: BLAS reports {actual} threads, not the {threads} asked for")
    sections: List[Section] = []
    failed = []
    log(f"running {', '.join(args.only)} ({mode.name} mode, {', '.join(dtypes)}): "
        f"{DURATION[mode.name]}; results to {_shown(args.out)}")
    for name in args.only:
        log(f"[{name}] ({mode.name} mode)")
        t = time.perf_counter()
        try:
            sections.append(runners[name]())
        except Exception as e:  # report what broke and still write the other results
            import traceback

            traceback.print_exc()
            failed.append(name)
            sections.append(Section(name, f"{name}: FAILED", {"error": repr(e)},
                                    f"The benchmark raised `{type(e).__name__}: {e}`.",
                                    seconds=time.perf_counter() - t))
        log(f"[{name}] done in {time.perf_counter() - t:.1f} s")

    from benchmarks.frameworks import (
        framework_cpus,
        framework_threads_how,
        usable_cpus,
        versions,
    )

    meta = {
        "mode": mode.name,
        "started": started,
        "seconds": time.perf_counter() - t0,
        "benchmarks": args.only,
        "dtypes": dtypes,
        "timing": {"repeat": mode.repeat, "block_time_s": mode.block_time,
                   "warmup_calls": mode.warmup, "clock": "time.perf_counter",
                   "statistic": "median (min, max) of per-call time over timed blocks"},
        "threads_how": f"{'/'.join(_THREAD_VARS)}={threads} before numpy loads; "
                       f"torch.set_num_threads({threads}); "
                       "JAX: " + framework_threads_how(threads, framework_cpus(threads),
                                                       len(usable_cpus())),
        "thread_env_before_runner": preset,
        "environment": env,
        "load_average_before": load_before,
        "other_programs_cpu_share": watch.others_share(),
        "optional_versions": versions(),
    }
    message = report.write(sections, meta, args.out, plot=not args.no_plot)
    print(report.summary(sections, meta, _shown(args.out)))
    log(message)
    log(f"results written to {_shown(args.out)} in {meta['seconds']:.1f} s")
    if failed:
        log(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
