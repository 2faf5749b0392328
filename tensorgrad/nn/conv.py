"""Convolution and pooling layers: `Conv1d`, `Conv2d`, `MaxPool1d`, `MaxPool2d`, `AvgPool1d`,
`AvgPool2d`. Shapes, arguments and initialisation are PyTorch's: input ``(N, C, L)`` or
``(N, C, H, W)``, weight ``(out_channels, in_channels // groups, *kernel_size)``.

Each layer checks its input (rank, channel count, a kernel that fits the padded input) and
raises ValueError naming the layer and both shapes before anything is recorded."""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from .. import dtypes
from ..ops import conv as _conv
from ..ops import pool as _pool
from ..ops.window import as_tuple, check_window
from ..tensor import Tensor, as_tensor
from . import init
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"]

_SPATIAL = {1: ("L",), 2: ("H", "W")}


def _check_input(layer: str, nd: int, x: Tensor, channels: Optional[int]) -> None:
    expected = f"(N, {channels if channels is not None else 'C'}, {', '.join(_SPATIAL[nd])})"
    if x.ndim != nd + 2:
        raise ValueError(f"{layer}: expected an input of shape {expected} ({nd + 2} dims), got "
                         f"shape {x.shape}; add a batch axis with x[None] for one sample")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{layer}: expected an input of shape {expected} with {channels} "
                         f"channels, got shape {x.shape} ({x.shape[1]} channels)")


class _ConvNd(Module):
    nd = 0

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
        if d.kind != "f":
            raise TypeError(f"{name}: dtype must be floating, got {d}")
        self.in_channels, self.out_channels, self.groups = (int(in_channels), int(out_channels),
                                                            int(groups))
        self.kernel_size = as_tuple(name, "kernel_size", kernel_size, self.nd, 1)
        self.stride = as_tuple(name, "stride", stride, self.nd, 1)
        self.padding = as_tuple(name, "padding", padding, self.nd, 0)
        self.dilation = as_tuple(name, "dilation", dilation, self.nd, 1)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.zeros(shape, d))
        if bias:
            self.bias = Parameter(np.zeros(self.out_channels, d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
        ``fan_in = in_channels // groups * prod(kernel_size)`` (its ``kaiming_uniform_`` with
        ``a = sqrt(5)``)."""
        bound = 1.0 / math.sqrt(self.weight.shape[1] * int(np.prod(self.kernel_size)))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        name = type(self).__name__
        _check_input(name, self.nd, x, self.in_channels)
        check_window(name, x.shape[2:], self.kernel_size, self.padding, self.dilation, x.shape)
        return _conv._convnd(self.nd, x, self.weight, self.bias, self.stride, self.padding,
                             self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if any(self.padding):
            s += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv1d(_ConvNd):
    """1-D convolution layer: ``(N, in_channels, L) -> (N, out_channels, L_out)`` with
    ``L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``; see `Conv2d`.
    """

    nd = 1


class Conv2d(_ConvNd):
    """2-D convolution layer (cross-correlation, as PyTorch's): ``(N, in_channels, H, W) ->
    (N, out_channels, H_out, W_out)``. ``weight (out_channels, in_channels // groups, kH, kW)``,
    ``bias (out_channels,)`` (absent with ``bias=False``). `kernel_size`, `stride`, `padding`
    (zeros) and `dilation` are ints or pairs. Initialised as PyTorch does (see
    `reset_parameters`). Computed as the dense layer on im2col patches (`F.conv2d`).

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> conv = nn.Conv2d(1, 8, 3, padding=1)
        >>> conv.weight.shape, conv.bias.shape
        ((8, 1, 3, 3), (8,))
        >>> conv(tg.zeros((4, 1, 8, 8))).shape
        (4, 8, 8, 8)
    """

    nd = 2


class _PoolNd(Module):
    nd = 0
    kind = ""

    def __init__(self, kernel_size: Any, stride: Optional[Any] = None, padding: Any = 0) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = as_tuple(name, "kernel_size", kernel_size, self.nd, 1)
        self.stride = self.kernel_size if stride is None else as_tuple(name, "stride", stride,
                                                                       self.nd, 1)
        self.padding = as_tuple(name, "padding", padding, self.nd, 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half the kernel "
                             f"size {self.kernel_size}")

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        name = type(self).__name__
        _check_input(name, self.nd, x, None)
        check_window(name, x.shape[2:], self.kernel_size, self.padding, (1,) * self.nd, x.shape)
        pool = _pool._max_pool if self.kind == "max" else _pool._avg_pool
        return pool(self.nd, x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(_PoolNd):
    """Maximum over windows: ``(N, C, L) -> (N, C, L_out)``; see `F.max_pool1d`."""

    nd, kind = 1, "max"


class MaxPool2d(_PoolNd):
    """Maximum over windows: ``(N, C, H, W) -> (N, C, H_out, W_out)``, `stride` defaulting to
    `kernel_size`, padding with -inf; see `F.max_pool2d`.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> nn.MaxPool2d(2)(tg.zeros((4, 8, 8, 8))).shape
        (4, 8, 4, 4)
    """

    nd, kind = 2, "max"


class AvgPool1d(_PoolNd):
    """Mean over windows: ``(N, C, L) -> (N, C, L_out)``; see `F.avg_pool1d`."""

    nd, kind = 1, "avg"


class AvgPool2d(_PoolNd):
    """Mean over windows: ``(N, C, H, W) -> (N, C, H_out, W_out)``, zero padding counted in
    the mean; see `F.avg_pool2d`."""

    nd, kind = 2, "avg"
