"""``with tg.detect_anomaly():`` raises at the first op whose forward or backward produces NaN
or Inf, naming the op and the line of user code that created it. Off by default: recording
where each node was made costs a stack walk per op."""
from __future__ import annotations

import os
import sys
import weakref
from typing import Any, Optional

import numpy as np

from ..tensor import Tensor
from . import op as _op

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where each node was created, by id (not a WeakKeyDictionary: that compares keys with ==,
# which on Tensors is elementwise); entries go when their tensor dies.
_sites: dict = {}


def _remember(t: Any, site: str) -> None:
    k = id(t)
    _sites[k] = (site, weakref.ref(t, lambda _: _sites.pop(k, None)))


def _user_site() -> str:
    """'file:line in function' of the innermost caller outside the tensorgrad package."""
    f: Any = sys._getframe(2)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG + os.sep):
        f = f.f_back
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"


def _bad(a: Any) -> bool:
    a = a.data if isinstance(a, Tensor) else a
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.all(np.isfinite(a))


def _hook(t: Any, phase: str, results: Optional[list] = None, op: Any = None) -> None:
    if phase == "forward":
        site = _user_site()
        _remember(t, site)
        if _bad(t.data):
            raise RuntimeError(f"detect_anomaly: forward of op '{t._op.name}' produced NaN or "
                               f"Inf (output shape {t.shape}); created at {site}")
        return
    for i, g in enumerate(results or ()):
        if g is not None and _bad(g):
            raise RuntimeError(
                f"detect_anomaly: backward of op '{op.name}' produced NaN or Inf in the gradient "
                f"of its input {i}; the op was created at "
                f"{_sites.get(id(t), ('<unknown>',))[0]}")


class detect_anomaly:
    """Context manager: check every recorded op's forward and backward for NaN/Inf."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._prev: list = []

    def __enter__(self) -> detect_anomaly:
        self._prev.append(_op.anomaly_hook)
        _op.anomaly_hook = _hook if self.check_nan else None  # check_nan=False turns it off
        return self

    def __exit__(self, *exc: object) -> None:
        _op.anomaly_hook = self._prev.pop()
