"""Functions that make new leaf tensors: zeros, ones, full, eye, arange, randn, rand ..."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import dtypes
from .ops._util import shape_ints
from .random import get_rng
from .tensor import Tensor


def _shape(name: str, shape: tuple) -> tuple:
    """f(2, 3) or f((2, 3)): non-negative ints (a TypeError / ValueError naming `name`)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape_ints(name, shape, sizes=True)


def _leaf(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(data, requires_grad=requires_grad, dtype=data.dtype)


def _dtype(dtype: Any, name: str = "tensor") -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.numeric_dtype(name, dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``tg.zeros(2, 3)`` or ``tg.zeros((2, 3))``."""
    return _leaf(np.zeros(_shape("zeros", shape), _dtype(dtype, "zeros")), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _leaf(np.ones(_shape("ones", shape), _dtype(dtype, "ones")), requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` filled with `fill_value`."""
    value = dtypes.to_array(fill_value, copy=False, name="full", what="fill_value")
    if value.ndim:
        raise ValueError(f"full: fill_value must be a single number, got shape {value.shape}; "
                         "use tg.tensor(...) or broadcast_to for an array")
    return _leaf(np.full(_shape("full", (shape,)), value, _dtype(dtype, "full")), requires_grad)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of `x`."""
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return _leaf(np.zeros(a.shape, a.dtype if dtype is None else dtype), requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of `x`."""
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    return _leaf(np.ones(a.shape, a.dtype if dtype is None else dtype), requires_grad)


def eye(n: int, m: Optional[int] = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    n, m = _shape("eye", (n, n if m is None else m))
    return _leaf(np.eye(n, m, dtype=_dtype(dtype, "eye")), requires_grad)


def arange(start: float, stop: Optional[float] = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop): int64 for integer arguments, else the default
    float dtype (as in PyTorch)."""
    a = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is not None:
        a = a.astype(dtype)
    elif a.dtype.kind == "f":
        a = a.astype(dtypes.get_default_dtype())
    return _leaf(a, requires_grad)


def linspace(start: float, stop: float, num: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`num` evenly spaced values from start to stop inclusive."""
    return _leaf(np.linspace(start, stop, num, dtype=_dtype(dtype, "linspace")), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the global generator (see ``tg.manual_seed``)."""
    d = _dtype(dtype, "randn")
    return _leaf(get_rng().standard_normal(_shape("randn", shape)).astype(d), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the global generator."""
    d = _dtype(dtype, "rand")
    return _leaf(get_rng().random(_shape("rand", shape)).astype(d), requires_grad)


def randint(low: int, high: int, size: Any, dtype: Any = np.int64) -> Tensor:
    """Integers uniform in [low, high) from the global generator."""
    return _leaf(get_rng().integers(low, high, size=_shape("randint", (size,)), dtype=dtype), False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares `array`'s memory (no copy) and keeps its dtype, as PyTorch's
    ``from_numpy``: writing into one shows in the other. ``tg.tensor`` copies instead."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}; "
                        "use tg.tensor(data) for other data")
    from .tensor import _const

    return _const(array)
