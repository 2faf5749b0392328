"""Hypothesis strategies for property-testing ops and layers, the ones tensorgrad's own tests use.

    from hypothesis import given
    from tensorgrad.testing import strategies as s

    @given(s.arrays(s.shapes()), ...)

Importing this module imports hypothesis (a dev dependency); ``import tensorgrad`` does not.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

try:
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "tensorgrad.testing needs hypothesis: pip install hypothesis "
        "(or pip install 'tensorgrad-numpy[dev]')"
    ) from e

# Re-exported so that op test domains (tensorgrad/ops/domains.py) need only this module.
integers = st.integers
floats = st.floats
booleans = st.booleans
sampled_from = st.sampled_from
permutations = st.permutations
just = st.just
__all__ = [
    "arrays", "shapes", "broadcastable_shapes", "axes", "indices", "bool_arrays", "int_arrays",
    "tensors", "integers", "floats", "booleans", "sampled_from", "permutations", "just", "assume",
]
np = np  # noqa: PLW0127 - domains reach numpy through here
assume = assume

# Kinks and boundaries are avoided by this margin; far above gradcheck's step of 1e-6.
MARGIN = 1e-2


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> Any:
    """Array shapes, e.g. (), (3,), (2, 1, 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(n: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                         max_side: int = 4) -> Any:
    """A list of `n` shapes that broadcast together (numpy rules), e.g. [(2, 1, 3), (4, 1)].

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> from hypothesis import given, settings
        >>> from tensorgrad.testing import strategies as s
        >>> @settings(max_examples=20, database=None, derandomize=True)
        ... @given(s.broadcastable_shapes(n=2))
        ... def test_add_broadcasts(shapes):
        ...     a, b = tg.ones(shapes[0]), tg.ones(shapes[1])
        ...     assert (a + b).shape == np.broadcast_shapes(*shapes)
        >>> test_add_broadcasts()
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda bs: list(bs.input_shapes))


def arrays(shape: Any, dtype: Any = np.float64, low: float = -3.0, high: float = 3.0,
           avoid: Sequence[float] = (), unique: bool = False) -> Any:
    """Float arrays of `shape` (a shape or a strategy for one) with values in [low, high],
    at least MARGIN away from each point in `avoid`; `unique` spaces values apart (no ties)."""
    if unique:
        lo, hi = int(np.ceil(low * 20)), int(np.floor(high * 20))
        elements = st.integers(lo, hi).map(lambda i: i / 20.0)
    else:
        elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)
        if avoid:
            pts = tuple(avoid)
            elements = elements.filter(lambda v: all(abs(v - p) > MARGIN for p in pts))
    return hnp.arrays(dtype, shape, elements=elements, unique=unique)


def bool_arrays(shape: Any) -> Any:
    """Boolean arrays (masks) of `shape`."""
    return hnp.arrays(np.bool_, shape)


def int_arrays(shape: Any, low: int, high: int) -> Any:
    """int64 arrays of `shape` with values in [low, high] (class targets, indices)."""
    return hnp.arrays(np.int64, shape, elements=st.integers(low, high))


def axes(ndim: int) -> Any:
    """(axis, keepdims) pairs valid for `ndim` dimensions: None, an int (maybe negative) or a
    tuple of distinct ints."""
    single: Any
    several: Any
    if ndim == 0:
        single = st.nothing()
        several = st.nothing()
    else:
        single = st.integers(-ndim, ndim - 1)
        several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                           unique=True).map(lambda v: tuple(v))
    return st.tuples(st.one_of(st.none(), single, several), st.booleans())


def indices(shape: tuple) -> Any:
    """Indices valid for `shape`: basic ones (ints, slices, None, ...), integer arrays with
    repeats (whose gradients must add up), and boolean masks."""
    basic = hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)
    advanced = hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2,
                                                                              max_side=4))
    mask = bool_arrays(shape)
    return st.one_of(basic, advanced, mask)


def tensors(shape: Any = None, dtype: Any = np.float64, requires_grad: bool = True,
            **kwargs: Any) -> Any:
    """tensorgrad Tensors (float64 by default, requiring grad) with values as in `arrays`.

    Examples:
        >>> import tensorgrad as tg
        >>> from hypothesis import given, settings
        >>> from tensorgrad.testing import strategies as s
        >>> @settings(max_examples=20, database=None, derandomize=True)
        ... @given(s.tensors(s.shapes(min_dims=1)))
        ... def test_tanh_gradient(x):
        ...     assert x.dtype == "float64" and tg.gradcheck(lambda t: t.tanh().sum(), [x])
        >>> test_tanh_gradient()
    """
    from ..tensor import Tensor

    return arrays(shapes() if shape is None else shape, dtype, **kwargs).map(
        lambda a: Tensor(a, requires_grad=requires_grad))
