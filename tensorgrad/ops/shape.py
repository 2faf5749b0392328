"""Ops that move data without arithmetic: reshape, transpose, squeeze/unsqueeze, broadcast,
indexing (basic and advanced; backward scatters and adds up repeated indices), concatenate
and stack."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..autograd.op import Op, VariadicOp, record, register
from ..spellings import spellings
from ..tensor import Axis, Tensor, as_tensor
from . import domains as D
from ._util import AxisError, IndexOutOfRange, fail, norm_axis, shape_ints

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["broadcast_to", "cat", "clone", "concatenate", "expand", "flatten", "permute",
    "reshape", "squeeze", "stack", "swapaxes", "tile", "transpose", "unsqueeze"]


def _shape_arg(shape: tuple, name: str, what: str = "sizes") -> tuple:
    """Accept both f(2, 3) and f((2, 3)); integers only (op `name` raises otherwise)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape_ints(name, shape, what=what)


# ------------------------------------------------------------------------- reshape family
def _reshape_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    target = draw(s.sampled_from([(-1,), tuple(reversed(shape)), (1, *shape)]))
    return [draw(s.arrays(shape))], {"shape": target}


RESHAPE = Op("reshape", lambda g, ans, x, shape: g.reshape(x.shape), domain=_reshape_domain)


def _reshape(x: Tensor, shape: tuple) -> Tensor:
    try:
        out = x.data.reshape(shape)
    except (ValueError, TypeError) as e:
        fail("reshape", e, x)
    return record(RESHAPE, out, (x,), {"shape": shape})


@register(RESHAPE, call=lambda x, shape: reshape(x, shape), numpy={
    np.reshape: lambda a, shape=None, newshape=None: reshape(a, shape or newshape)})
def reshape(x: Any, *shape: Any) -> Tensor:
    """The same data in a new shape (one entry may be -1). Gradient: g reshaped back."""
    return _reshape(as_tensor(x), _shape_arg(shape, "reshape"))



def _flatten_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1))
    a, b = sorted((draw(s.integers(0, len(shape) - 1)), draw(s.integers(0, len(shape) - 1))))
    return [draw(s.arrays(shape))], {"start_axis": a, "end_axis": b}


def _squeeze_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_side=1, max_side=2))
    axis = draw(s.sampled_from([None] + list(range(-len(shape), len(shape)))))
    return [draw(s.arrays(shape))], {"axis": axis}


def _unsqueeze_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    return [draw(s.arrays(shape))], {"axis": draw(s.integers(-len(shape) - 1, len(shape)))}


