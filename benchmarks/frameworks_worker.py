"""The optional frameworks' process of the MLP-step benchmark.

    python -m benchmarks.frameworks_worker --mode quick --dtypes float32,float64 \
        --batches 1,32,256,2048 --threads 2 --modules torch,mygrad,autograd,jax \
        --json-out frameworks.json

``mlp_step.run`` starts it in a fresh interpreter once tensorgrad, the reference and the
GEMM floor have been timed, so that PyTorch and JAX (whose thread pools slow numpy's BLAS
down for the whole process once loaded) never share a process with those measurements. It
times the frameworks that import, with the numpy reference and the floor timed again beside
them (see ``mlp_step.measure_frameworks``), and writes the result rows, notes and the BLAS
seen here as JSON to ``--json-out``. Progress goes to stderr.
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
    p.add_argument("--mode", choices=("tiny", "quick", "full"), required=True)
    p.add_argument("--dtypes", required=True, help="comma-separated, e.g. float32,float64")
    p.add_argument("--batches", required=True, help="comma-separated, e.g. 1,32")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--modules", default=None,
                   help="comma-separated framework modules to try (default: all)")
    p.add_argument("--json-out", type=Path, required=True)
    args = p.parse_args(argv)
    # Same BLAS threads as the main process; read by BLAS when numpy first loads it.
    for var in _THREAD_VARS:
        os.environ[var] = str(args.threads)

    from benchmarks.common import MODES
    from benchmarks.mlp_step import measure_frameworks
    from benchmarks.report import jsonable

    modules = args.modules.split(",") if args.modules else None
    data = measure_frameworks(MODES[args.mode], args.dtypes.split(","),
                              [int(b) for b in args.batches.split(",")], args.threads, modules)
    args.json_out.write_text(json.dumps(jsonable(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
