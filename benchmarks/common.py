"""Timing, environment and result helpers shared by every benchmark module.

Every figure is measured the same way: a few warm-up calls, then ``repeat`` timed blocks of
``number`` calls each (``time.perf_counter``), reported as the median, min and max of the
per-call time over the blocks. Contenders that are compared are timed in the same run with
their blocks interleaved (A B C A B C ...), so a slow spell of the machine hits all of them
alike and the ratios stay meaningful.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

ROOT = Path(__file__).resolve().parents[1]
DTYPES = ("float32", "float64")


# --------------------------------------------------------------------------- modes


@dataclass(frozen=True)
class Mode:
    """How hard to measure.

    ``repeat`` timed blocks per contender, each lasting about ``block_time`` seconds (at
    least one call), after ``warmup`` untimed calls. ``scale`` (0..1] shrinks loop counts
    (training epochs, leak-check steps) for the smoke-test mode.
    """

    name: str
    repeat: int
    block_time: float
    warmup: int
    scale: float = 1.0

    def count(self, full: int, minimum: int = 1) -> int:
        """``full`` scaled down for this mode, at least ``minimum``."""
        return max(minimum, int(round(full * self.scale)))


MODES: Dict[str, Mode] = {
    # tiny: proves the scripts run (seconds); its numbers mean nothing.
    "tiny": Mode("tiny", repeat=3, block_time=0.0, warmup=1, scale=0.02),
    # Many short interleaved blocks rather than a few long ones: on a shared machine a busy
    # spell then falls on every contender alike, and the median steps over it.
    "quick": Mode("quick", repeat=11, block_time=0.015, warmup=2),
    "full": Mode("full", repeat=31, block_time=0.05, warmup=3),
}


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Per-call time in seconds over ``repeat`` blocks of ``number`` calls."""

    median: float
    min: float
    max: float
    number: int
    repeat: int
    samples: List[float] = field(default_factory=list)

    @classmethod
    def from_samples(cls, samples: List[float], number: int) -> Timing:
        """``samples``: per-call seconds of each timed block."""
        return cls(
            median=statistics.median(samples),
            min=min(samples),
            max=max(samples),
            number=number,
            repeat=len(samples),
            samples=list(samples),
        )

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["unit"] = "s"
        return d

    def __str__(self) -> str:
        return f"{fmt_time(self.median)} [{fmt_time(self.min)} .. {fmt_time(self.max)}]"


