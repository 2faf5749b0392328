"""Elementwise ops declared in one line each.

``log1p = unary("log1p", np.log1p, lambda x, ans: 1 / (1 + x), domain=D.unary(-0.9, 3.0),
doc="log(1 + x), accurate near 0.")`` is all an elementwise op needs. From the forward and the
local derivative it makes

- the `UnaryOp`: gradient rule ``g * deriv(x, ans)`` and its in-place form ``g *= deriv``
  (used when the engine alone holds g), differentiable again under ``create_graph=True``
  because ``deriv`` is written in numpy vocabulary;
- the public function (Python numbers and arrays accepted; integer tensors become the default
  float dtype, as in PyTorch, unless ``floats=False``);
- the Tensor method ``x.log1p()`` (``method=False`` for none);
- the numpy interop entry (``np.log1p(t)`` records the op; ``numpy=`` when the forward is not
  the numpy ufunc itself);
- the export (the declaring module's ``__all__ = exported(__name__)``) and the gradient
  property tests (first and second order, from ``domain``), all through
  `tensorgrad.autograd.op.register`;
- ``torch="log1p"`` (default: the name) is the PyTorch function the cross-check test compares
  values, gradients and second derivatives with (tests/test_declared_ops.py).

`binary` does the same for a two-input op whose `Op` (two rules, domain) is written out, with
its Python-number variants (``x * 2.0`` records ``mul_scalar`` with c = 2.0: no constant
tensor), and `constant` for a function without gradient (comparisons).
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional

import numpy as np

from .. import dtypes
from ..autograd.op import Op, UnaryOp, record, register
from ..tensor import Tensor, _const, as_tensor, operand
from ._util import fail

BinaryFn = Callable[[Any, Any], Tensor]
UnaryFn = Callable[[Any], Tensor]

_SAME: Any = object()  # "derive it from the declaration"

# tensorgrad op name -> name of the PyTorch function it matches (for the cross-check test).
TORCH: dict[str, str] = {}
# Tensor methods installed by declarations (the meta-test checks them against the contract).
METHODS: dict[str, Callable[..., Any]] = {}


def pair(a: Any, b: Any, name: str = "tensor") -> tuple:
    """Both operands of binary op `name` as Tensors (Python numbers are weakly typed)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a, b
        if isinstance(b, float) and a.data.dtype.kind != "f":
            a = _const(a.data.astype(dtypes.get_default_dtype()))  # int tensor * 1.5 -> float32
        return a, operand(b, a, name)
    b = b if isinstance(b, Tensor) else as_tensor(b, name)
    if isinstance(a, float) and b.data.dtype.kind != "f":
        b = _const(b.data.astype(dtypes.get_default_dtype()))
    return operand(a, b, name), b


def _name(fn: Callable[..., Any], name: str, doc: str, module: str) -> None:
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.__module__ = module  # the declaring module: its `exported(__name__)` lists fn


def _method(name: str, fn: Callable[..., Any]) -> None:
    """Make `fn` the Tensor method `name` (``x.name()`` is ``fn(x)``, no wrapper)."""
    if name in vars(Tensor) and METHODS.get(name) is None:
        raise ValueError(f"declare: Tensor.{name} is already defined in tensorgrad/tensor.py")
    METHODS[name] = fn
    setattr(Tensor, name, fn)


def _numpy(numpy: Any, forward: Callable[..., Any]) -> Any:
    if numpy is _SAME:
        return forward if isinstance(forward, np.ufunc) else None
    return numpy


def _caller() -> str:
    return sys._getframe(2).f_globals["__name__"]


