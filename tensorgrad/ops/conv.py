"""Convolution in 1-D and 2-D (cross-correlation with PyTorch's layout), as the dense layer's
equations applied to patches (im2col).

Row notation, as in docs/backprop-equations.md: every output position of every sample is one
row. ``cols (N * out, C * k)`` holds the input patch under the kernel at each output position
(a strided view of the padded input, copied once), ``W = weight.reshape(O, -1).T`` is the
``(C * k, O)`` weight matrix, and

    Z = cols W + b           (one GEMM; Z reshaped to (N, O, *out))
    dW = cols^T dZ           (one GEMM: the dense layer's weight gradient on patches)
    dcols = dZ W^T           (one GEMM), then col2im adds each patch row back where it came
                             from (one strided add per kernel offset)

With ``groups = G`` the channels split into G independent convolutions: the same equations,
batched over G. See docs/layers-derivations.md for the derivation.

The three maps form a closed family, which is what makes second derivatives work:
the gradients of ``conv(x, w)`` are ``conv_input_grad(g, w)`` and ``conv_weight_grad(x, g)``,
and the gradients of those two are again built from the three. Each is an op; on arrays it
computes, on Tensors (``create_graph=True``) it records.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..autograd.op import Op, record, register
from ..tensor import Tensor, as_tensor
from .window import as_tuple, check_window, offsets, pad_data, patches

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["conv1d", "conv2d"]


# ------------------------------------------------------------------------- array kernels
def im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
           dilation: tuple) -> tuple:
    """(cols, out): the patches of ``x (N, C, *L)`` as rows, ``cols (N * prod(out),
    prod(kernel) * C)``: row ``(n, *o)`` holds ``xpad[n, c, *(o * stride + k * dilation)]`` over
    (*k, c) in C order; ``out`` is the output's spatial shape.

    Channels come last within a row, so the one copy reads runs of C adjacent values when x is
    channels-last in memory (as every conv output here is) and the GEMMs see plain rows."""
    nd = len(kernel)
    xl = np.moveaxis(x, 1, -1)  # (N, *L, C): a view
    if any(padding):
        xl = pad_data(xl, ((0, 0),) + tuple((p, p) for p in padding) + ((0, 0),))
    win = patches(xl, kernel, stride, dilation)  # (N, *out, C, *kernel), a view
    out = win.shape[1:1 + nd]
    rows = win.transpose(0, *range(1, 1 + nd), *range(2 + nd, 2 + 2 * nd), 1 + nd)
    return rows.reshape(-1, int(np.prod(kernel)) * x.shape[1]), out  # the one copy


def col2im(dcols: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple,
           dilation: tuple, out: tuple) -> np.ndarray:
    """The adjoint of `im2col`: each row of ``dcols (N * prod(out), prod(kernel) * C)`` added
    back at the input positions its patch came from (overlaps add up); ``(N, C, *L)``, stored
    channels-last."""
    N, C = x_shape[:2]
    nd = len(kernel)
    d = dcols.reshape(N, *out, *kernel, C)
    padded = np.zeros((N, *(n + 2 * p for n, p in zip(x_shape[2:], padding)), C), dcols.dtype)
    lead = (slice(None),) * (1 + nd)
    for k, sl in offsets(kernel, stride, dilation, out):  # one strided add per kernel offset
        padded[(slice(None),) + sl] += d[lead + k]
    inner = padded[(slice(None),) + tuple(slice(p, p + n) for p, n in zip(padding, x_shape[2:]))]
    return np.moveaxis(inner, -1, 1)


def _rows(g: np.ndarray) -> np.ndarray:
    """dZ as rows: ``(N, O, *out)`` -> ``(N * prod(out), O)``."""
    return np.moveaxis(g, 1, -1).reshape(-1, g.shape[1])


def weight_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """The weight ``(O, C/G, *kernel)`` as matrices whose columns follow the rows of `im2col`
    (*k, c): ``(O, k * C)`` for one group, ``(G, O/G, k * C/G)`` for several. W of the
    equations is its transpose."""
    O, cg = w.shape[:2]
    m = np.moveaxis(w.reshape(O, cg, -1), 1, 2)  # (O, k, C/G)
    return m.reshape(O, -1) if groups == 1 else m.reshape(groups, O // groups, -1)


def _weight_layout(dwm: np.ndarray, w_shape: tuple) -> np.ndarray:
    """The inverse of `weight_matrix`: back to ``(O, C/G, *kernel)``."""
    O, cg = w_shape[:2]
    return np.moveaxis(dwm.reshape(O, -1, cg), 2, 1).reshape(w_shape)


def _grouped(cols: np.ndarray, groups: int, k: int) -> np.ndarray:
    """Rows ``(M, k * C)`` in (*k, c) order -> ``(G, M, k * C/G)``: one matrix per group."""
    M = cols.shape[0]
    return cols.reshape(M, k, groups, -1).transpose(2, 0, 1, 3).reshape(groups, M, -1)


def _ungrouped(a: np.ndarray, k: int) -> np.ndarray:
    """The inverse of `_grouped`: ``(G, M, k * C/G)`` -> ``(M, k * C)``."""
    G, M = a.shape[:2]
    return a.reshape(G, M, k, -1).transpose(1, 2, 0, 3).reshape(M, -1)


def _forward(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], stride: tuple,
             padding: tuple, dilation: tuple, groups: int) -> tuple:
    """(Z (N, O, *out), cols): ``Z = cols W + b``."""
    O = w.shape[0]
    cols, out = im2col(x, w.shape[2:], stride, padding, dilation)
    wm = weight_matrix(w, groups)
    if groups == 1:
        z = cols @ wm.T
    else:
        k = int(np.prod(w.shape[2:]))
        z = (_grouped(cols, groups, k) @ wm.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(-1, O)
    if b is not None:
        z += b
    return np.moveaxis(z.reshape(x.shape[0], *out, O), -1, 1), cols


def _weight_grad(cols: np.ndarray, g: np.ndarray, w_shape: tuple, groups: int) -> np.ndarray:
    """``dW = cols^T dZ``, in the weight's layout ``(O, C/G, *kernel)``."""
    dz = _rows(g)
    if groups == 1:
        return _weight_layout((cols.T @ dz).T, w_shape)
    G, k = groups, int(np.prod(w_shape[2:]))
    dz_g = dz.reshape(dz.shape[0], G, -1).transpose(1, 2, 0)  # (G, O/G, M)
    return _weight_layout(dz_g @ _grouped(cols, G, k), w_shape)


