"""Max and average pooling in 1-D and 2-D (PyTorch's semantics: ``stride`` defaults to the
kernel size, max pooling pads with -inf, average pooling with zeros that count in the mean).

Both are linear maps once the window geometry is fixed (max pooling: once the position of
each window's maximum is), and each one's gradient is its adjoint:

    max pool:  select x at the argmax of each window   <->  scatter g to those positions
    avg pool:  (1/k) sum of each window                <->  spread g/k over each window

so the pairs below call each other and second derivatives come for free. A window's first
maximum (in C order) takes the gradient on ties, as in PyTorch.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..autograd.op import Op, record, register
from ..tensor import Tensor, as_tensor
from .window import as_tuple, check_window, offsets, out_size, pad_data

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d"]


def _pads(padding: tuple) -> tuple:
    return ((0, 0), (0, 0)) + tuple((p, p) for p in padding)


def _interior(a: np.ndarray, padding: tuple, size: tuple) -> np.ndarray:
    return a[(slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(padding, size))]


def _windows(kernel: tuple, stride: tuple, out: tuple) -> Any:
    """(j, slices) for each kernel offset j (C order) of windows without dilation."""
    lead = (slice(None), slice(None))
    for j, (_, sl) in enumerate(offsets(kernel, stride, (1,) * len(kernel), out)):
        yield j, lead + sl


# ------------------------------------------------------------------------- max pooling
def _max_forward(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> tuple:
    """(out, idx): each window's maximum and the offset (C order) of its first maximum."""
    if any(padding):
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x = pad_data(x, _pads(padding), low)
    out_shape = out_size(x.shape[2:], kernel, stride, (0,) * len(kernel), (1,) * len(kernel))
    best: Any = None
    idx: Any = None
    # Plain ufuncs and np.where (no copyto/boolean assignment), so tg.compile traces it too.
    for j, sl in _windows(kernel, stride, out_shape):
        v = x[sl]
        if best is None:
            best = np.array(v)
            idx = np.zeros(best.shape, np.int8 if np.prod(kernel) < 128 else np.int32)
            continue
        better = v > best
        if best.dtype.kind == "f":
            better = better | (v != v)  # NaN wins, and so propagates (as in PyTorch)
        best = np.where(better, v, best)
        idx = np.where(better, idx.dtype.type(j), idx)
    return best, idx


def _select_data(h: np.ndarray, idx: np.ndarray, kernel: tuple, stride: tuple,
                 padding: tuple) -> np.ndarray:
    """h at each window's recorded argmax: the linear map max pooling is for fixed `idx`."""
    hp = pad_data(h, _pads(padding)) if any(padding) else h
    out = np.zeros(idx.shape, h.dtype)
    for j, sl in _windows(kernel, stride, idx.shape[2:]):
        out = np.where(idx == j, hp[sl], out)
    return out


def _unpool_data(g: np.ndarray, idx: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
                 padding: tuple) -> np.ndarray:
    """g scattered to each window's argmax position (overlapping windows add up)."""
    padded = np.zeros((*x_shape[:2], *(n + 2 * p for n, p in zip(x_shape[2:], padding))), g.dtype)
    for j, sl in _windows(kernel, stride, idx.shape[2:]):
        padded[sl] += np.where(idx == j, g, 0)
    return _interior(padded, padding, x_shape[2:])


def _max_rule(g: Any, ans: Any, x: Any, kernel: tuple, stride: tuple, padding: tuple,
              idx: np.ndarray) -> Any:
    return max_unpool(g, idx, x.shape, kernel, stride, padding)