@register(Op("flatten", domain=_flatten_domain))
@spellings
def flatten(x: Any, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge axes start_axis..end_axis into one (all of them by default)."""
    x = as_tensor(x)
    if x.ndim == 0:
        return _reshape(x, (1,))
    ax = norm_axis("flatten", (start_axis, end_axis), x.ndim, x.shape) \
        if start_axis % x.ndim != end_axis % x.ndim else norm_axis("flatten", start_axis, x.ndim)
    assert ax is not None
    lo, hi = ax[0], ax[-1]
    s = x.shape
    return _reshape(x, s[:lo] + (int(np.prod(s[lo:hi + 1])),) + s[hi + 1:])


@register(Op("squeeze", domain=_squeeze_domain),
          numpy={np.squeeze: lambda a, axis=None: squeeze(a, axis)})
@spellings
def squeeze(x: Any, axis: Axis = None) -> Tensor:
    """Drop axes of length 1 (all of them, or those in `axis`; others are left, as in PyTorch)."""
    x = as_tensor(x)
    ax = norm_axis("squeeze", axis, x.ndim, x.shape)
    drop = [i for i, s in enumerate(x.shape) if s == 1 and (ax is None or i in ax)]
    return _reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in drop))


@register(Op("unsqueeze", domain=_unsqueeze_domain),
          numpy={np.expand_dims: lambda a, axis: unsqueeze(a, axis)})
@spellings
def unsqueeze(x: Any, axis: int) -> Tensor:
    """Insert an axis of length 1 at position `axis` (-ndim-1 <= axis <= ndim)."""
    x = as_tensor(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise AxisError(f"unsqueeze: axis {axis} is out of range for a tensor of shape "
                        f"{x.shape} (valid: {-x.ndim - 1}..{x.ndim})")
    a = axis % (x.ndim + 1)
    return _reshape(x, x.shape[:a] + (1,) + x.shape[a:])


# ------------------------------------------------------------------------- transpose family
def _permute_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    return [draw(s.arrays(shape))], {"axes": tuple(draw(s.permutations(range(len(shape)))))}


PERMUTE = Op("permute", lambda g, ans, x, axes: np.transpose(g, tuple(np.argsort(axes))),
             domain=_permute_domain)


@register(PERMUTE, call=lambda x, axes: permute(x, axes))
def permute(x: Any, *axes: Any) -> Tensor:
    """Reorder the axes: output axis i is input axis axes[i]. Gradient: the inverse order."""
    x = as_tensor(x)
    perm = _shape_arg(axes, "permute", "axes")
    if sorted(a % x.ndim if x.ndim else a for a in perm) != list(range(x.ndim)) or \
            any(not -x.ndim <= a < x.ndim for a in perm):
        raise AxisError(f"permute: axes {perm} are not a permutation of the {x.ndim} axes "
                        f"of a tensor of shape {x.shape}")
    perm = tuple(a % x.ndim for a in perm)
    return record(PERMUTE, x.data.transpose(perm), (x,), {"axes": perm})



def _swap_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1))
    n = len(shape)
    return [draw(s.arrays(shape))], {"axis1": draw(s.integers(-n, n - 1)),
                                     "axis2": draw(s.integers(-n, n - 1))}


def _transpose_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    n = len(shape)
    axes = draw(s.sampled_from([(), tuple(range(n))[::-1]] + ([(0, n - 1)] if n >= 2 else [])))
    return [draw(s.arrays(shape))], {"axes": axes}


@register(Op("swapaxes", domain=_swap_domain), numpy=np.swapaxes)
def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    x = as_tensor(x)
    a = norm_axis("swapaxes", axis1, x.ndim, x.shape)
    b = norm_axis("swapaxes", axis2, x.ndim, x.shape)
    assert a is not None and b is not None
    perm = list(range(x.ndim))
    perm[a[0]], perm[b[0]] = perm[b[0]], perm[a[0]]
    return permute(x, tuple(perm))


@register(Op("transpose", domain=_transpose_domain), call=lambda x, axes: transpose(x, *axes),
          numpy={np.transpose: lambda a, axes=None:
                 transpose(a) if axes is None else permute(a, axes)})
def transpose(x: Any, *axes: Any) -> Tensor:
    """No axes: reverse the axes (matrix transpose). Two axes: swap them, as PyTorch's
    ``transpose(dim0, dim1)``. Otherwise a full permutation, as numpy's ``transpose``."""
    x = as_tensor(x)
    perm = _shape_arg(axes, "transpose", "axes") if axes and axes != (None,) else ()
    if not perm:
        return permute(x, tuple(range(x.ndim))[::-1])
    if len(perm) == 2:
        return swapaxes(x, *perm)
    return permute(x, perm)


# ------------------------------------------------------------------------- broadcasting
def _broadcast_domain(draw: Any, s: Any) -> Any:
    small, big = draw(s.broadcastable_shapes(2))
    target = np.broadcast_shapes(small, big)
    return [draw(s.arrays(small))], {"shape": target}


# The rule is the identity: the engine sums a gradient back to the input's shape anyway.
BROADCAST = Op("broadcast_to", lambda g, ans, x, shape: g, domain=_broadcast_domain)


@register(BROADCAST, numpy=np.broadcast_to)
def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Repeat along new leading axes and axes of length 1 (numpy rules); a read-only view.
    Gradient: g summed back over the repeated axes."""
    x = as_tensor(x)
    shape = _shape_arg((shape,), "broadcast_to")
    try:
        out = np.broadcast_to(x.data, shape)
    except ValueError as e:
        fail("broadcast_to", e, x, shape)
    return record(BROADCAST, out, (x,), {"shape": shape})


def _expand_domain(draw: Any, s: Any) -> Any:
    small, big = draw(s.broadcastable_shapes(2))
    target = list(np.broadcast_shapes(small, big))
    off = len(target) - len(small)
    keep = [i for i in range(off, len(target)) if draw(s.booleans())]
    for i in keep:
        target[i] = -1 if small[i - off] == target[i] else target[i]
    return [draw(s.arrays(small))], {"shape": tuple(target)}


@register(Op("expand", domain=_expand_domain), call=lambda x, shape: expand(x, *shape))
def expand(x: Any, *shape: Any) -> Tensor:
    """PyTorch's ``expand``: like broadcast_to, where -1 keeps that axis' length."""
    x = as_tensor(x)
    target = list(_shape_arg(shape, "expand"))
    off = len(target) - x.ndim
    for i, s in enumerate(target):
        if s == -1:
            if i < off:
                raise ValueError(f"expand: -1 is not allowed for the new leading axis {i} "
                                 f"(shape {x.shape} to {tuple(target)})")
            target[i] = x.shape[i - off]
    return broadcast_to(x, tuple(target))


# ------------------------------------------------------------------------- indexing
def index_data(index: Any) -> Any:
    """An index with Tensors replaced by their arrays and lists by arrays (advanced indices)."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _index_item(i: Any) -> Any:
    # Index arrays are copied: backward scatters through them, and must not see the caller's
    # later changes to their array (x[idx]; idx[0] = 3; backward() would go wrong silently).
    if isinstance(i, Tensor):
        i = i.data
    if isinstance(i, (list, np.ndarray)):
        return np.array(i)
    return i


def _has_int_array(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in items)


def _scatter(g: Any, shape: tuple, index: Any) -> Any:
    """Zeros of `shape` with g added at `index`; repeated indices add up."""
    if isinstance(g, Tensor):
        return scatter_add(g, shape, index)
    z = np.zeros(shape, dtype=g.dtype)
    if _has_int_array(index):
        np.add.at(z, index, g)
    else:  # basic indices and masks never repeat a position: plain assignment is enough
        z[index] = g
    return z


def _index_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1))
    return [draw(s.arrays(shape))], {"index": draw(s.indices(shape))}