def _input_grad(g: np.ndarray, w: np.ndarray, x_shape: tuple, stride: tuple, padding: tuple,
                dilation: tuple, groups: int) -> np.ndarray:
    """``dcols = dZ W^T``, then col2im."""
    dz = _rows(g)
    wm = weight_matrix(w, groups)
    if groups == 1:
        dcols = dz @ wm
    else:
        dz_g = dz.reshape(dz.shape[0], groups, -1).transpose(1, 0, 2)  # (G, M, O/G)
        dcols = _ungrouped(dz_g @ wm, int(np.prod(w.shape[2:])))
    return col2im(dcols, x_shape, w.shape[2:], stride, padding, dilation, g.shape[2:])


# ------------------------------------------------------------------------- the op family
# Every rule takes the same parameters; `cols` is the forward's im2col (kept so that the
# weight gradient of an ordinary backward needs no second im2col).
def _conv_x(g: Any, ans: Any, x: Any, w: Any, *b: Any, stride: tuple, padding: tuple,
            dilation: tuple, groups: int, cols: Any = None) -> Any:
    return conv_input_grad(g, w, stride, padding, dilation, groups, x.shape)


def _conv_w(g: Any, ans: Any, x: Any, w: Any, *b: Any, stride: tuple, padding: tuple,
            dilation: tuple, groups: int, cols: Any = None) -> Any:
    if cols is not None and type(g) is np.ndarray:
        return _weight_grad(cols, g, w.shape, groups)
    return conv_weight_grad(x, g, stride, padding, dilation, groups, w.shape)


def _conv_b(g: Any, ans: Any, x: Any, w: Any, b: Any, **params: Any) -> Any:
    return g.sum(axis=(0, *range(2, g.ndim)))  # db = sum of dZ over the rows


