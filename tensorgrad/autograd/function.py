"""Custom operations: subclass `Function` with static ``forward(ctx, *arrays)`` and
``backward(ctx, grad)`` working on numpy arrays, then call ``MyOp.apply(*tensors)``.

Examples:
    >>> import numpy as np, tensorgrad as tg
    >>> class Cube(tg.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * grad
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad
    array([ 3., 12.], dtype=float32)
    >>> tg.gradcheck(Cube.apply, [tg.tensor(np.array([0.5, -1.0]), requires_grad=True)])
    True

A custom op is differentiated once: under ``create_graph=True`` its gradient is a constant.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..tensor import Tensor, _const
from . import grad_mode
from .op import Op, record


class Context:
    """What ``forward`` leaves for ``backward``: saved arrays and any attributes set on it."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (or None) for backward; read them back as ``ctx.saved_tensors``."""
        self.saved_tensors = tuple(a.data if isinstance(a, Tensor) else a for a in arrays)


class _FunctionOp(Op):
    """The graph node of one Function subclass: calls its ``backward`` with the saved ctx."""

    __slots__ = ("function",)
    fresh_results = False  # the user's backward may hand back arrays it keeps

    def __init__(self, function: Any) -> None:
        super().__init__(function.__name__)
        self.function: Any = function

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], owned: bool = False) -> list:
        assert params is not None
        ctx, positions, nargs = params["ctx"], params["positions"], params["nargs"]
        as_tensor = isinstance(g, Tensor)
        out = self.function.backward(ctx, g.data if as_tensor else g)
        grads = list(out) if isinstance(out, (tuple, list)) else [out]
        if len(grads) not in (nargs, len(positions)):
            raise RuntimeError(
                f"{self.name}.backward returned {len(grads)} gradients, expected {nargs} "
                f"(one per forward input)"
            )
        if len(grads) == nargs:
            grads = [grads[i] for i in positions]
        result: list = []
        for gi, p in zip(grads, inputs):
            if gi is None or not p.requires_grad:
                result.append(None)
                continue
            gi = np.asarray(gi)
            if as_tensor:
                gi = _const(gi)
            result.append(gi)
        return result


class Function:
    """Base class of user-defined differentiable operations (see the module docstring)."""

    _op: Optional[_FunctionOp] = None

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` on the arrays of the Tensor arguments and record the result."""
        op = cls.__dict__.get("_op")
        if op is None:
            op = cls._op = _FunctionOp(cls)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx = Context(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        with grad_mode.no_grad():
            out = cls.forward(ctx, *arrays)
        if isinstance(out, Tensor):
            out = out.data
        out = np.asarray(out)
        inputs = tuple(args[i] for i in positions)
        return record(op, out, inputs,
                      {"ctx": ctx, "positions": positions, "nargs": len(args)})
