"""The default floating dtype and the rules that turn Python data into arrays."""
from __future__ import annotations

from typing import Any

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


def to_array(data: Any, dtype: Any = None, copy: bool = True) -> np.ndarray:
    """Convert `data` to an ndarray following the Tensor dtype policy.

    numpy arrays and numpy scalars keep their dtype; Python floats (and lists containing
    them) become the default dtype; Python ints stay int64 and bools stay bool, as in PyTorch.
    """
    if dtype is not None:
        arr = np.array(data, dtype=dtype, copy=copy) if copy else np.asarray(data, dtype=dtype)
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, copy=copy) if copy else np.asarray(data)
    else:
        arr = np.asarray(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(_default_dtype, copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"tensor: unsupported data of dtype {arr.dtype}; expected numbers "
            "(float, int or bool)"
        )
    return arr