def unary(name: str, forward: Callable[..., Any], deriv: Callable[..., Any], *,
          domain: Callable[..., Any], doc: str, floats: bool = True, method: bool = True,
          numpy: Any = _SAME, torch: Optional[str] = _SAME,
          second_order: bool = True) -> UnaryFn:
    """Declare the elementwise op ``name(x) = forward(x)`` with ``d/dx = deriv(x, ans)`` (see
    the module docstring). Returns the public function."""
    op = UnaryOp(name, deriv, domain=domain, second_order=second_order)

    def fn(x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_tensor(x)
        if floats and x.data.dtype.kind != "f":  # exp(int tensor) is float32, as in PyTorch
            x = _const(x.data.astype(dtypes.get_default_dtype()))
        return record(op, forward(x.data), (x,))

    _name(fn, name, doc, _caller())
    register(op, numpy=_numpy(numpy, forward))(fn)
    if method:
        _method(name, fn)
    if torch is not None:
        TORCH[name] = name if torch is _SAME else torch
    return fn


class _Number:
    """The Python number a binary op last met with a float tensor, by identity (``y * 0.5`` in
    a loop passes the same float object each time): the params ``{"c": c}`` of its node (shared
    by the nodes: nothing writes params) and c as a 0-d array of the tensor's dtype, which is
    what numpy makes of c before every product anyway (with the same value: a Python number
    takes the array's dtype), at a third of the cost of a small product. A trace (tg.compile)
    sees the number itself."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple = (None, None, np.empty(0))  # (number, params, array): one read

    def get(self, c: Any, x: np.ndarray) -> tuple:
        """(params, c as numpy's operand) for number `c` and the array `x` it meets, when they
        are not the last ones (`binary` tests that itself); (None, None) when x is not float
        (int tensor * 1.5 is a float32 tensor: not a scalar op). Only float arrays are kept,
        so a hit means a float x."""
        if x.dtype.kind != "f":
            return None, None
        params = {"c": c}
        if type(x) is not np.ndarray:
            return params, c
        arr = np.asarray(c, dtype=x.dtype)  # (numpy's own error or warning, as x * c gives)
        if np.isinf(arr) and not np.isinf(c):
            return params, c  # overflowed: not kept, so that numpy warns at every product
        arr.flags.writeable = False
        self.last = (c, params, arr)
        return params, arr


def binary(op: Op, forward: Callable[..., Any], *, doc: str, scalar: Optional[Op] = None,
           rscalar: Optional[Op] = None, numpy: Any = _SAME, method: bool = False,
           torch: Optional[str] = _SAME) -> BinaryFn:
    """Declare the broadcasting op ``op.name(a, b) = forward(a, b)`` with the rules of `op`.

    `scalar` / `rscalar`: one-input ops (rule ``(g, ans, x, c)``) recorded when the right /
    left operand is a Python number and the tensor is float; they are tested as
    ``<name>_scalar`` / ``r<name>_scalar`` through the operators, as users reach them.
    """

    number = _Number()

    def fn(a: Any, b: Any) -> Tensor:
        ta, tb = type(a), type(b)
        if ta is Tensor and (tb is float or tb is int) and scalar is not None:
            x = a.data
            n, params, c = number.last  # (the check spelled out: it runs once per op)
            if b is not n or x.dtype is not c.dtype or type(x) is not np.ndarray:
                params, c = number.get(b, x)
            if params is not None:
                return record(scalar, forward(x, c), (a,), params)
        elif tb is Tensor and (ta is float or ta is int) and rscalar is not None:
            x = b.data
            n, params, c = number.last
            if a is not n or x.dtype is not c.dtype or type(x) is not np.ndarray:
                params, c = number.get(a, x)
            if params is not None:
                return record(rscalar, forward(c, x), (b,), params)
        if ta is not Tensor or tb is not Tensor:
            a, b = pair(a, b, op.name)
        try:
            out = forward(a.data, b.data)
        except (ValueError, TypeError) as e:
            fail(op.name, e, a, b)
        return record(op, out, (a, b))

    _name(fn, op.name, doc, _caller())
    register(op, numpy=_numpy(numpy, forward))(fn)
    if scalar is not None:
        register(scalar, name=f"{op.name}_scalar", call=lambda x, c: fn(x, c))(fn)
    if rscalar is not None and rscalar is not scalar:
        register(rscalar, name=f"r{op.name}_scalar", call=lambda x, c: fn(c, x))(fn)
    if method:
        _method(op.name, fn)
    if torch is not None:
        TORCH[op.name] = op.name if torch is _SAME else torch
    return fn


def constant(name: str, forward: Callable[..., Any], doc: str) -> BinaryFn:
    """Declare a two-input elementwise function without gradient (a comparison): its result
    is a constant bool tensor, and numpy's `forward` on a Tensor gives the same."""

    def fn(a: Any, b: Any) -> Tensor:
        if type(a) is not Tensor or type(b) is not Tensor:
            a, b = pair(a, b, name)
        try:
            return _const(np.asarray(forward(a.data, b.data)))
        except (ValueError, TypeError) as e:
            fail(name, e, a, b)

    _name(fn, name, doc, _caller())
    register(numpy=forward)(fn)
    return fn
