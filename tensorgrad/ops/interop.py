"""numpy's dispatch protocols for Tensor: ``np.exp(t)``, ``ndarray * t`` and ``np.where(c, t, 0)``
give Tensors and are recorded, so a gradient rule written with numpy functions runs on arrays
in an ordinary backward pass and on Tensors (differentiably) under ``create_graph=True``.
numpy functions with no Tensor counterpart run on the underlying data and return arrays."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import elementwise as E
from . import linalg as L
from . import reduce as R
from . import shape as S
from . import sorting as O

_UFUNCS: dict[Any, Any] = {
    np.add: E.add, np.subtract: E.sub, np.multiply: E.mul, np.true_divide: E.div,
    np.power: E.pow, np.negative: E.neg, np.exp: E.exp, np.log: E.log, np.sqrt: E.sqrt,
    np.absolute: E.abs, np.sin: E.sin, np.cos: E.cos, np.tanh: E.tanh,
    np.maximum: E.maximum, np.minimum: E.minimum, np.matmul: L.matmul,
    np.less: E.lt, np.less_equal: E.le, np.greater: E.gt, np.greater_equal: E.ge,
    np.equal: E.eq, np.not_equal: E.ne, np.sign: E.sign,
}


def _reduction(fn: Any) -> Any:
    return lambda a, axis=None, keepdims=False: fn(a, axis=axis, keepdims=keepdims)


_FUNCTIONS: dict[Any, Any] = {
    np.sum: _reduction(R.sum), np.mean: _reduction(R.mean), np.max: _reduction(R.max),
    np.min: _reduction(R.min), np.amax: _reduction(R.max), np.amin: _reduction(R.min),
    np.reshape: lambda a, shape=None, newshape=None: S.reshape(a, shape or newshape),
    np.transpose: lambda a, axes=None: S.transpose(a) if axes is None else S.permute(a, axes),
    np.swapaxes: S.swapaxes, np.broadcast_to: S.broadcast_to,
    np.expand_dims: lambda a, axis: S.unsqueeze(a, axis),
    np.squeeze: lambda a, axis=None: S.squeeze(a, axis),
    np.where: lambda c, a, b: E.where(c, a, b), np.concatenate: S.concatenate,
    np.stack: S.stack, np.clip: lambda a, lo=None, hi=None: E.clip(a, lo, hi),
    np.matmul: L.matmul,
    # porting: ops added with the PyTorch spellings
    np.var: lambda a, axis=None, ddof=0, keepdims=False: R.var(a, axis, keepdims, ddof),
    np.std: lambda a, axis=None, ddof=0, keepdims=False: R.std(a, axis, keepdims, ddof),
    np.cumsum: lambda a, axis=None: R.cumsum(a, axis), np.argmax: R.argmax,
    np.argmin: R.argmin, np.sort: lambda a, axis=-1: O.sort(a, axis).values,
    np.tile: S.tile, np.allclose: R.allclose,
}


def _plain(x: Any) -> Any:
    if hasattr(x, "_op") and hasattr(x, "data"):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def array_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    fn = _UFUNCS.get(ufunc)
    if method == "__call__" and fn is not None and not kwargs:
        return fn(*inputs)
    return getattr(ufunc, method)(*_plain(inputs), **{k: _plain(v) for k, v in kwargs.items()})


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    fn = _FUNCTIONS.get(func)
    if fn is not None:
        try:
            return fn(*args, **kwargs)
        except TypeError:
            pass  # an argument we do not support (out=, dtype=...): compute on the data
    return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
