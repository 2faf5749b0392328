"""Small helpers shared by the op families: argument checks and error messages."""
from __future__ import annotations

import operator
from typing import Any, NamedTuple, NoReturn, Optional, Sequence, Union

import numpy as np


class AxisError(ValueError, IndexError):
    """An axis out of range for a tensor: a ValueError (as the contract says) and an
    IndexError (as PyTorch raises)."""


def describe(*values: Any) -> str:
    """'shape (2, 3) float32 and shape (4,) float32': how error messages name operands."""
    parts = []
    for v in values:
        a = v.data if hasattr(v, "data") and isinstance(v.data, np.ndarray) else v
        if isinstance(a, np.ndarray):
            parts.append(f"shape {a.shape} {a.dtype}")
        else:
            parts.append(repr(a))
    return " and ".join(parts)


def label(a: Any, name: str) -> Any:
    """`a` itself; while tg.compile traces, `name` is what its generated source calls it."""
    if type(a) is not np.ndarray:
        v = getattr(a, "_v", None)
        if v is not None:
            v.hint = name
    return a


def sum_axis(a: Any, axis: int) -> Any:
    """``a.sum(axis, keepdims=(axis == 1))`` for a 2-D float array a: a bias gradient
    (axis 0, summing rows) or softmax's row sums (axis 1). Written as a product with a vector
    of ones, which BLAS computes in half the time a small reduction spends setting up; any
    other input (a Tensor, under create_graph) is summed as usual."""
    if isinstance(a, np.ndarray) and a.ndim == 2 and a.dtype in _BLAS_FLOATS:
        if axis == 0:
            return np.matmul(_ones((a.shape[0],), a.dtype), a)
        return np.matmul(a, _ones((a.shape[1], 1), a.dtype))
    return a.sum(axis=axis, keepdims=axis == 1)


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONES: dict = {}
# numpy itself, even while tg.compile traces (it swaps this module's `np` for a recording
# proxy): the cache must hold plain arrays, which a trace then reads as constants.
_numpy = np


def _ones(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A read-only array of ones, made once per shape and dtype (a step asks for the same few)."""
    key = (shape, dtype)
    o = _ONES.get(key)
    if o is None:
        if len(_ONES) > 64:
            _ONES.clear()
        o = _ONES[key] = _numpy.ones(shape, dtype)
        o.flags.writeable = False
    return o


def fail(name: str, exc: BaseException, *values: Any) -> NoReturn:
    """Re-raise a numpy error from op `name`'s forward with the op, shapes and dtypes named."""
    kind = type(exc) if isinstance(exc, (ValueError, TypeError, IndexError)) else ValueError
    raise kind(f"{name}: {exc} (operands: {describe(*values)})") from exc


def norm_axis(name: str, axis: Union[int, Sequence[int], None], ndim: int,
              shape: Optional[tuple] = None) -> Optional[tuple]:
    """`axis` as a sorted tuple of non-negative ints (None stays None: all axes)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axes: tuple = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{name}: axis must be an int, a tuple of ints or None, got {axis!r}")
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{name}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -ndim <= a < ndim:
            raise AxisError(f"{name}: axis {a} is out of range for a tensor of shape "
                            f"{shape if shape is not None else ''} ({ndim} dims)")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise AxisError(f"{name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def kept_shape(shape: tuple, axes: Optional[tuple]) -> tuple:
    """The shape of a reduction over `axes` with keepdims=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def data(v: Any) -> Any:
    """The array behind a Tensor, or `v` itself: for masks that must stay constants."""
    d = getattr(v, "data", None)
    return d if isinstance(d, np.ndarray) else v


class IndexOutOfRange(IndexError, ValueError):
    """A bad index for a tensor: an IndexError (as PyTorch raises) and a ValueError."""


class ValuesIndices(NamedTuple):
    """``(values, indices)`` of ``max(dim)``, ``min(dim)``, ``sort`` and ``topk``, as PyTorch
    returns them: `values` is differentiable, `indices` an int64 tensor that is not."""

    values: Any
    indices: Any


def shape_ints(name: str, shape: Sequence[Any], sizes: bool = False,
               what: str = "sizes") -> tuple:
    """`shape` as a tuple of Python ints: anything else (3.9, "a") is a TypeError naming op
    `name`, not silently truncated. `sizes`: the entries are sizes of a new tensor, so a
    negative one is a ValueError."""
    try:
        out = tuple(operator.index(s) for s in shape)  # ints, numpy ints, 0-d int tensors
    except TypeError:
        kinds = ", ".join(sorted({type(s).__name__ for s in shape}))
        example = "(1, 0)" if what == "axes" else "(2, 3)"
        raise TypeError(f"{name}: {what} must be integers, got {tuple(shape)!r} ({kinds}); "
                        f"pass ints, e.g. {name}{example}") from None
    if sizes and any(s < 0 for s in out):
        raise ValueError(f"{name}: negative size in shape {out}; sizes must be >= 0")
    return out
