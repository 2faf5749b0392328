"""RMSprop with optional centering, momentum and L2 weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_hyper, ema_


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's algorithm (Hinton's lecture 6e; centered form of Graves, 2013).

    For each parameter ``p`` with gradient ``grad``, every step (all buffers start at 0)::

        g = grad + weight_decay * p                          (if weight_decay != 0)
        s = alpha * s + (1 - alpha) * g**2
        if centered:
            a = alpha * a + (1 - alpha) * g
            avg = sqrt(max(s - a**2, 0)) + eps
        else:
            avg = sqrt(s) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    The ``max(., 0)`` only differs from PyTorch where rounding makes ``s - a**2``
    slightly negative, where PyTorch yields NaN. ``p`` is updated in place and keeps its
    dtype. State per parameter: ``"step"`` (int), ``"square_avg"`` (s), and
    ``"grad_avg"`` (a) / ``"momentum_buffer"`` (b) when used, arrays of ``p``'s shape
    and dtype.

    Args:
        params: parameters, or dicts ``{"params": [...], "lr": ..., ...}`` (param groups).
        lr: learning rate, ``>= 0``.
        alpha: smoothing constant, in ``[0, 1]``.
        eps: added to the denominator, ``>= 0``.
        weight_decay: L2 penalty coefficient, ``>= 0``.
        momentum: momentum factor, ``>= 0``.
        centered: normalize by an estimate of the gradient's variance instead of its
            second moment.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = tg.optim.RMSprop([w], lr=0.01)  # alpha = 0.99
        >>> (w * w).sum().backward()
        >>> opt.step()                            # s = 0.01 g**2: the step is 0.01 * g / (0.1 |g|)
        >>> w.data.round(6)
        array([ 0.9, -1.9])
    """

    _required_state = frozenset({"step", "square_avg"})
    _optional_state = frozenset({"grad_avg", "momentum_buffer"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_hyper("RMSprop", group, "lr", group["lr"] >= 0, ">= 0")
        check_hyper("RMSprop", group, "alpha", 0 <= group["alpha"] <= 1, "in [0, 1]")
        check_hyper("RMSprop", group, "eps", group["eps"] >= 0, ">= 0")
        check_hyper("RMSprop", group, "weight_decay", group["weight_decay"] >= 0, ">= 0")
        check_hyper("RMSprop", group, "momentum", group["momentum"] >= 0, ">= 0")

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        mu = float(group["momentum"])
        if "step" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
        state["step"] += 1
        sq = state["square_avg"]
        tmp = self._scratch(p, 0)
        g = self._with_decay(p, grad, wd)

        ema_(sq, g, alpha, tmp, square=True)
        if group["centered"]:
            a = state.get("grad_avg")
            if a is None:
                a = state["grad_avg"] = np.zeros_like(p)
            ema_(a, g, alpha, tmp)
            np.multiply(a, a, out=tmp)
            np.subtract(sq, tmp, out=tmp)
            np.maximum(tmp, 0.0, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(sq, out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        if mu > 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = np.zeros_like(p)
            b *= mu
            b += tmp
            np.multiply(b, lr, out=tmp)
        else:
            tmp *= lr
        p -= tmp
