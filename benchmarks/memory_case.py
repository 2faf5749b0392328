"""One memory case, run in a fresh interpreter by ``memory.py``; prints its peak RSS as JSON.

    python -m benchmarks.memory_case CASE DTYPE BATCH STEPS

CASE is ``baseline`` (interpreter and imports only), ``numpy reference``, ``tensorgrad`` or
``tensorgrad.nn``. Every case imports the same modules and runs the same tiny matrix product
(so BLAS has started its threads and buffers), then the non-baseline cases train STEPS MLP
steps at batch BATCH.

Peak resident memory is reported two ways: ``resource.getrusage(...).ru_maxrss`` and, on
Linux, ``VmHWM`` from ``/proc/self/status``. Linux carries the parent's resident size at
fork into the child's ``ru_maxrss`` (it is the larger of the two), so a child started from a
big parent (one that has loaded PyTorch, say) reports the parent's size there; ``VmHWM`` is
the peak of this program's own memory map and is exact.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any, Dict, List, Optional


def maxrss_bytes() -> int:
    """``ru_maxrss`` of this process in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def vmhwm_bytes() -> Optional[int]:
    """Peak resident size of this process's own memory map (Linux), else None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # the line reads "VmHWM:  12345 kB"
    except OSError:
        pass
    return None


def main(argv: List[str]) -> int:
    case, dtype_name, batch, steps = argv[0], argv[1], int(argv[2]), int(argv[3])
    import numpy as np

    import tensorgrad  # noqa: F401  (imported in every case, so the baseline holds it too)
    import tensorgrad.optim  # noqa: F401
    from tensorgrad.reference import init_params

    from . import contenders as C
    from .mlp_step import LR, SEED, SIZES, make_batch

    if not C.nn_missing():
        import tensorgrad.nn  # noqa: F401

    dtype = np.dtype(dtype_name)
    a = np.ones((64, 64), dtype)
    a @ a
    factories: Dict[str, Any] = {C.ReferenceContender.name: C.ReferenceContender,
                 C.TensorgradContender.name: C.TensorgradContender,
                 C.TensorgradNNContender.name: C.TensorgradNNContender,
                 C.TensorgradCompiledContender.name: C.TensorgradCompiledContender}
    if case != "baseline":
        params = init_params(SIZES, seed=SEED, dtype=dtype)
        X, y = make_batch(batch, dtype)
        c = factories[case](params, LR)
        prepared = c.prepare(X, y)
        for _ in range(steps):
            c.step(*prepared)
    print(json.dumps({"case": case, "dtype": dtype_name, "batch": batch, "steps": steps,
                      "maxrss_bytes": maxrss_bytes(), "vmhwm_bytes": vmhwm_bytes()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
