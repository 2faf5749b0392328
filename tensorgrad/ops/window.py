"""Padding and sliding windows: `pad` (numpy's ``pad_width``, constant value), and the window
geometry that convolution and pooling share (patches as strided views of the padded input, and
the adjoint that adds patches back: col2im)."""
from __future__ import annotations

import itertools
from typing import Any, Iterator, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.op import Op, record, register
from ..tensor import Tensor, as_tensor

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["pad"]


# ------------------------------------------------------------------------- pad
def _pad_width(pad_width: Any, ndim: int, shape: tuple) -> tuple:
    """numpy's ``pad_width`` forms (n, (n,), (before, after), one pair per axis) as a tuple of
    (before, after) pairs of non-negative ints, one per axis."""
    try:
        arr = np.asarray(pad_width)
        if ndim == 0 and arr.size == 0:
            return ()
        if arr.dtype.kind not in "iu" or arr.ndim > 2:
            raise TypeError
        pairs = np.broadcast_to(arr, (ndim, 2))
    except (TypeError, ValueError):
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {shape}; "
                         f"give an int, (before, after) or one (before, after) pair per axis "
                         f"({ndim} axes)") from None
    if (pairs < 0).any():
        raise ValueError(f"pad: pad_width {pad_width!r} has negative entries (tensor of shape "
                         f"{shape}); padding widths must be >= 0")
    return tuple((int(b), int(a)) for b, a in pairs)


def _crop(g: Any, pad_width: tuple) -> Any:
    """The interior of a padded array: the adjoint of zero padding."""
    return g[tuple(slice(b, n - a) for (b, a), n in zip(pad_width, g.shape))]


def pad_data(x: np.ndarray, pad_width: tuple, value: float = 0.0) -> np.ndarray:
    """`x` with `pad_width` (pairs per axis) filled with `value` around it (a new array)."""
    shape = tuple(n + b + a for n, (b, a) in zip(x.shape, pad_width))
    out = np.empty(shape, dtype=x.dtype) if value == 0.0 else np.full(shape, value, x.dtype)
    if value == 0.0:  # zero only the border: cheaper than zeroing everything
        for axis, (b, a) in enumerate(pad_width):
            lead = (slice(None),) * axis
            out[lead + (slice(0, b),)] = 0
            out[lead + (slice(out.shape[axis] - a, None),)] = 0
    out[tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, pad_width))] = x
    return out


def _pad_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(max_dims=3))
    n = len(shape)
    kind = draw(s.sampled_from(["int", "pair", "per-axis"]))
    if kind == "int":
        pw: Any = draw(s.integers(0, 2))
    elif kind == "pair":
        pw = (draw(s.integers(0, 2)), draw(s.integers(0, 2)))
    else:
        pw = tuple((draw(s.integers(0, 2)), draw(s.integers(0, 2))) for _ in range(n))
    return [draw(s.arrays(shape))], {"pad_width": pw, "value": draw(s.sampled_from([0.0, -1.5]))}


PAD = Op("pad", lambda g, ans, x, pad_width, value: _crop(g, pad_width), domain=_pad_domain)


@register(PAD)
def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """Constant padding with numpy's ``pad_width``: an int (every side of every axis),
    ``(before, after)`` (every axis) or one ``(before, after)`` pair per axis.

    Shape ``(n_0, ...)`` becomes ``(n_0 + before_0 + after_0, ...)``. Gradient: the interior
    of g (the padding's cells do not depend on x).

    Examples:
        >>> import tensorgrad as tg
        >>> tg.pad(tg.tensor([[1.0, 2.0]]), ((0, 0), (1, 2))).data
        array([[0., 1., 2., 0., 0.]], dtype=float32)
    """
    x = as_tensor(x)
    pw = _pad_width(pad_width, x.ndim, x.shape)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"pad: value must be a number, got {type(value).__name__}")
    value = float(value)
    return record(PAD, pad_data(x.data, pw, value), (x,), {"pad_width": pw, "value": value})


# ------------------------------------------------------------------------- window geometry
def as_tuple(name: str, what: str, v: Any, nd: int, low: int) -> tuple:
    """An int or a tuple of `nd` ints, each >= low, as a tuple (kernel_size, stride ...)."""
    t = tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd
    if len(t) != nd or any(isinstance(e, bool) or not isinstance(e, (int, np.integer))
                           for e in t):
        raise TypeError(f"{name}: {what} must be an int or a tuple of {nd} ints, got {v!r}")
    if any(e < low for e in t):
        raise ValueError(f"{name}: {what} must be >= {low}, got {v!r}")
    return tuple(int(e) for e in t)


def out_size(size: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
             padding: Sequence[int], dilation: Sequence[int]) -> tuple:
    """Output length per spatial axis: floor((L + 2p - d (k - 1) - 1) / s) + 1."""
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(size, kernel, stride, padding, dilation))


def patches(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """Every window of the (already padded) channels-last ``xp (N, *L, C)`` as a strided
    view, no copy: shape ``(N, *out, C, *kernel)``,
    ``[n, *o, c, *k] = xp[n, *(o * stride + k * dilation), c]``."""
    nd = len(kernel)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    win = sliding_window_view(xp, extent, axis=tuple(range(1, 1 + nd)))
    return win[(slice(None),) + tuple(slice(None, None, s) for s in stride) + (slice(None),)
               + tuple(slice(None, None, d) for d in dilation)]


def offsets(kernel: tuple, stride: tuple, dilation: tuple, out: tuple) -> Iterator[tuple]:
    """(kernel offset k, slices of the padded input that offset k reads for every output)."""
    for k in itertools.product(*(range(n) for n in kernel)):
        yield k, tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                       for i, d, s, o in zip(k, dilation, stride, out))


def check_window(name: str, size: tuple, kernel: tuple, padding: tuple, dilation: tuple,
                 x_shape: tuple) -> None:
    """ValueError when a (dilated) kernel does not fit in the padded input."""
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    if any(e > n for e, n in zip(extent, padded)):
        raise ValueError(f"{name}: kernel {kernel} (extent {extent} with dilation {dilation}) is "
                         f"larger than the padded input {padded} (input of shape {x_shape}, "
                         f"padding {padding}); use a smaller kernel or more padding")
