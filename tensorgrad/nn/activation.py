"""Activation layers: modules around the activation functions, with no parameters."""
from __future__ import annotations

from typing import Any

from ..spellings import spellings
from ..tensor import Tensor
from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0) elementwise.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> x = tg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        >>> y = nn.ReLU()(x)
        >>> y.sum().backward()
        >>> y, x.grad                     # the gradient is 0 at the kink x = 0
        (tensor([0., 0., 2.], grad_fn=<relu>), array([0., 0., 1.], dtype=float32))
    """

    def __init__(self, inplace: bool = False) -> None:
        # PyTorch's inplace=True only saves memory; the values and gradients are the same, so
        # it is accepted (for ported code) and the result is computed out of place.
        super().__init__()

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise, stable for any x.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> nn.Sigmoid()(tg.tensor([-1000.0, 0.0, 1000.0]))    # no overflow
        tensor([0. , 0.5, 1. ])
    """

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `axis` (default the last).

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> z = tg.tensor([[0.0, np.log(3.0)], [1e4, 0.0]])     # 1e4 does not overflow
        >>> nn.Softmax()(z).numpy().round(4)                     # each row sums to 1
        array([[0.25, 0.75],
               [1.  , 0.  ]], dtype=float32)
    """

    @spellings  # nn.Softmax(dim=1) as in PyTorch
    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """log(softmax(x)) along `axis` (default the last), computed stably."""

    @spellings  # nn.Softmax(dim=1) as in PyTorch
    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> nn.LeakyReLU(0.1)(tg.tensor([-2.0, 3.0]))
        tensor([-0.2,  3. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()  # inplace: accepted as in ReLU
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x * Phi(x) (Phi the standard normal CDF); ``approximate='tanh'`` for the tanh form.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> x = tg.tensor([-1.0, 0.0, 1.0])
        >>> nn.GELU()(x).numpy().round(4)
        array([-0.1587,  0.    ,  0.8413], dtype=float32)
        >>> nn.GELU("tanh")(x).numpy().round(4)
        array([-0.1588,  0.    ,  0.8412], dtype=float32)
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"
