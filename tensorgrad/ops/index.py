"""Ops that pick entries by integer index or mask: `gather` (PyTorch's), `masked_fill`,
`embedding` (rows of a table) and `one_hot` (no gradient).

The backward of every picking op is the same scatter: the gradient goes back to the entries
that were picked, and an entry picked twice receives both gradients (``np.add.at``). Written
with `shape._scatter`, it runs on Tensors under ``create_graph=True`` as the differentiable
`scatter_add` op, whose own gradient is picking again.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..autograd.op import Op, record, register
from ..spellings import spellings
from ..tensor import Tensor, _const, as_tensor
from ._util import IndexOutOfRange, data, norm_axis
from .shape import _scatter

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["gather", "masked_fill"]


def _int_array(name: str, what: str, v: Any) -> np.ndarray:
    """`v` as an integer array of the op's own (a copy: the gradient must not change when the
    caller later reuses their array); a TypeError naming `name` otherwise."""
    a = np.array(data(v))
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name}: {what} must be integers, got dtype {a.dtype} (shape "
                        f"{a.shape}); convert with .astype(np.int64)")
    return a


# ------------------------------------------------------------------------- gather
def _gather_index(shape: tuple, axis: int, index: np.ndarray) -> tuple:
    """The advanced index that picks ``x[..., index[i, j, k], ...]`` (index at `axis`, the
    position itself along every other axis): gather is plain indexing with it."""
    n = index.ndim
    return tuple(index if d == axis else
                 np.arange(index.shape[d]).reshape((-1,) + (1,) * (n - d - 1))
                 for d in range(n))


def _gather_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1))
    axis = draw(s.integers(-len(shape), len(shape) - 1))
    ishape = tuple(draw(s.integers(1, 4)) if d == axis % len(shape) else draw(s.integers(1, n))
                   for d, n in enumerate(shape))
    index = draw(s.int_arrays(ishape, 0, shape[axis] - 1))
    return [draw(s.arrays(shape))], {"axis": axis, "index": index}


GATHER = Op("gather", lambda g, ans, x, axis, index, picks: _scatter(g, x.shape, picks),
            domain=_gather_domain)


@register(GATHER, call=lambda x, axis, index: gather(x, axis, index))
@spellings
def gather(x: Any, axis: Optional[int] = None, index: Any = None) -> Tensor:
    """PyTorch's ``gather``: ``out[i][j][k] = x[index[i][j][k]][j][k]`` for ``axis=0`` (the
    index replaces the position along `axis`). `index` is an integer array with x's number of
    dimensions, no longer than x along the other axes; the output has index's shape.
    ``dim=`` is accepted for `axis`. Gradient: g added back at the picked positions (a
    position picked twice gets both).

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> y = x.gather(1, np.array([[0, 0], [1, 0]]))
        >>> y
        tensor([[1., 1.],
                [4., 3.]], grad_fn=<gather>)
        >>> y.sum().backward()
        >>> x.grad
        array([[2., 0.],
               [1., 1.]], dtype=float32)
    """
    if axis is None or index is None:
        raise TypeError("gather: needs an axis and an index: gather(x, axis, index)")
    x = as_tensor(x)
    idx = _int_array("gather", "index", index)
    if x.ndim == 0 and idx.ndim == 0 and axis in (0, -1):  # PyTorch allows the 0-d case
        return gather(x.reshape(1), 0, idx.reshape(1)).reshape(())
    ax = norm_axis("gather", axis, x.ndim, x.shape)
    assert ax is not None
    a = ax[0]
    if idx.ndim != x.ndim:
        raise ValueError(f"gather: index must have as many dimensions as the input: index "
                         f"shape {idx.shape}, input shape {x.shape}; reshape the index")
    for d in range(x.ndim):
        if d != a and idx.shape[d] > x.shape[d]:
            raise ValueError(f"gather: index shape {idx.shape} is larger than input shape "
                             f"{x.shape} along axis {d} (only axis {a} may be larger)")
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[a]):
        raise IndexOutOfRange(f"gather: index values must lie in [0, {x.shape[a]}) along axis "
                              f"{a} of input shape {x.shape}; got values in [{idx.min()}, "
                              f"{idx.max()}]")
    picks = _gather_index(x.shape, a, idx)
    return record(GATHER, x.data[picks], (x,), {"axis": a, "index": idx, "picks": picks})


# ------------------------------------------------------------------------- masked_fill
def _masked_fill_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    mshape = tuple(n if draw(s.booleans()) else 1 for n in shape)
    mshape = mshape[draw(s.integers(0, len(mshape))):]
    return [draw(s.arrays(shape))], {"mask": draw(s.bool_arrays(mshape)),
                                     "value": draw(s.floats(-2.0, 2.0))}


MASKED_FILL = Op("masked_fill", lambda g, ans, x, mask, value: np.where(mask, 0, g),
                 domain=_masked_fill_domain)


@register(MASKED_FILL)
def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    """`x` with `value` wherever the boolean `mask` (broadcast to x's shape) is True.
    Gradient: g where the mask is False, 0 where it is True. `value` is a number (or a
    0-d Tensor, which then gets the sum of g over the filled positions).

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> x.masked_fill(np.array([True, False]), -np.inf)
        tensor([[-inf,   2.],
                [-inf,   4.]])
    """
    x = as_tensor(x)
    m = np.array(data(mask))  # a copy, kept for backward (see _int_array)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {m.dtype} (shape "
                        f"{m.shape}); compare to get one, e.g. x > 0")
    try:
        full = np.broadcast_shapes(m.shape, x.shape)
    except ValueError:
        full = None
    if full != x.shape:
        raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the "
                         f"input's shape {x.shape}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d Tensor, got shape "
                             f"{value.shape}")
        if value.requires_grad:
            from .elementwise import where

            return where(m, value, x)
        value = value.item()
    out = np.where(m, np.asarray(value, dtype=x.dtype) if x.dtype.kind == "f" else value,
                   x.data)
    if out.dtype != x.dtype and x.dtype.kind == "f":
        out = out.astype(x.dtype)
    return record(MASKED_FILL, out, (x,), {"mask": m, "value": value})


# ------------------------------------------------------------------------- embedding
def _embedding_rule(g: Any, ans: Any, weight: Any, idx: np.ndarray,
                    padding_idx: Optional[int]) -> Any:
    if padding_idx is not None:  # the padding row is a constant: it receives nothing
        keep = (idx != padding_idx)[..., None].astype(data(g).dtype)
        g = g * keep
    return _scatter(g, weight.shape, idx)


def _embedding_domain(draw: Any, s: Any) -> Any:
    # The padding row is deliberately not differentiated, so finite differences would see
    # its use: the drawn indices avoid it (its zero gradient is checked against PyTorch).
    n, d = draw(s.integers(1, 4)), draw(s.integers(1, 3))
    pad = draw(s.sampled_from([None, n])) if n > 1 else None
    idx = draw(s.int_arrays(draw(s.shapes(max_dims=2)), 0, n - 1 - (pad is not None)))
    n += pad is not None
    return [draw(s.arrays((n, d)))], {"idx": idx, "padding_idx": pad}


EMBEDDING = Op("embedding", _embedding_rule, domain=_embedding_domain)


@register(EMBEDDING, call=lambda weight, idx, padding_idx: embedding(idx, weight, padding_idx))
def embedding(idx: Any, weight: Any, padding_idx: Optional[int] = None) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) picked by the integer array `idx` of
    any shape: the output has shape ``idx.shape + (embedding_dim,)``. Gradient: g added into
    the picked rows (a row picked twice gets both); the `padding_idx` row gets none.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn.functional as F
        >>> w = tg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        >>> F.embedding(np.array([[2, 0, 2]]), w).shape
        (1, 3, 2)
        >>> F.embedding(np.array([2, 0, 2]), w).sum().backward()
        >>> w.grad                                  # row 2 picked twice
        array([[1., 1.],
               [0., 0.],
               [2., 2.]])
    """
    w = as_tensor(weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {w.shape}")
    i = _int_array("embedding", "indices", idx)
    n = w.shape[0]
    if i.size and (i.min() < 0 or i.max() >= n):
        raise IndexOutOfRange(f"embedding: indices must lie in [0, {n}) for a table of shape "
                              f"{w.shape}; got values in [{i.min()}, {i.max()}]")
    pad = _padding_idx("embedding", padding_idx, n)
    return record(EMBEDDING, w.data[i], (w,), {"idx": i, "padding_idx": pad})


def _padding_idx(name: str, padding_idx: Optional[int], n: int) -> Optional[int]:
    """padding_idx as a row in [0, n) (negative counts from the end, as in PyTorch)."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{name}: padding_idx must be an int or None, got {padding_idx!r}")
    if not -n <= padding_idx < n:
        raise ValueError(f"{name}: padding_idx {padding_idx} is out of range for "
                         f"num_embeddings={n} (valid: {-n}..{n - 1})")
    return int(padding_idx) % n


# ------------------------------------------------------------------------- one_hot
def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """Integer `labels` of any shape as one-hot rows: int64 of shape
    ``labels.shape + (num_classes,)``; ``num_classes=-1`` takes ``labels.max() + 1``.
    No gradient (the result is a constant).

    Examples:
        >>> import numpy as np, tensorgrad.nn.functional as F
        >>> F.one_hot(np.array([0, 2]))
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    y = _int_array("one_hot", "labels", labels)
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    if num_classes == -1:
        if y.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; pass it")
        num_classes = int(y.max()) + 1
    if num_classes < 1 and y.size or num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be positive (or -1), got {num_classes}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise IndexOutOfRange(f"one_hot: labels must lie in [0, {num_classes}); got values in "
                              f"[{y.min()}, {y.max()}] (labels of shape {y.shape})")
    out = np.zeros(y.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return _const(out)
