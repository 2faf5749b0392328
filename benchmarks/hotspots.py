"""Where tensorgrad spends its time: profiles of the MLP step and the per-op chain.

    python benchmarks/hotspots.py                 # cProfile, top 25 functions by own time
    python benchmarks/hotspots.py --pyinstrument  # call tree (pip install pyinstrument)

Profiles the tensorgrad MLP step (784-256-128-10) at batch 1 and 32, the training
benchmark's step (64-64-10, batch 32) and the 1000-op elementwise chain of ``per_op.py``,
each for a fixed number of iterations after a warm-up, and writes them to
``benchmarks/results/hotspots.txt`` as well as stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from functools import partial
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
    sys.path.insert(0, str(ROOT))


def workloads(dtype_name: str) -> List[Tuple[str, Callable[[], Any], int]]:
    """(title, one iteration, iterations) for each profiled workload."""
    import numpy as np

    import tensorgrad as tg
    from benchmarks import per_op
    from benchmarks.contenders import TensorgradContender
    from benchmarks.mlp_step import LR, SEED, SIZES, make_batch
    from tensorgrad.reference import init_params

    dtype = np.dtype(dtype_name)
    out: List[Tuple[str, Callable[[], Any], int]] = []
    for batch, iters in ((1, 2000), (32, 1000)):
        c = TensorgradContender(init_params(SIZES, seed=SEED, dtype=dtype), LR)
        prepared = c.prepare(*make_batch(batch, dtype))
        out.append((f"MLP step, batch {batch}, {dtype_name}", partial(c.step, *prepared), iters))
    # The training benchmark's step: small matrices, so per-op overhead dominates.
    rng = np.random.default_rng(SEED)
    c = TensorgradContender(init_params((64, 64, 10), seed=SEED, dtype=dtype), 0.1)
    prepared = c.prepare(rng.standard_normal((32, 64)).astype(dtype), rng.integers(0, 10, 32))
    out.append((f"digits MLP 64-64-10 step, batch 32, {dtype_name}", partial(c.step, *prepared),
                3000))
    x = tg.tensor(np.linspace(0.5, 2.0, 4).astype(dtype), requires_grad=True)
    seed = np.ones(4, dtype=dtype)
    out.append((f"per-op chain, {per_op.N_OPS} ops, {dtype_name}",
                partial(per_op.tensorgrad_chain, x, per_op.N_OPS, seed), 100))
    return out


def profile_cprofile(fn: Callable[[], Any], iters: int, top: int) -> str:
    for _ in range(3):
        fn()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(iters):
        fn()
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    return buf.getvalue()


def profile_pyinstrument(fn: Callable[[], Any], iters: int) -> str:
    from pyinstrument import Profiler

    for _ in range(3):
        fn()
    prof = Profiler(interval=0.0002)
    prof.start()
    for _ in range(iters):
        fn()
    prof.stop()
    return str(prof.output_text(unicode=False, color=False, show_all=False))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pyinstrument", action="store_true", help="call trees via pyinstrument")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--top", type=int, default=25, help="functions listed per profile")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hotspots.txt")
    args = p.parse_args(argv)
    if args.pyinstrument:
        try:
            import pyinstrument  # noqa: F401
        except ImportError:
            print("pyinstrument is not installed (pip install pyinstrument); "
                  "run without --pyinstrument for cProfile", file=sys.stderr)
            return 2
    parts = []
    for title, fn, iters in workloads(args.dtype):
        body = (profile_pyinstrument(fn, iters) if args.pyinstrument
                else profile_cprofile(fn, iters, args.top))
        parts.append(f"==== {title}: {iters} iterations ====\n{body}")
    text = "\n".join(parts)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