GETITEM = Op("getitem", lambda g, ans, x, index: _scatter(g, x.shape, index),
             domain=_index_domain)


@register(GETITEM, public=False)
def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with ints, slices, None, ..., integer arrays and boolean masks.
    Gradient: g scattered back into zeros of x's shape, repeated indices accumulating."""
    x = as_tensor(x)
    idx = index_data(index)
    try:
        out = x.data[idx]
    except IndexError as e:
        raise IndexOutOfRange(f"getitem: {e} (tensor of shape {x.shape}, index {index!r})") \
            from e
    except (ValueError, TypeError) as e:
        fail("getitem", e, x)
    return record(GETITEM, out, (x,), {"index": idx})


def _scatter_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1))
    index = draw(s.indices(shape))
    g = draw(s.arrays(np.zeros(shape)[index].shape))
    return [g], {"shape": shape, "index": index}


SCATTER_ADD = Op("scatter_add", lambda g, ans, src, shape, index: g[index],
                 domain=_scatter_domain)


@register(SCATTER_ADD, public=False)
def scatter_add(src: Any, shape: tuple, index: Any) -> Tensor:
    """Zeros of `shape` with `src` added at `index` (repeats add up): the adjoint of indexing.
    Gradient: g[index]."""
    src = as_tensor(src)
    idx = index_data(index)
    return record(SCATTER_ADD, _scatter(src.data, tuple(shape), idx), (src,),
                  {"shape": tuple(shape), "index": idx})


# ------------------------------------------------------------------------- joining
def _concat_rule(i: int, g: Any, ans: Any, *xs: Any, axis: int) -> Any:
    start = 0
    for x in xs[:i]:
        start += x.shape[axis]
    return g[(slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),)]


def _stack_rule(i: int, g: Any, ans: Any, *xs: Any, axis: int) -> Any:
    return g[(slice(None),) * axis + (i,)]