def _conv_domain(nd: int) -> Any:
    def domain(draw: Any, s: Any) -> Any:
        groups = draw(s.integers(1, 2))
        cin, cout = groups * draw(s.integers(1, 2)), groups * draw(s.integers(1, 2))
        kernel = tuple(draw(s.integers(1, 3)) for _ in range(nd))
        stride = tuple(draw(s.integers(1, 2)) for _ in range(nd))
        dilation = tuple(draw(s.integers(1, 2)) for _ in range(nd))
        padding = tuple(draw(s.integers(0, 1)) for _ in range(nd))
        size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(s.integers(0, 2))
                     for k, d, p in zip(kernel, dilation, padding))
        xs = [draw(s.arrays((draw(s.integers(1, 2)), cin, *size))),
              draw(s.arrays((cout, cin // groups, *kernel)))]
        if draw(s.booleans()):
            xs.append(draw(s.arrays((cout,))))
        same = len(set(padding)) == 1 and draw(s.booleans())
        return xs, {"stride": stride, "padding": padding[0] if same else padding,
                    "dilation": dilation, "groups": groups}

    return domain


CONV1D = Op("conv1d", _conv_x, _conv_w, _conv_b, domain=_conv_domain(1))
CONV2D = Op("conv2d", _conv_x, _conv_w, _conv_b, domain=_conv_domain(2))
_CONV = {1: CONV1D, 2: CONV2D}


def _either_tensor(*values: Any) -> bool:
    return any(isinstance(v, Tensor) for v in values)


def _conv(x: Any, w: Any, stride: tuple, padding: tuple, dilation: tuple, groups: int) -> Any:
    """The convolution without checks (its arguments come from a checked one): arrays in,
    array out; Tensors in, a recorded Tensor out."""
    if not _either_tensor(x, w):
        return _forward(x, w, None, stride, padding, dilation, groups)[0]
    x, w = as_tensor(x), as_tensor(w)
    z, cols = _forward(x.data, w.data, None, stride, padding, dilation, groups)
    return record(_CONV[w.ndim - 2], z, (x, w), {"stride": stride, "padding": padding,
                                                  "dilation": dilation, "groups": groups,
                                                  "cols": cols})


def _dx_domain(draw: Any, s: Any) -> Any:
    (x, w, *_), drawn = _conv_domain(draw(s.integers(1, 2)))(draw, s)
    nd = w.ndim - 2
    p: dict = {k: as_tuple("", k, drawn[k], nd, 0) for k in ("stride", "padding", "dilation")}
    p["groups"] = drawn["groups"]
    z = _forward(x, w, None, p["stride"], p["padding"], p["dilation"], p["groups"])[0]
    return [draw(s.arrays(z.shape)), w], {**p, "x_shape": x.shape}


def _dw_domain(draw: Any, s: Any) -> Any:
    (g, w), p = _dx_domain(draw, s)
    x_shape = p.pop("x_shape")
    return [draw(s.arrays(x_shape)), g], {**p, "w_shape": w.shape}


CONV_DX = Op(
    "conv_input_grad",
    lambda h, ans, g, w, stride, padding, dilation, groups, x_shape:
        _conv(h, w, stride, padding, dilation, groups),
    lambda h, ans, g, w, stride, padding, dilation, groups, x_shape:
        conv_weight_grad(h, g, stride, padding, dilation, groups, w.shape),
    domain=_dx_domain)
CONV_DW = Op(
    "conv_weight_grad",
    lambda k, ans, x, g, stride, padding, dilation, groups, w_shape:
        conv_input_grad(g, k, stride, padding, dilation, groups, x.shape),
    lambda k, ans, x, g, stride, padding, dilation, groups, w_shape:
        _conv(x, k, stride, padding, dilation, groups),
    domain=_dw_domain)


@register(CONV_DX)
def conv_input_grad(g: Any, w: Any, stride: tuple, padding: tuple, dilation: tuple,
                    groups: int, x_shape: tuple) -> Any:
    """dL/dx of a convolution from ``g = dL/dZ (N, O, *out)`` and the weight: ``dZ W^T`` then
    col2im, shape `x_shape`. Arrays give an array; Tensors are recorded (differentiable)."""
    if not _either_tensor(g, w):
        return _input_grad(g, w, tuple(x_shape), stride, padding, dilation, groups)
    g, w = as_tensor(g), as_tensor(w)
    return record(CONV_DX, _input_grad(g.data, w.data, tuple(x_shape), stride, padding,
                                       dilation, groups), (g, w),
                  {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
                   "x_shape": tuple(x_shape)})


@register(CONV_DW)
def conv_weight_grad(x: Any, g: Any, stride: tuple, padding: tuple, dilation: tuple,
                     groups: int, w_shape: tuple) -> Any:
    """dL/dweight of a convolution of x from ``g = dL/dZ``: ``cols^T dZ``, shape `w_shape`.
    Arrays give an array; Tensors are recorded (differentiable)."""
    def data(xd: np.ndarray, gd: np.ndarray) -> np.ndarray:
        cols = im2col(xd, tuple(w_shape[2:]), stride, padding, dilation)[0]
        return _weight_grad(cols, gd, tuple(w_shape), groups)

    if not _either_tensor(x, g):
        return data(x, g)
    x, g = as_tensor(x), as_tensor(g)
    return record(CONV_DW, data(x.data, g.data), (x, g),
                  {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
                   "w_shape": tuple(w_shape)})


# ------------------------------------------------------------------------- public functions
_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)"}


def _convnd(nd: int, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
            groups: Any) -> Tensor:
    name = f"conv{nd}d"
    x, w = as_tensor(x), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim != nd + 2:
        raise ValueError(f"{name}: expected an input of shape {_LAYOUT[nd]} ({nd + 2} dims), "
                         f"got shape {x.shape}; add a batch axis with x[None] for one sample")
    if w.ndim != nd + 2:
        raise ValueError(f"{name}: expected a weight of shape (out_channels, in_channels // "
                         f"groups, *kernel) ({nd + 2} dims), got shape {w.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    O, cg = w.shape[:2]
    if O % groups or x.shape[1] != cg * groups:
        raise ValueError(f"{name}: input of shape {x.shape} ({x.shape[1]} channels) does not fit "
                         f"weight of shape {w.shape} with groups={groups} (expected "
                         f"{cg * groups} input channels and out_channels divisible by groups)")
    if b is not None and b.shape != (O,):
        raise ValueError(f"{name}: bias of shape {b.shape} does not fit weight of shape "
                         f"{w.shape} (expected ({O},))")
    stride = as_tuple(name, "stride", stride, nd, 1)
    padding = as_tuple(name, "padding", padding, nd, 0)
    dilation = as_tuple(name, "dilation", dilation, nd, 1)
    check_window(name, x.shape[2:], w.shape[2:], padding, dilation, x.shape)
    if x.data.dtype.kind != "f" and w.data.dtype.kind == "f":
        x = as_tensor(x.data.astype(w.data.dtype))  # integer images: computed in w's dtype
    z, cols = _forward(x.data, w.data, None if b is None else b.data, stride, padding,
                       dilation, groups)
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
              "cols": cols}
    return record(_CONV[nd], z, (x, w) if b is None else (x, w, b), params)


@register(CONV1D)
def conv1d(x: Any, weight: Any, bias: Optional[Any] = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation, as PyTorch's): ``x (N, C, L)``, ``weight (O, C //
    groups, k)``, ``bias (O,)`` -> ``(N, O, L_out)`` with
    ``L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1``. `padding` is zeros on
    both sides. Computed as ``cols W + b`` on im2col patches; see `conv2d`."""
    return _convnd(1, x, weight, bias, stride, padding, dilation, groups)


@register(CONV2D)
def conv2d(x: Any, weight: Any, bias: Optional[Any] = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch's): ``x (N, C, H, W)``, ``weight (O,
    C // groups, kH, kW)``, ``bias (O,)`` -> ``(N, O, H_out, W_out)``, each spatial size
    ``(n + 2 padding - dilation (k - 1) - 1) // stride + 1``. `stride`, `padding` (zeros) and
    `dilation` are ints or pairs; `groups` splits the channels into independent convolutions.

    Forward ``Z = cols W + b`` (im2col patches as rows, one GEMM); gradients
    ``dW = cols^T dZ``, ``db = sum of dZ over rows``, ``dx = col2im(dZ W^T)``.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> x = tg.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
        >>> w = tg.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
        >>> z = tg.conv2d(x, w, stride=2)          # sums of the four 2x2 blocks
        >>> z.data
        array([[[[10., 18.],
                 [42., 50.]]]])
        >>> z.sum().backward()
        >>> w.grad[0, 0]             # dW = cols^T dZ: the sum of the x each weight met
        array([[20., 24.],
               [36., 40.]])
    """
    return _convnd(2, x, weight, bias, stride, padding, dilation, groups)