def _pool_domain(nd: int, unique: bool) -> Any:
    def domain(draw: Any, s: Any) -> Any:
        kernel = tuple(draw(s.integers(1, 3)) for _ in range(nd))
        stride = draw(s.sampled_from([None, tuple(draw(s.integers(1, 3)) for _ in range(nd))]))
        padding = tuple(draw(s.integers(0, k // 2)) for k in kernel)
        size = tuple(max(1, k - 2 * p) + draw(s.integers(0, 3)) for k, p in zip(kernel, padding))
        shape = (draw(s.integers(1, 2)), draw(s.integers(1, 2)), *size)
        x = draw(s.arrays(shape, unique=unique))
        return [x], {"kernel_size": kernel if nd > 1 or draw(s.booleans()) else kernel[0],
                     "stride": stride, "padding": padding}

    return domain


MAX_POOL1D = Op("max_pool1d", _max_rule, domain=_pool_domain(1, True))
MAX_POOL2D = Op("max_pool2d", _max_rule, domain=_pool_domain(2, True))
_MAX = {1: MAX_POOL1D, 2: MAX_POOL2D}


def _unpool_domain(draw: Any, s: Any) -> Any:
    nd = draw(s.integers(1, 2))
    (x,), p = _pool_domain(nd, True)(draw, s)
    kernel = as_tuple("", "", p["kernel_size"], nd, 1)
    stride = kernel if p["stride"] is None else p["stride"]
    out, idx = _max_forward(x, kernel, stride, p["padding"])
    return [draw(s.arrays(out.shape))], {"idx": idx, "x_shape": x.shape, "kernel": kernel,
                                         "stride": stride, "padding": p["padding"]}


MAX_UNPOOL = Op(
    "max_unpool",
    lambda h, ans, g, idx, x_shape, kernel, stride, padding:
        _select(h, idx, kernel, stride, padding),
    domain=_unpool_domain)


def _select(h: Any, idx: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> Any:
    if not isinstance(h, Tensor):
        return _select_data(h, idx, kernel, stride, padding)
    return record(_MAX[len(kernel)], _select_data(h.data, idx, kernel, stride, padding), (h,),
                  {"kernel": kernel, "stride": stride, "padding": padding, "idx": idx})


@register(MAX_UNPOOL)
def max_unpool(g: Any, idx: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
               padding: tuple) -> Any:
    """The gradient of max pooling: ``g (N, C, *out)`` scattered into zeros of `x_shape` at the
    argmax offsets `idx`. Arrays give an array; a Tensor is recorded (differentiable)."""
    if not isinstance(g, Tensor):
        return _unpool_data(g, idx, tuple(x_shape), kernel, stride, padding)
    return record(MAX_UNPOOL, _unpool_data(g.data, idx, tuple(x_shape), kernel, stride, padding),
                  (g,), {"idx": idx, "x_shape": tuple(x_shape), "kernel": kernel,
                         "stride": stride, "padding": padding})


# ------------------------------------------------------------------------- average pooling
def _avg_data(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    xp = pad_data(x, _pads(padding)) if any(padding) else x
    out_shape = out_size(xp.shape[2:], kernel, stride, (0,) * len(kernel), (1,) * len(kernel))
    total: Any = None
    for _, sl in _windows(kernel, stride, out_shape):
        if total is None:
            total = xp[sl].copy()
        else:
            total += xp[sl]
    total *= np.asarray(1.0 / np.prod(kernel), total.dtype)
    return total


def _spread_data(g: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple,
                 padding: tuple) -> np.ndarray:
    """The adjoint of average pooling: g / k added over each window."""
    share = g * np.asarray(1.0 / np.prod(kernel), g.dtype)
    padded = np.zeros((*x_shape[:2], *(n + 2 * p for n, p in zip(x_shape[2:], padding))), g.dtype)
    for _, sl in _windows(kernel, stride, g.shape[2:]):
        padded[sl] += share
    return _interior(padded, padding, x_shape[2:])


def _avg(h: Any, kernel: tuple, stride: tuple, padding: tuple) -> Any:
    if not isinstance(h, Tensor):
        return _avg_data(h, kernel, stride, padding)
    return record(_AVG[len(kernel)], _avg_data(h.data, kernel, stride, padding), (h,),
                  {"kernel": kernel, "stride": stride, "padding": padding})


def _avg_rule(g: Any, ans: Any, x: Any, kernel: tuple, stride: tuple, padding: tuple) -> Any:
    return avg_unpool(g, x.shape, kernel, stride, padding)


AVG_POOL1D = Op("avg_pool1d", _avg_rule, domain=_pool_domain(1, False))
AVG_POOL2D = Op("avg_pool2d", _avg_rule, domain=_pool_domain(2, False))
_AVG = {1: AVG_POOL1D, 2: AVG_POOL2D}


def _spread_domain(draw: Any, s: Any) -> Any:
    nd = draw(s.integers(1, 2))
    (x,), p = _pool_domain(nd, False)(draw, s)
    kernel = as_tuple("", "", p["kernel_size"], nd, 1)
    stride = kernel if p["stride"] is None else p["stride"]
    out = _avg_data(x, kernel, stride, p["padding"])
    return [draw(s.arrays(out.shape))], {"x_shape": x.shape, "kernel": kernel, "stride": stride,
                                         "padding": p["padding"]}


AVG_UNPOOL = Op("avg_unpool", lambda h, ans, g, x_shape, kernel, stride, padding:
                _avg(h, kernel, stride, padding), domain=_spread_domain)


@register(AVG_UNPOOL)
def avg_unpool(g: Any, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple) -> Any:
    """The gradient of average pooling: g / prod(kernel) spread over each window, shape
    `x_shape`. Arrays give an array; a Tensor is recorded (differentiable)."""
    if not isinstance(g, Tensor):
        return _spread_data(g, tuple(x_shape), kernel, stride, padding)
    return record(AVG_UNPOOL, _spread_data(g.data, tuple(x_shape), kernel, stride, padding),
                  (g,), {"x_shape": tuple(x_shape), "kernel": kernel, "stride": stride,
                         "padding": padding})


# ------------------------------------------------------------------------- public functions
_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)"}


def _geometry(name: str, nd: int, x: Tensor, kernel_size: Any, stride: Any,
              padding: Any) -> tuple:
    if x.ndim != nd + 2:
        raise ValueError(f"{name}: expected an input of shape {_LAYOUT[nd]} ({nd + 2} dims), "
                         f"got shape {x.shape}; add a batch axis with x[None] for one sample")
    kernel = as_tuple(name, "kernel_size", kernel_size, nd, 1)
    stride = kernel if stride is None else as_tuple(name, "stride", stride, nd, 1)
    padding = as_tuple(name, "padding", padding, nd, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{name}: padding {padding} must be at most half the kernel size "
                         f"{kernel} (input of shape {x.shape})")
    check_window(name, x.shape[2:], kernel, padding, (1,) * nd, x.shape)
    return kernel, stride, padding


def _max_pool(nd: int, x: Any, kernel_size: Any, stride: Any, padding: Any) -> Tensor:
    x = as_tensor(x)
    kernel, stride, padding = _geometry(f"max_pool{nd}d", nd, x, kernel_size, stride, padding)
    out, idx = _max_forward(x.data, kernel, stride, padding)
    return record(_MAX[nd], out, (x,), {"kernel": kernel, "stride": stride, "padding": padding,
                                        "idx": idx})


def _avg_pool(nd: int, x: Any, kernel_size: Any, stride: Any, padding: Any) -> Tensor:
    x = as_tensor(x)
    kernel, stride, padding = _geometry(f"avg_pool{nd}d", nd, x, kernel_size, stride, padding)
    return record(_AVG[nd], _avg_data(x.data, kernel, stride, padding), (x,),
                  {"kernel": kernel, "stride": stride, "padding": padding})


@register(MAX_POOL1D)
def max_pool1d(x: Any, kernel_size: Any, stride: Optional[Any] = None,
               padding: Any = 0) -> Tensor:
    """Maximum over windows of ``x (N, C, L)`` -> ``(N, C, L_out)``; see `max_pool2d`."""
    return _max_pool(1, x, kernel_size, stride, padding)


@register(MAX_POOL2D)
def max_pool2d(x: Any, kernel_size: Any, stride: Optional[Any] = None,
               padding: Any = 0) -> Tensor:
    """Maximum over ``kernel_size`` windows of ``x (N, C, H, W)`` -> ``(N, C, H_out, W_out)``,
    ``n_out = (n + 2 padding - kernel) // stride + 1``; `stride` defaults to `kernel_size`,
    `padding` (at most half the kernel) is -inf. Gradient: g to each window's maximum (its
    first one on ties); overlapping windows add up.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> x = tg.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
        >>> tg.max_pool2d(x, 2).data
        array([[[[ 5.,  7.],
                 [13., 15.]]]])
    """
    return _max_pool(2, x, kernel_size, stride, padding)


@register(AVG_POOL1D)
def avg_pool1d(x: Any, kernel_size: Any, stride: Optional[Any] = None,
               padding: Any = 0) -> Tensor:
    """Mean over windows of ``x (N, C, L)`` -> ``(N, C, L_out)``; see `avg_pool2d`."""
    return _avg_pool(1, x, kernel_size, stride, padding)


@register(AVG_POOL2D)
def avg_pool2d(x: Any, kernel_size: Any, stride: Optional[Any] = None,
               padding: Any = 0) -> Tensor:
    """Mean over ``kernel_size`` windows of ``x (N, C, H, W)`` -> ``(N, C, H_out, W_out)``;
    zero padding counts in the mean (PyTorch's ``count_include_pad=True``). Gradient: g divided
    by the window size, added over each window."""
    return _avg_pool(2, x, kernel_size, stride, padding)
