"""Normalisation layers with PyTorch's semantics: `BatchNorm1d`, `BatchNorm2d`, `LayerNorm`.

Their gradients come from one fused op (`tensorgrad.ops.norm.normalize`, the three-term
input gradient derived in docs/layers-derivations.md) followed by the elementwise affine map.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from .. import dtypes
from ..ops.norm import _shape_tuple, batch_norm, layer_norm
from ..tensor import Tensor, as_tensor
from .module import Module, Parameter


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d; subclasses set the accepted ranks and their description."""

    _ranks: tuple = ()
    _form = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype: Any = None
                 ) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) \
                or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, d))
            self.bias = Parameter(np.zeros(self.num_features, d))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, d))
            self.register_buffer("running_var", np.ones(self.num_features, d))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for b in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(b, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics; weight 1 and bias 0 (PyTorch's initialisation)."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            self.bias.data[...] = 0

    def forward(self, x: Any) -> Tensor:
        """Batch statistics in training mode (updating the running ones), the running
        statistics in evaluation mode (the batch ones if they are not tracked)."""
        x = as_tensor(x)
        name = type(self).__name__
        if x.ndim not in self._ranks or x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input of shape {self._form} with "
                             f"C = {self.num_features}, got shape {x.shape}")
        if self.training and x.size // self.num_features <= 1:
            raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or not self.track_running_stats
        track = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over the channels C of (N, C) or (N, C, L) inputs (PyTorch's).

    In training mode each channel is normalised with the mean and the biased variance of the
    batch (over N and L), then scaled by `weight` and shifted by `bias` (each (C,), 1 and 0
    at first; none with ``affine=False``). The buffers `running_mean` and `running_var`
    follow ``running = (1 - momentum) * running + momentum * batch`` (the variance with the
    unbiased batch variance; ``momentum=None``: a cumulative average) and
    `num_batches_tracked` counts the batches. In evaluation mode the running statistics
    normalise. ``track_running_stats=False``: no buffers, batch statistics always.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> bn = nn.BatchNorm1d(2)
        >>> x = tg.tensor(np.array([[1.0, 10.0], [3.0, 30.0]]))
        >>> bn(x).numpy().round(3)                    # per channel: (x - mean) / std
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> bn.running_mean.numpy(), bn.running_var.numpy()   # 0.9 * init + 0.1 * batch
        (array([0.2, 2. ], dtype=float32), array([ 1.1, 20.9], dtype=float32))
        >>> sorted(bn.state_dict())
        ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    _ranks = (2, 3)
    _form = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over the channels C of (N, C, H, W) images, statistics over N, H
    and W; otherwise as `BatchNorm1d`."""

    _ranks = (4,)
    _form = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its trailing dims `normalized_shape` (mean and biased
    variance of those values), then ``* weight + bias`` (each of shape `normalized_shape`,
    1 and 0 at first; none with ``elementwise_affine=False``; no bias with ``bias=False``).
    Same in training and evaluation.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> ln = nn.LayerNorm(3)
        >>> ln(tg.tensor(np.array([[1.0, 2.0, 3.0]]))).numpy().round(4)
        array([[-1.2247,  0.    ,  1.2247]])
    """

    def __init__(self, normalized_shape: Union[int, Sequence[int]], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ValueError(f"LayerNorm: normalized_shape must hold positive sizes, got "
                             f"{normalized_shape!r}")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, d))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, d))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm: expected input of shape (*, "
                             f"{', '.join(map(str, self.normalized_shape))}) (trailing "
                             f"dimensions = normalized_shape), got shape {x.shape}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
