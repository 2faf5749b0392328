"""Loss modules: each calls the function of the same name in `functional` (see there for the
formulas). ``forward(input, target)``; `reduction` is 'mean' (default), 'sum' or 'none'."""
from __future__ import annotations

from typing import Any

from ..ops.loss import REDUCTIONS
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error (x - y)**2 (mean over all elements).

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> x = tg.tensor([1.0, 2.0, 4.0], requires_grad=True)
        >>> loss = nn.MSELoss()(x, [1.0, 0.0, 0.0])      # (0 + 4 + 16) / 3
        >>> round(loss.item(), 4)
        6.6667
        >>> loss.backward()
        >>> x.grad.round(4)                              # 2 (x - y) / 3
        array([0.    , 1.3333, 2.6667], dtype=float32)
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: ``|x - y|`` per element, then reduced (`functional.l1_loss`).

    ``input`` and ``target`` have the same shape (any); the result is a scalar, or that
    shape with ``reduction='none'``. The gradient is ``sign(x - y)`` (0 where x == y), over
    the element count with 'mean'. Less sensitive to outliers than `MSELoss`.

    Args:
        reduction: 'mean' (default), 'sum' or 'none'.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> x = tg.tensor([1.0, 2.0, -4.0], requires_grad=True)
        >>> loss = nn.L1Loss()(x, [1.0, 0.0, 0.0])        # (0 + 2 + 4) / 3
        >>> loss.item()
        2.0
        >>> loss.backward()
        >>> x.grad.round(4)                              # sign(x - y) / 3
        array([ 0.    ,  0.3333, -0.3333], dtype=float32)
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss: per element, with ``d = x - y``, ``0.5 d**2 / beta`` where
    ``|d| < beta`` and ``|d| - beta / 2`` beyond, then reduced (`functional.smooth_l1_loss`).

    Quadratic near zero (a gradient that shrinks with the error), linear far away (a
    gradient of at most 1, robust to outliers); ``beta=0`` is `L1Loss`. Same shapes as
    `L1Loss`; PyTorch's definition.

    Args:
        reduction: 'mean' (default), 'sum' or 'none'.
        beta: where the quadratic part ends, ``>= 0``.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> x = tg.tensor([0.5, 3.0], requires_grad=True)
        >>> nn.SmoothL1Loss(reduction="none")(x, [0.0, 0.0]).numpy()   # 0.5 * 0.25, 3 - 0.5
        array([0.125, 2.5  ], dtype=float32)
        >>> nn.SmoothL1Loss()(x, [0.0, 0.0]).backward()
        >>> x.grad                                             # (d / beta, sign(d)) / 2
        array([0.25, 0.5 ], dtype=float32)
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Quadratic for |x - y| < delta, linear beyond (see `functional.huber_loss`)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits (N, C) against integer classes (N,) or
    probabilities (N, C); 'mean' averages over the N samples.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> logits = tg.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
        >>> loss_fn = nn.CrossEntropyLoss()
        >>> round(loss_fn(logits, np.array([0, 2])).item(), 4)     # mean of 0.1698 and log(3)
        0.6342
        >>> round(loss_fn(logits, np.array([[1.0, 0, 0], [0, 0, 1]])).item(), 4)   # one-hot
        0.6342
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, \
            label_smoothing

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.reduction, weight=self.weight,
                               ignore_index=self.ignore_index,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (N, C) at integer classes (N,).

    Examples:
        After `LogSoftmax` it is the cross-entropy of the logits:

        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> logits = tg.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
        >>> round(nn.NLLLoss()(nn.LogSoftmax()(logits), np.array([0, 2])).item(), 4)
        0.6342
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.nll_loss(input, target, self.reduction, weight=self.weight,
                          ignore_index=self.ignore_index)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably
    from the logits; 'mean' averages over all elements.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> z = tg.tensor([0.0, 1e4, -1e4])                  # no overflow at |z| = 1e4
        >>> nn.BCEWithLogitsLoss(reduction="none")(z, [1.0, 1.0, 0.0]).numpy().round(4)
        array([0.6931, 0.    , 0.    ], dtype=float32)
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped to >= -100).

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> round(nn.BCELoss()(tg.tensor([0.5, 0.5]), [1.0, 0.0]).item(), 4)    # log(2)
        0.6931
        >>> nn.BCELoss()(tg.tensor([0.0]), [1.0])            # -log(0) clamped to 100
        tensor(100.)
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.reduction)
