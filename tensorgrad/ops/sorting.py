"""Ordering ops: `sort` and `topk`, each returning ``(values, indices)`` as PyTorch does.

The values are ``x`` indexed by the (int64, non-differentiable) indices along the axis, so
their gradient is the indexing op's: g scattered back to the positions it came from, and
second derivatives come with it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.op import Op, register
from ..spellings import spellings
from ..tensor import Tensor, _const, as_tensor
from ._util import ValuesIndices, norm_axis
from .shape import getitem

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["sort", "topk"]


def _one_axis(name: str, x: Tensor, axis: Any) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    if x.ndim == 0:
        raise ValueError(f"{name}: needs a tensor of at least one dimension, got shape ()")
    ax = norm_axis(name, int(axis), x.ndim, x.shape)
    assert ax is not None
    return ax[0]


def _order(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    # A stable sort of -a keeps equal values in index order also when descending (as
    # PyTorch's stable sort); negating unsigned or bool data would wrap, so widen it first.
    if descending:
        a = -(a.astype(np.int64) if a.dtype.kind in "ub" else a)
    return np.argsort(a, axis=axis, kind="stable")


def _take(x: Tensor, idx: np.ndarray, axis: int) -> ValuesIndices:
    """x at the positions `idx` along `axis` (the other axes aligned), and the indices."""
    grid = list(np.ogrid[tuple(slice(0, n) for n in idx.shape)])
    grid[axis] = idx
    return ValuesIndices(getitem(x, tuple(grid)), _const(idx.astype(np.int64, copy=False)))


def _along_domain(k: bool) -> Any:
    def domain(draw: Any, s: Any) -> Any:
        shape = draw(s.shapes(min_dims=1))
        x = draw(s.arrays(shape, unique=True))
        axis = draw(s.integers(-len(shape), len(shape) - 1))
        flag = draw(s.booleans())
        if k:
            return [x], {"k": draw(s.integers(0, shape[axis])), "axis": axis, "largest": flag}
        return [x], {"axis": axis, "descending": flag}

    return domain


@register(Op("sort", domain=_along_domain(False)), call=lambda x, **kw: sort(x, **kw).values,
          numpy={np.sort: lambda a, axis=-1: sort(a, axis).values})
@spellings
def sort(x: Any, axis: int = -1, descending: bool = False) -> ValuesIndices:
    """``(values, indices)``: x sorted along `axis` (ascending unless `descending`; equal
    values keep their order) and the int64 positions they came from, so
    ``values == take_along_axis(x, indices, axis)``. Gradient of the values: g scattered back
    to those positions."""
    x = as_tensor(x)
    ax = _one_axis("sort", x, axis)
    return _take(x, _order(x.data, ax, bool(descending)), ax)


@register(Op("topk", domain=_along_domain(True)), call=lambda x, **kw: topk(x, **kw).values)
@spellings
def topk(x: Any, k: int, axis: int = -1, largest: bool = True, sorted: bool = True
         ) -> ValuesIndices:
    """``(values, indices)`` of the `k` largest (``largest=False``: smallest) entries along
    `axis`, best first, indices int64. The values' gradient goes to those k positions."""
    x = as_tensor(x)
    ax = _one_axis("topk", x, axis)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"topk: k must be an int, got {k!r}")
    if not 0 <= k <= x.shape[ax]:
        raise ValueError(f"topk: k={k} is out of range for axis {axis} of length "
                         f"{x.shape[ax]} (shape {x.shape}); use 0 <= k <= {x.shape[ax]}")
    idx = _order(x.data, ax, bool(largest))
    idx = idx[(slice(None),) * ax + (slice(0, int(k)),)]
    return _take(x, idx, ax)
