"""Custom operations: subclass `Function` with static ``forward(ctx, *arrays)`` and
``backward(ctx, grad)``, then call ``MyOp.apply(*tensors)``.

``forward`` runs on numpy arrays. ``backward`` runs on numpy arrays in an ordinary backward
pass; under ``create_graph=True`` it runs on Tensors instead (``grad``, and each saved array
that is an input ``forward`` received or the array it returned, stand for that Tensor), so a
backward written in numpy vocabulary that tensorgrad covers is itself differentiated and
second derivatives through the op are right. Other saved arrays are constants. Decorate a
backward that cannot be differentiated (it leaves numpy for something tensorgrad has no
gradient for) with `once_differentiable`: a double backward through it then raises.

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
    >>> (g,) = tg.grad(Cube.apply(x).sum(), x, create_graph=True)
    >>> tg.grad(g.sum(), x)                                          # 6 x
    (tensor([ 6., 12.]),)
    >>> tg.gradcheck(Cube.apply, [tg.tensor(np.array([0.5, -1.0]), requires_grad=True)])
    True
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..tensor import Tensor
from . import grad_mode
from .op import Op, record


class Context:
    """What ``forward`` leaves for ``backward``: saved arrays and any attributes set on it."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple = ()
        # What each saved array stands for under create_graph (see Function.apply): the index
        # of a tensor input, -1 for the output, None for a constant (left as it is).
        self._links: tuple = ()
        self._as_tensors: Optional[tuple] = None  # set while backward runs on Tensors

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (or None) for backward; read them back as ``ctx.saved_tensors``."""
        self._saved = tuple(a.data if isinstance(a, Tensor) else a for a in arrays)

    @property
    def saved_tensors(self) -> tuple:
        """The saved arrays, in order (Tensors while backward runs under create_graph)."""
        return self._saved if self._as_tensors is None else self._as_tensors


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a Function's ``backward`` as not differentiable itself (as PyTorch's decorator).

    It then always receives numpy arrays; a first-order gradient works as usual, also under
    ``create_graph=True``, but differentiating that gradient again raises `RuntimeError`
    naming the Function. Put it under ``@staticmethod``.
    """
    target = backward.__func__ if isinstance(backward, staticmethod) else backward
    target._once_differentiable = True  # type: ignore[attr-defined]
    return backward


class _FunctionOp(Op):
    """The graph node of one Function subclass: calls its ``backward`` with the saved ctx."""

    __slots__ = ("function", "once")
    fresh_results = False  # the user's backward may hand back arrays it keeps

    def __init__(self, function: Any) -> None:
        super().__init__(function.__name__)
        self.function: Any = function
        self.once = _OnceDifferentiated(function.__name__)

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], owned: bool = False) -> list:
        assert params is not None
        ctx, positions = params["ctx"], params["positions"]
        on_tensors = isinstance(g, Tensor)  # create_graph: args are the input Tensors
        once = getattr(self.function.backward, "_once_differentiable", False)
        if on_tensors and not once:
            ctx._as_tensors = tuple(a if k is None else ans if k == -1 else args[k]
                                    for a, k in zip(ctx._saved, ctx._links))
            try:
                out = self.function.backward(ctx, g)
            finally:
                ctx._as_tensors = None
        else:
            out = self.function.backward(ctx, g.data if on_tensors else g)
        grads = self._per_input(out, params["nargs"], positions)
        result: list = []
        for gi, p, position in zip(grads, inputs, positions):
            if gi is None or not p.requires_grad:
                result.append(None)
                continue
            if not on_tensors or once:
                gi = np.asarray(gi)  # (a Tensor gives its array)
            elif not isinstance(gi, Tensor):
                raise RuntimeError(
                    f"{self.name}.backward: under create_graph=True it returned a "
                    f"{type(gi).__name__}, not a Tensor, for input {position}: a call in it "
                    "has no Tensor counterpart, so the derivative of this gradient would be "
                    "lost. Write backward with operators and numpy functions that tensorgrad "
                    "covers, or decorate it with @tg.once_differentiable")
            self._check(gi, p, position)
            if on_tensors and once:  # differentiable no further: a node that says so
                gi = record(self.once, gi, (g, *inputs))
            result.append(gi)
        return result

    def _per_input(self, out: Any, nargs: int, positions: list) -> list:
        grads = list(out) if isinstance(out, (tuple, list)) else [out]
        if len(grads) not in (nargs, len(positions)):
            raise RuntimeError(
                f"{self.name}.backward returned {len(grads)} gradients, expected {nargs} "
                f"(one per forward input)"
            )
        return [grads[i] for i in positions] if len(grads) == nargs else grads

    def _check(self, gi: Any, p: Tensor, position: int) -> None:
        """A gradient must be floating and reduce to its input's shape (the engine sums it over
        broadcast axes); otherwise the user's backward is wrong: say so, naming it and the
        input, before the engine fails on it somewhere less clear."""
        if gi.dtype.kind != "f":
            raise TypeError(
                f"{self.name}.backward: the gradient for input {position} has dtype {gi.dtype} "
                f"(shape {gi.shape}), the input is {p.dtype} of shape {p.shape}; return a "
                "floating point gradient")
        lead = gi.ndim - p.ndim
        if lead < 0 or any(s != 1 and s != t for s, t in zip(p.shape, gi.shape[lead:])):
            raise ValueError(
                f"{self.name}.backward: the gradient for input {position} has shape "
                f"{gi.shape}, which does not reduce to the input's shape {p.shape}; return a "
                "gradient of the input's shape (or of the shape it was broadcast to)")


class _OnceDifferentiated(Op):
    """The node of a gradient made by a ``once_differentiable`` backward under create_graph:
    differentiating it raises."""

    __slots__ = ()

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], owned: bool = False) -> list:
        raise RuntimeError(
            f"{self.name}: trying to differentiate its gradient a second time, but its "
            "backward is marked @once_differentiable. Remove the decorator and write backward "
            "with operations tensorgrad can differentiate to get higher derivatives through it")


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
        result = np.asarray(out)
        # A saved array that is the very array forward received (or returned) stands for
        # that input (or the output): identity, not equality, decides.
        tensor_arrays = [arrays[i] for i in positions]
        ctx._links = tuple(
            next((j for j, a in enumerate(tensor_arrays) if s is a),
                 -1 if s is out or s is result else None)
            for s in ctx._saved)
        inputs = tuple(args[i] for i in positions)
        return record(op, result, inputs,
                      {"ctx": ctx, "positions": positions, "nargs": len(args)})
