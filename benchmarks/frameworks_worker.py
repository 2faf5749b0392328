"""The optional frameworks' process of the MLP-step and training benchmarks.

    python -m benchmarks.frameworks_worker --mode quick --dtypes float32,float64 \
        --batches 1,32,256,2048 --threads 2 --modules torch,mygrad,autograd,jax \
        --json-out frameworks.json

``mlp_step.run`` starts it in a fresh interpreter once tensorgrad, the reference and the
GEMM floor have been timed, so that PyTorch and JAX (whose thread pools slow numpy's BLAS
down for the whole process once loaded) never share a process with those measurements.
That interpreter is the main one's, or the one given by ``run.py --frameworks-python``
(an environment with the frameworks installed; it needs numpy, and finds ``benchmarks``
and ``tensorgrad`` through PYTHONPATH). It times the frameworks that import, with the
numpy reference and the floor timed again beside them (see
``mlp_step.measure_frameworks``), and writes the result rows, notes, the BLAS seen here,
this interpreter with the frameworks' versions, and JAX's thread setting as JSON to
``--json-out``. Progress goes to stderr. With ``--benchmark training --epochs N`` it
times the digits training loop instead (``training.measure_frameworks``), for
``training.run``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--benchmark", choices=("mlp_step", "training"), default="mlp_step")
    p.add_argument("--epochs", type=int, default=None, help="training: epochs (its default)")
    p.add_argument("--mode", choices=("tiny", "quick", "full"), required=True)
    p.add_argument("--dtypes", required=True, help="comma-separated, e.g. float32,float64")
    p.add_argument("--batches", default="", help="mlp_step: comma-separated, e.g. 1,32")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--modules", default=None,
                   help="comma-separated framework modules to try (default: all)")
    p.add_argument("--json-out", type=Path, required=True)
    args = p.parse_args(argv)
    # Same BLAS threads as the main process; read by BLAS when numpy first loads it.
    for var in _THREAD_VARS:
        os.environ[var] = str(args.threads)
    from benchmarks.frameworks import (
        framework_cpus,
        framework_threads_how,
        usable_cpus,
        versions,
    )

    # Before any framework starts its thread pool (XLA sizes its pool to these CPUs).
    available, cpus = len(usable_cpus()), framework_cpus(args.threads)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    jax_threads = framework_threads_how(args.threads, cpus, available)

    import numpy as np

    from benchmarks.common import MODES
    from benchmarks.mlp_step import measure_frameworks
    from benchmarks.report import jsonable

    modules = args.modules.split(",") if args.modules else None
    mode, dtypes = MODES[args.mode], args.dtypes.split(",")
    if args.benchmark == "training":
        from benchmarks import training

        data = training.measure_frameworks(mode, dtypes, args.epochs or training.EPOCHS,
                                           args.threads, modules)
    else:
        data = measure_frameworks(mode, dtypes, [int(b) for b in args.batches.split(",")],
                                  args.threads, modules)
    data["interpreter"] = {"executable": sys.executable, "python": sys.version.split()[0],
                           "numpy": np.__version__, "versions": versions()}
    data["jax_threads"] = jax_threads
    args.json_out.write_text(json.dumps(jsonable(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
