"""An `Op` is one differentiable operation's backward half: its name, a gradient rule per
tensor input, and the domain of inputs its property test draws from. `record` makes the
output Tensor of an op and links it into the graph.

A gradient rule is ``rule(g, ans, *inputs, **params) -> gradient``. It is written once, in
numpy vocabulary (operators, ``np.exp``, ``np.where``, ``.sum``, ``.reshape`` ...), and runs on
plain arrays during an ordinary ``backward()``; under ``create_graph=True`` the engine passes
Tensors instead, Tensor answers the same vocabulary by recording ops, and the gradient is
itself differentiable. The rule may return a gradient of the broadcast shape or of another
float dtype: the engine reduces and casts it to the input's shape and dtype in one place. It
must return a new array or a view of g, never an array kept elsewhere (a saved input, say):
the engine may later overwrite gradients that only it holds.

Declaring an op: one path
-------------------------
Every public function that users call goes through `register`, once, and that one call gives
everything around it::

    CUMSUM = Op("cumsum", rule, domain=D.reduction(...))     # rules + test domain

    @register(CUMSUM, numpy=np.cumsum)                       # public function, numpy entry
    def cumsum(x, axis=None): ... return record(CUMSUM, out, (x,), {"axis": axis})

- `register(op)` ties the public function to `op` (``op.fn``) and lists the op in `OPS` under
  ``name=`` (default ``op.name``), so the gradient property tests (first and second order,
  float32 shape/dtype) run on it; ``call=`` adapts the tests' ``fn(*inputs, **params)``
  convention when the signature differs (``lambda *xs, axis: concatenate(xs, axis)``).
- ``numpy=np.cumsum`` (or a dict ``{np.amax: adapter, ...}``) is the numpy interop entry:
  ``np.cumsum(t)`` then records the op, and gradient rules that call ``np.cumsum`` are
  differentiated under ``create_graph=True``. A numpy function nobody registered raises
  (see tensorgrad/ops/interop.py) instead of silently dropping the graph.
- A function built from other ops (no rule of its own) registers an `Op` without rules:
  ``register(Op("std", domain=...))``: its gradient is checked like any other.
- ``register(numpy=np.less)`` with no op: a public function without a gradient (comparisons).
- Elementwise ops are declared by their local derivative in one line, which makes the `Op`,
  the in-place rule, the public function, the Tensor method and the export, and registers
  them through this same path: ``unary("log1p", np.log1p, lambda x, ans: 1 / (1 + x),
  domain=D.unary(-0.9, 3.0))`` (see tensorgrad/ops/declare.py).
- A family module may end with ``__all__ = exported(__name__)``: its public functions in
  declaration order (``public=False`` keeps a registered helper out).
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..tensor import Tensor, init_slots
from . import grad_mode

Rule = Callable[..., Any]


class Op:
    """One differentiable operation (see the module docstring)."""

    __slots__ = ("name", "rules", "domain", "second_order", "fn")

    # The rules return fresh arrays or views (never an array something else keeps), so the
    # engine may treat their results as its own. User code (tg.Function) cannot promise that.
    fresh_results = True
    # Every rule returns a gradient of its input's shape and dtype, or g itself (elementwise
    # ops of one tensor): the engine then skips its reduce-and-cast checks for them.
    exact = False

    def __init__(
        self,
        name: str,
        *rules: Rule,
        domain: Optional[Callable[..., Any]] = None,
        second_order: bool = True,
    ) -> None:
        self.name = name
        self.rules = rules
        # domain(draw, strategies) -> (inputs, params): what the gradient property test feeds
        # this op. A plain function, so the package never imports hypothesis itself.
        self.domain = domain
        self.second_order = second_order
        self.fn: Optional[Callable[..., Any]] = None  # the public function, set by `register`

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], mutable: bool = False) -> list:
        """Gradients for each input (None where the input needs none). `mutable`: nothing
        but the engine refers to the array `g`, so an in-place rule may overwrite it."""
        kw = params or _NO_PARAMS
        rules = self.rules
        if len(inputs) == 1:  # the common cases, spelled out: this runs once per node
            return [rules[0](g, ans, *args, **kw)]
        if len(inputs) == 2:
            a, b = inputs
            return [rules[0](g, ans, *args, **kw) if a.requires_grad else None,
                    rules[1](g, ans, *args, **kw) if b.requires_grad else None]
        if len(inputs) == 3 and len(rules) == 3:  # linear: x, W, b
            a, b, c = inputs
            return [rules[0](g, ans, *args, **kw) if a.requires_grad else None,
                    rules[1](g, ans, *args, **kw) if b.requires_grad else None,
                    rules[2](g, ans, *args, **kw) if c.requires_grad else None]
        return [
            rule(g, ans, *args, **kw) if p.requires_grad else None
            for rule, p in zip(rules, inputs)
        ]

    def __repr__(self) -> str:
        return f"<op {self.name}>"


class UnaryOp(Op):
    """A one-input elementwise op given by its local derivative ``deriv(x, ans, **params)``
    (numpy vocabulary, like any rule): the gradient is ``g * deriv``, computed in place in g
    when the engine alone holds g (``dz *= sigma'(z)`` of hand-written backprop, which saves a
    gradient-sized allocation per node). Declared with ``tensorgrad.ops.declare.unary``."""

    __slots__ = ("deriv",)
    # g * deriv keeps g's shape and dtype: deriv is x's shape (or a scalar) and, for every
    # declared op, x's dtype (or a bool mask, or a Python number); the float32 gradient tests
    # check each declaration's dtype.
    exact = True

    def __init__(self, name: str, deriv: Callable[..., Any],
                 domain: Optional[Callable[..., Any]] = None, second_order: bool = True) -> None:
        super().__init__(name, lambda g, ans, x, **kw: g * deriv(x, ans, **kw), domain=domain,
                         second_order=second_order)
        self.deriv = deriv

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], mutable: bool = False) -> list:
        d = self.deriv(args[0], ans, **params) if params else self.deriv(args[0], ans)
        if mutable:
            return [np.multiply(g, d, out=g)]
        return [g * d]


class ScalarOp(Op):
    """``x op c`` for a float tensor x and a Python number c, kept as ``params = {"c": c}``: one
    rule ``rule(g, ans, x, c)``. Elementwise, and a Python number never changes a float
    array's dtype, so the gradient has x's shape and dtype."""

    __slots__ = ()
    exact = True

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], mutable: bool = False) -> list:
        assert params is not None
        return [self.rules[0](g, ans, args[0], params["c"])]  # (no **params to unpack)


class VariadicOp(Op):
    """An op over any number of inputs (concatenate, stack).

    Its single rule takes the input's position first: ``rule(i, g, ans, *inputs, **params)``.
    """

    __slots__ = ()

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], mutable: bool = False) -> list:
        rule = self.rules[0]
        kw = params or _NO_PARAMS
        return [
            rule(i, g, ans, *args, **kw) if p.requires_grad else None for i, p in enumerate(inputs)
        ]


_NO_PARAMS: dict = {}

# Every registered op, by name: the gradient property tests iterate this table, and a meta-test
# fails for a public op that is missing from it.
OPS: dict[str, Op] = {}
# numpy function or ufunc -> the tensorgrad function that stands for it (tensorgrad/ops/interop.py).
NUMPY: dict[Any, Callable[..., Any]] = {}
# module name -> its registered public functions' names, in order (see `exported`).
_EXPORTS: dict[str, list] = {}

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def register(op: Optional[Op] = None, *, call: Optional[Callable[..., Any]] = None,
             numpy: Any = None, name: Optional[str] = None, public: bool = True) -> Decorator:
    """Decorator: the one way to declare a public function (see the module docstring).

    `op`: its `Op` (None for a function without gradient); `call`: the tests' way to call it
    when its signature is not ``fn(*inputs, **params)``; `numpy`: the numpy function(s) it
    stands for (a callable, or a dict numpy function -> adapter); `name`: its key in `OPS`
    (variants such as ``mul_scalar`` share their op's name); `public`: listed by `exported`.
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if op is not None:
            key = name or op.name
            if key in OPS and OPS[key] is not op:
                raise ValueError(f"register: two ops named {key!r} (pass name= to tell apart)")
            op.fn = call or fn
            OPS[key] = op
        entries = numpy if isinstance(numpy, dict) else {numpy: fn} if numpy is not None else {}
        NUMPY.update(entries)
        if public:
            names = _EXPORTS.setdefault(fn.__module__, [])
            if fn.__name__ not in names:
                names.append(fn.__name__)
        return fn

    return deco


def exported(module: str) -> list:
    """The public functions registered from `module` (its ``__all__``)."""
    return list(_EXPORTS.get(module, ()))


# Set by tensorgrad.autograd.anomaly while `detect_anomaly()` is active.
anomaly_hook: Optional[Callable[..., None]] = None


def record(op: Op, data: Any, inputs: tuple, params: Optional[dict] = None) -> Tensor:
    """Wrap `data` (the op's forward result) in a Tensor linked to `inputs` through `op`.

    The link is made only when grad mode is on and some input requires grad; otherwise the
    result is a plain constant Tensor and nothing is kept alive.
    """
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    t = _new(Tensor)
    if _grad_enabled():
        for p in inputs:
            if p.requires_grad:
                # init_slots(t, data, True, op, inputs, params) spelled out: this runs once
                # per recorded op, and the call costs about as much as the six stores
                t.data = data
                t.grad = None
                t.requires_grad = True
                t._op = op
                t._inputs = inputs
                t._params = params
                t._seq = next(_counter)
                if anomaly_hook is not None:
                    anomaly_hook(t, "forward")
                return t
    init_slots(t, data, False)
    return t


_new = object.__new__
_grad_enabled = grad_mode.is_enabled  # this thread's mode: one C call per op
_counter = itertools.count()  # creation order of recorded tensors: the engine's topological key

