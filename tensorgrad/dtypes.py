"""The default floating dtype and the rules that turn Python data into arrays."""
from __future__ import annotations

from typing import Any, Callable, Union

import numpy as np

_default_dtype: np.dtype = np.dtype(np.float32)


def get_default_dtype() -> np.dtype:
    """The dtype Python floats (and lists of them) become: float32 unless changed."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype Python floats become; only float16/32/64 are allowed."""
    global _default_dtype
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d}")
    _default_dtype = d


def to_array(data: Any, dtype: Any = None, copy: bool = True, name: str = "tensor",
             what: Union[str, Callable[[], str]] = "data") -> np.ndarray:
    """Convert `data` to an ndarray following the Tensor dtype policy.

    numpy arrays and numpy scalars keep their dtype; Python floats (and lists containing
    them) become the default dtype; Python ints stay int64 and bools stay bool, as in PyTorch.
    Anything that is not numbers raises `TypeError`, ragged nested lists `ValueError`, both
    naming the op `name` and the argument `what` (a string, or a function making it only
    when needed). Every path from user data to a Tensor passes here, so this is where bad data
    is caught, before anything is recorded.
    """
    if isinstance(data, (np.ndarray, np.generic)):
        arr: Any = data
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:  # numpy's "inhomogeneous shape": rows of different lengths
            raise ValueError(f"{name}: {_what(what)} {_show(data)} is ragged: its nested sequences "
                             "have different lengths, so they do not form an array; give every "
                             "row the same length") from e
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: {_what(what)} must be numbers (float, int or bool), got "
                        f"{_show(data)} of dtype {arr.dtype}; pass a number, a (nested) list "
                        "of numbers, a numeric array or a Tensor")
    fresh = arr is not data  # made from Python data just now: ours, no copy needed
    if dtype is not None:
        d = numeric_dtype(name, dtype)
        return np.array(arr, dtype=d) if copy and not fresh else np.asarray(arr, dtype=d)
    if fresh:
        return arr.astype(_default_dtype, copy=False) if arr.dtype.kind == "f" else arr
    return np.array(arr, copy=True) if copy else np.asarray(arr)


def numeric_dtype(name: str, dtype: Any) -> np.dtype:
    """`dtype` as a numpy dtype, which must be numeric (TypeError naming `name` otherwise)."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: {dtype!r} is not a dtype; use e.g. np.float32, np.float64, "
                        "np.int64 or bool") from None
    if d.kind not in "fiub":
        raise TypeError(f"{name}: only numeric dtypes (float, int or bool) are supported, got "
                        f"{d}; use e.g. np.float32, np.float64, np.int64 or bool")
    return d


def _what(what: Union[str, Callable[[], str]]) -> str:
    return what if isinstance(what, str) else what()


def _show(data: Any) -> str:
    text = repr(data)
    return f"{text[:57] + '...' if len(text) > 60 else text} ({type(data).__name__})"
