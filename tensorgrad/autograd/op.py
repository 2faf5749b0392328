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

    __slots__ = ("name", "rules", "domain", "second_order", "fn", "inplace")

    # The rules return fresh arrays or views (never an array something else keeps), so the
    # engine may treat their results as its own. User code (tg.Function) cannot promise that.
    fresh_results = True

    def __init__(
        self,
        name: str,
        *rules: Rule,
        domain: Optional[Callable[..., Any]] = None,
        second_order: bool = True,
        key: Optional[str] = None,
        inplace: Optional[Rule] = None,
    ) -> None:
        self.name = name
        self.rules = rules
        # For one-input elementwise ops: the same rule writing into g, used when the engine
        # owns g outright (saves a gradient-sized allocation per node, as hand-written
        # backprop does with `dz *= sigma'(z)`).
        self.inplace = inplace
        # domain(draw, strategies) -> (inputs, params): what the gradient property test feeds
        # this op. A plain function, so the package never imports hypothesis itself.
        self.domain = domain
        self.second_order = second_order
        self.fn: Optional[Callable[..., Any]] = None  # the public function, set by `register`
        if domain is not None:  # `key` names variants that users see under one name
            OPS[key or name] = self

    def backward(self, g: Any, ans: Any, args: Sequence[Any], params: Optional[dict],
                 inputs: Sequence[Any], mutable: bool = False) -> list:
        """Gradients for each input (None where the input needs none). `mutable`: nothing
        but the engine refers to the array `g`, so an in-place rule may overwrite it."""
        kw = params or _NO_PARAMS
        rules = self.rules
        if len(inputs) == 1:  # the common cases, spelled out: this runs once per node
            if mutable and self.inplace is not None:
                return [self.inplace(g, ans, *args, **kw)]
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

# Every op with a test domain, by name: the gradient property tests iterate this table, and a
# meta-test fails for a public op that is missing from it.
OPS: dict[str, Op] = {}


def register(op: Op) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator tying the public function to its `Op` (the tests call ops through it)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        op.fn = fn
        return fn

    return deco


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
                init_slots(t, data, True, op, inputs, params)
                t._seq = next(_counter)
                if anomaly_hook is not None:
                    anomaly_hook(t, "forward")
                return t
    init_slots(t, data, False)
    return t


_new = object.__new__
_grad_enabled = grad_mode.is_enabled  # this thread's mode: one C call per op
_counter = itertools.count()  # creation order of recorded tensors: the engine's topological key


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def composite(name: str, domain: Callable[..., Any],
              call: Optional[Callable[..., Any]] = None) -> Decorator:
    """Register a public function built from other ops (no rule of its own) for the gradient
    property tests, so that every differentiable function users can call is checked. `call`
    adapts the test's ``fn(*inputs, **params)`` convention when the signature differs."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        Op(name, domain=domain).fn = call or fn
        return fn

    return deco
