"""Layers with parameters or modes: `Linear` (alias `Dense`), `Dropout`, `Identity`, `Flatten`."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..tensor import Tensor, as_tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """Fully connected layer ``z = x @ weight + bias`` (the row-vector convention
    ``z^l = a^{l-1} W^l + b^l``).

    Shapes: input ``(..., in_features)``, output ``(..., out_features)``,
    ``weight (in_features, out_features)``, ``bias (out_features,)`` (absent with
    ``bias=False``). `dtype` defaults to ``tg.get_default_dtype()``.

    Initialisation (`reset_parameters`), Kaiming-uniform for ReLU networks: every weight is
    drawn from ``U(-sqrt(6 / in_features), sqrt(6 / in_features))`` (variance
    ``2 / in_features``) with tensorgrad's global generator, and the bias is zero.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)                     # fixes the initial weights
        >>> layer = nn.Linear(3, 2)
        >>> layer.weight.shape, layer.bias.shape      # (in, out): z = x @ W + b
        ((3, 2), (2,))
        >>> x = tg.ones((4, 3))
        >>> layer(x).shape, np.allclose(layer(x).data, x.data @ layer.weight.data)  # bias is 0
        ((4, 2), True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Linear: {name} must be a positive int, got {v!r}")
        d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
        if d.kind != "f":
            raise TypeError(f"Linear: dtype must be floating, got {d}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.zeros((self.in_features, self.out_features), d))
        if bias:
            self.bias = Parameter(np.zeros(self.out_features, d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight (Kaiming uniform, see the class docstring); zero the bias."""
        init.kaiming_uniform_(self.weight, nonlinearity="relu")
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


Dense = Linear


class Dropout(Module):
    """Inverted dropout with probability `p` (see `functional.dropout`): in training mode
    each element is zeroed with probability p and the rest scaled by 1/(1-p); in eval mode
    the input passes through unchanged.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)                     # fixes the mask
        >>> drop = nn.Dropout(0.5)
        >>> drop(tg.ones(6))                          # survivors scaled by 1 / (1 - p)
        tensor([2., 0., 0., 0., 2., 2.])
        >>> drop.eval()(tg.ones(6))                   # eval mode: no dropout
        tensor([1., 1., 1., 1., 1., 1.])
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = F._check_p(p)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x)


class Flatten(Module):
    """Merges axes ``start_axis..end_axis`` into one: by default ``(N, *rest)`` becomes
    ``(N, prod(rest))``, keeping the batch axis."""

    def __init__(self, start_axis: int = 1, end_axis: int = -1) -> None:
        super().__init__()
        self.start_axis = start_axis
        self.end_axis = end_axis

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).flatten(self.start_axis, self.end_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"