def _join_domain(stacked: bool) -> Any:
    def domain(draw: Any, s: Any) -> Any:
        n = draw(s.integers(1, 3))
        shape = draw(s.shapes(min_dims=1))
        axis = draw(s.integers(0, len(shape) - (0 if stacked else 1)))
        shapes = []
        for _ in range(n):
            sh = list(shape)
            if not stacked:
                sh[axis] = draw(s.integers(1, 3))
            shapes.append(tuple(sh))
        return [draw(s.arrays(sh)) for sh in shapes], {"axis": axis}

    return domain


CONCATENATE = VariadicOp("concatenate", _concat_rule, domain=_join_domain(False))
STACK = VariadicOp("stack", _stack_rule, domain=_join_domain(True))


def _join(op: Op, forward: Any, seq: Sequence[Any], axis: int, extra: int) -> Tensor:
    xs = tuple(as_tensor(x, op.name, f"element {i} of the sequence") for i, x in enumerate(seq))
    if not xs:
        raise ValueError(f"{op.name}: needs at least one tensor")
    ax = norm_axis(op.name, axis, xs[0].ndim + extra, xs[0].shape)
    assert ax is not None
    try:
        out = forward([x.data for x in xs], axis=ax[0])
    except ValueError as e:
        fail(op.name, e, *xs)
    return record(op, out, xs, {"axis": ax[0]})


@register(CONCATENATE, call=lambda *xs, axis: concatenate(xs, axis), numpy=np.concatenate)
@spellings
def concatenate(seq: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis. Gradient: the matching slice of g to each."""
    return _join(CONCATENATE, np.concatenate, seq, axis, 0)


@register(STACK, call=lambda *xs, axis: stack(xs, axis), numpy=np.stack)
@spellings
def stack(seq: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis. Gradient: the matching slab of g to each."""
    return _join(STACK, np.stack, seq, axis, 1)


cat = concatenate


# ------------------------------------------------------------------------- copies and tiling
CLONE = Op("clone", lambda g, ans, x: g, domain=D.unary())


@register(CLONE, numpy={np.copy: lambda a: clone(a)})
def clone(x: Any) -> Tensor:
    """A copy with its own data, still in the graph (PyTorch's ``clone``). Gradient: g."""
    x = as_tensor(x)
    return record(CLONE, x.data.copy(), (x,))


def _tile_rule(g: Any, ans: Any, x: Any, reps: tuple) -> Any:
    # Output axis i of length r*s is (r copies) x (s entries): split it and sum the copies.
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    split = [n for r, s in zip(reps, shape) for n in (r, s)]
    return g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(x.shape)


def _tile_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    reps = tuple(draw(s.integers(1, 3)) for _ in range(len(shape) + draw(s.integers(0, 1))))
    return [draw(s.arrays(shape))], {"reps": reps}


TILE = Op("tile", _tile_rule, domain=_tile_domain)


@register(TILE, numpy=np.tile)
def tile(x: Any, reps: Any) -> Tensor:
    """numpy's ``tile``: repeat the whole tensor ``reps[i]`` times along axis i (x gets leading
    axes of length 1 when `reps` is longer; `reps` gets leading ones when shorter).
    PyTorch's ``x.repeat(*sizes)`` is this. Gradient: g summed over the copies."""
    x = as_tensor(x)
    r = _shape_arg((reps if isinstance(reps, (tuple, list)) else (reps,),), "tile")
    if any(n < 0 for n in r):
        raise ValueError(f"tile: repeats must be >= 0, got {r} (tensor of shape {x.shape})")
    r = (1,) * (x.ndim - len(r)) + r
    return record(TILE, np.tile(x.data, r), (x,), {"reps": r})


def repeat(x: Any, *sizes: Any) -> Tensor:
    """PyTorch's ``x.repeat(*sizes)``: `tile`, with at least one size per axis of x."""
    x = as_tensor(x)
    reps = _shape_arg(sizes, "repeat")
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: {len(reps)} sizes {reps} for a tensor of shape {x.shape}; "
                         f"give one per axis (at least {x.ndim}), e.g. x.repeat"
                         f"{(1,) * (x.ndim - len(reps)) + reps}")
    return tile(x, reps)
