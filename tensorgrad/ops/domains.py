"""Test domains: where each op's gradient property test draws its inputs from.

A domain is ``domain(draw, s) -> (inputs, params)``: `draw` is hypothesis' draw function and
`s` is `tensorgrad.testing.strategies`, both handed in by the test, so this module never imports
hypothesis. Float arrays in `inputs` become float64 tensors that require grad; other values
(integer targets, boolean masks) are passed as they are.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

Domain = Callable[[Any, Any], Any]


def unary(low: float = -3.0, high: float = 3.0, avoid: Sequence[float] = ()) -> Domain:
    """One array of any shape (0-3 dims) with values in [low, high], away from `avoid`
    (points where the op has a kink, so finite differences would straddle it)."""

    def domain(draw: Any, s: Any) -> Any:
        x = draw(s.arrays(draw(s.shapes()), low=low, high=high, avoid=avoid))
        return [x], {}

    return domain


def binary(low: float = -3.0, high: float = 3.0, low_b: Any = None, high_b: Any = None,
           distinct: bool = False) -> Domain:
    """Two arrays of mutually broadcastable shapes; `distinct` keeps them apart (no ties)."""

    def domain(draw: Any, s: Any) -> Any:
        sa, sb = draw(s.broadcastable_shapes(2))
        a = draw(s.arrays(sa, low=low, high=high))
        b = draw(s.arrays(sb, low=low if low_b is None else low_b,
                          high=high if high_b is None else high_b))
        if distinct:
            s.assume(s.np.all(s.np.abs(a - b) > 1e-3))
        return [a, b], {}

    return domain


def reduction(low: float = -3.0, high: float = 3.0, distinct: bool = False, min_side: int = 1,
              **extra: Any) -> Domain:
    """One array and a valid ``axis`` (int, tuple or None) with ``keepdims``; `distinct` spaces
    the values apart (no ties), `min_side` sets the smallest axis length."""

    def domain(draw: Any, s: Any) -> Any:
        shape = draw(s.shapes(min_dims=int(min_side > 1), min_side=min_side))
        x = draw(s.arrays(shape, low=low, high=high, unique=distinct))
        axis, keepdims = draw(s.axes(len(shape)))
        return [x], {"axis": axis, "keepdims": keepdims, **extra}

    return domain


def along_axis(low: float = -3.0, high: float = 3.0) -> Domain:
    """One array of at least one dimension and a single valid ``axis`` (softmax and kin)."""

    def domain(draw: Any, s: Any) -> Any:
        shape = draw(s.shapes(min_dims=1))
        x = draw(s.arrays(shape, low=low, high=high))
        axis = draw(s.integers(-len(shape), len(shape) - 1))
        return [x], {"axis": axis}

    return domain
