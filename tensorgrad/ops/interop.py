"""numpy's dispatch protocols for Tensor: ``np.exp(t)``, ``ndarray * t`` and ``np.where(c, t, 0)``
give Tensors and are recorded, so a gradient rule written with numpy functions runs on arrays
in an ordinary backward pass and on Tensors (differentiably) under ``create_graph=True``.

The table of numpy functions tensorgrad stands in for is not written here: each op declares
its numpy counterpart where it is registered (``register(op, numpy=np.cumsum)``, or `unary`
from the ufunc), into `tensorgrad.autograd.op.NUMPY`.

Nothing escapes the graph silently: any other numpy function or ufunc, called in grad mode
with an argument that requires grad, raises `TypeError` naming it. Only functions whose result
carries no gradient (`CONSTANT` below: comparisons, predicates, indices, shapes) compute on
the data, as does everything when no argument requires grad or under ``tg.no_grad()``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import grad_mode
from ..autograd.op import _EXPORTS, NUMPY
from ..tensor import Tensor

# numpy functions whose result has no gradient to lose: it is boolean or integer (indices,
# counts, predicates), a shape or dtype, or piecewise constant in the values (zero gradient
# almost everywhere, as PyTorch gives for sign and round). They run on the data.
CONSTANT: frozenset = frozenset([
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.isfinite, np.isnan,
    np.isinf, np.signbit, np.sign, np.floor, np.ceil, np.trunc, np.rint, np.round, np.around,
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.searchsorted, np.any, np.all, np.allclose, np.isclose,
    np.array_equal, np.array_equiv, np.shape, np.ndim, np.size, np.result_type,
    np.may_share_memory, np.shares_memory, np.zeros_like, np.ones_like, np.empty_like,
    np.iscomplexobj, np.isrealobj, np.broadcast_shapes,
])


def _plain(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def _needs_grad(x: Any) -> bool:
    if isinstance(x, Tensor):
        return x.requires_grad
    if isinstance(x, (list, tuple)):
        return any(_needs_grad(v) for v in x)
    return False


def _on_data(func: Any, name: str, args: tuple, kwargs: dict, registered: bool) -> Any:
    """Run numpy's `func` on the arrays behind the Tensors, unless that would drop a gradient."""
    if grad_mode.is_enabled() and (_needs_grad(args) or _needs_grad(tuple(kwargs.values()))):
        short = name.split(".")[1]
        ours = any(short in names for names in _EXPORTS.values())
        raise TypeError(
            f"tensorgrad has no gradient for {name}"
            f"{' with these arguments' if registered else ''} on a tensor that requires grad "
            f"(its result would silently leave the graph); use "
            f"{f'tg.{short}' if ours else 'a tensorgrad op'}, detach() the tensor, or wrap the "
            "call in tg.no_grad()")
    return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})


def array_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    fn = NUMPY.get(ufunc)
    if fn is not None and method == "__call__" and not kwargs:
        return fn(*inputs)
    call = ufunc if method == "__call__" else getattr(ufunc, method)
    if ufunc in CONSTANT:
        return call(*_plain(inputs), **{k: _plain(v) for k, v in kwargs.items()})
    name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    return _on_data(call, name, inputs, kwargs, fn is not None)


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    fn = NUMPY.get(func)
    if fn is not None:
        try:
            return fn(*args, **kwargs)
        except TypeError:
            pass  # an argument we do not support (out=, dtype=...): see _on_data
    if func in CONSTANT:
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
    return _on_data(func, f"numpy.{func.__name__}", args, kwargs, fn is not None)