def time_block(fn: Callable[[], Any], number: int) -> float:
    """Seconds per call of ``number`` back-to-back calls of ``fn``."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def calibrate(fn: Callable[[], Any], block_time: float, warmup: int) -> int:
    """Run ``warmup`` untimed calls, then pick how many calls make one block of
    ``block_time`` seconds (one call when ``block_time`` is 0)."""
    for _ in range(warmup):
        fn()
    if block_time <= 0:
        return 1
    one = time_block(fn, 1)  # one more call, timed only to size the blocks
    return max(1, int(math.ceil(block_time / max(one, 1e-9))))


def compare(fns: Mapping[str, Callable[[], Any]], mode: Mode) -> Dict[str, Timing]:
    """Time every contender in ``fns`` with interleaved blocks; returns a Timing per name.

    Everything alive beforehand is moved to the collector's permanent generation for the
    duration (``gc.freeze``), so a collection that one contender's allocations trigger
    scans that contender's young objects, not every module loaded in this process (PyTorch
    and JAX hold millions of objects; a full pass over them costs tens of milliseconds).
    """
    gc.collect()
    gc.freeze()
    try:
        numbers = {name: calibrate(fn, mode.block_time, mode.warmup) for name, fn in fns.items()}
        samples: Dict[str, List[float]] = {name: [] for name in fns}
        for _ in range(mode.repeat):
            for name, fn in fns.items():
                samples[name].append(time_block(fn, numbers[name]))
    finally:
        gc.unfreeze()
    return {name: Timing.from_samples(samples[name], numbers[name]) for name in fns}


def measure(fn: Callable[[], Any], mode: Mode) -> Timing:
    """Time one function (see :func:`compare`)."""
    return compare({"fn": fn}, mode)["fn"]


def ratio(a: Optional[Timing], b: Optional[Timing]) -> Optional[float]:
    """``a.median / b.median``, or None when either is missing."""
    if a is None or b is None or b.median <= 0:
        return None
    return a.median / b.median


def paired_ratio(a: Optional[Timing], b: Optional[Timing]) -> Optional[float]:
    """Median over rounds of ``a``'s block time over ``b``'s block time in the same round.

    Only meaningful for contenders timed together by :func:`compare` (same number of
    interleaved blocks); steadier than the ratio of medians when the machine's speed drifts
    during the run. None when the two were not timed together.
    """
    if a is None or b is None or len(a.samples) != len(b.samples) or not a.samples:
        return None
    return statistics.median(x / y for x, y in zip(a.samples, b.samples))


# --------------------------------------------------------------------------- formatting


def fmt_time(seconds: Optional[float]) -> str:
    """A duration with a readable unit: ``'12.3 us'``, ``'4.56 ms'``, ``'1.23 s'``."""
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(r: Optional[float]) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def fmt_timing(t: Optional[Timing]) -> str:
    """``median (min .. max)`` for a markdown cell."""
    if t is None:
        return "n/a"
    return f"{fmt_time(t.median)} ({fmt_time(t.min)} .. {fmt_time(t.max)})"


def fmt_bytes(n: Optional[float]) -> str:
    if n is None:
        return "n/a"
    return f"{n / 2**20:.1f} MiB"


def md_table(header: List[str], rows: List[List[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- results


@dataclass
class Target:
    """One performance target of the issue: ``met`` is None when it could not be judged;
    ``score`` is the measured value over the goal (<= 1 is met) when there is one number."""

    name: str
    goal: str
    value: str
    met: Optional[bool]
    note: str = ""
    score: Optional[float] = None

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class Section:
    """What one benchmark hands to the report: JSON data, markdown and its targets."""

    name: str
    title: str
    data: Dict[str, Any]
    markdown: str
    targets: List[Target] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0
    # Plain-text lines for the terminal summary (no markdown), e.g. a side-by-side comparison.
    summary: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "title": self.title,
            "seconds": self.seconds,
            "notes": self.notes,
            "targets": [t.to_dict() for t in self.targets],
            **self.data,
        }


_T0 = time.perf_counter()


def log(msg: str) -> None:
    """Progress on stderr (seconds since start first), so stdout stays the report."""
    print(f"{time.perf_counter() - _T0:6.1f}s {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- environment

# Variables that change what BLAS or the frameworks do; recorded, never changed by default.
_ENV_PREFIXES = ("OPENBLAS", "OMP_", "MKL_", "BLIS_", "NVPL_", "VECLIB", "XLA_", "JAX_",
                 "GOTO", "NUMEXPR", "PYTHONHASHSEED")


def blas_info() -> Dict[str, Any]:
    """Which BLAS numpy uses and with how many threads.

    threadpoolctl (when installed) reports the loaded libraries and their live thread
    counts; otherwise the build summary from ``np.show_config`` is used, which names the
    library but not the thread count.
    """
    import numpy as np

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        info: Dict[str, Any] = {"source": "numpy.show_config (threadpoolctl not installed)"}
        try:
            cfg = np.show_config(mode="dicts")  # numpy >= 1.25
            blas = cfg.get("Build Dependencies", {}).get("blas", {})
            info.update({k: blas.get(k) for k in ("name", "version", "openblas configuration")})
        except TypeError:
            info["name"] = "unknown (numpy < 1.25 has no show_config(mode='dicts'))"
        return info
    libs = [
        {k: lib.get(k) for k in ("internal_api", "prefix", "version", "num_threads",
                                 "threading_layer", "architecture", "filepath")}
        for lib in threadpool_info()
    ]
    return {"source": "threadpoolctl", "libraries": libs}


def blas_threads() -> Optional[int]:
    """Threads of the BLAS numpy uses, when threadpoolctl can tell."""
    info = blas_info()
    for lib in info.get("libraries", []):
        if lib.get("internal_api") in ("openblas", "mkl", "blis", "flexiblas"):
            return int(lib["num_threads"])
    return None


class CpuWatch:
    """How busy the machine was with other programs while we ran.

    Reads the machine-wide busy time from ``/proc/stat`` and subtracts this process's own
    CPU time (and its finished children's). A figure well above 0 means someone else
    competed for the cores, which makes every timing slower and noisier (Linux only;
    elsewhere it reports None).
    """

    def __init__(self) -> None:
        self.start = self._snapshot()

    @staticmethod
    def _snapshot() -> Optional[tuple]:
        import resource

        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        busy = (sum(fields[:8]) - idle) / tick  # user .. steal; guest time is inside user
        own = sum(getattr(resource.getrusage(who), k)
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for k in ("ru_utime", "ru_stime"))
        return time.perf_counter(), busy, own

    def others_share(self) -> Optional[float]:
        """Fraction of all cores' time used by other programs since construction."""
        end = self._snapshot()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        others = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, others / (wall * (os.cpu_count() or 1))) if wall > 0 else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "tensorgrad"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + (" (tensorgrad/ has uncommitted changes)" if dirty.stdout else "")


def environment(threads: int) -> Dict[str, Any]:
    """Everything about the machine and libraries that a reader needs to trust a figure."""
    import numpy as np

    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "blas": blas_info(),
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(_ENV_PREFIXES)},
        "git_commit": git_commit(),
    }
