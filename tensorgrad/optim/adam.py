"""Adam (L2 weight decay folded into the gradient) and AdamW (decoupled weight decay)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_hyper, ema_


class Adam(Optimizer):
    r"""Adam, PyTorch's algorithm (Kingma & Ba, 2015; AMSGrad of Reddi et al., 2018).

    For each parameter ``p`` with gradient ``grad``, at step ``t = 1, 2, ...``::

        g = grad + weight_decay * p                     (if weight_decay != 0)
        m = beta1 * m + (1 - beta1) * g                 (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g**2
        v_max = max(v_max, v)                           (if amsgrad; v_max starts at 0)
        denom = sqrt(v_max if amsgrad else v) / sqrt(1 - beta2**t) + eps
        p = p - (lr / (1 - beta1**t)) * m / denom

    ``p`` is updated in place and keeps its dtype. State per parameter: ``"step"`` (int
    ``t``), ``"exp_avg"`` (m), ``"exp_avg_sq"`` (v) and, with amsgrad,
    ``"max_exp_avg_sq"`` (v_max), all arrays of ``p``'s shape and dtype.

    Args:
        params: parameters, or dicts ``{"params": [...], "lr": ..., ...}`` (param groups).
        lr: learning rate, ``>= 0``.
        betas: ``(beta1, beta2)``, each in ``[0, 1)``.
        eps: added to the denominator, ``>= 0``.
        weight_decay: L2 penalty coefficient, ``>= 0`` (AdamW: decoupled decay rate).
        amsgrad: use the running maximum of ``v``.

    Examples:
        The first step moves every element by about ``lr`` against the sign of its gradient,
        whatever the gradient's size (``m / sqrt(v)`` is ``sign(g)`` after bias correction):

        >>> import numpy as np, tensorgrad as tg
        >>> w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = tg.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()              # grad = (2, -4)
        >>> opt.step()
        >>> w.data.round(6), opt.state[w]["step"]
        (array([ 0.9, -1.9]), 1)
    """

    _required_state = frozenset({"step", "exp_avg", "exp_avg_sq"})
    _optional_state = frozenset({"max_exp_avg_sq"})
    # AdamW switches this on: decay p directly instead of adding weight_decay * p to g.
    _decoupled = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_hyper(name, group, "lr", group["lr"] >= 0, ">= 0")
        check_hyper(name, group, "eps", group["eps"] >= 0, ">= 0")
        check_hyper(name, group, "weight_decay", group["weight_decay"] >= 0, ">= 0")
        betas = group["betas"]
        check_hyper(name, group, "betas", len(betas) == 2, "a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            if not 0 <= beta < 1:
                raise ValueError(f"{name}: invalid betas[{i}]={beta!r} (must be in [0, 1))")

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        tmp = self._scratch(p, 0)
        g = grad
        if wd != 0:
            if self._decoupled:
                p *= 1.0 - lr * wd
            else:
                g = self._with_decay(p, grad, wd)
        state["step"] = t = state["step"] + 1

        ema_(m, g, beta1, tmp)
        ema_(v, g, beta2, tmp, square=True)

        if group["amsgrad"]:
            v_max = state.get("max_exp_avg_sq")
            if v_max is None:
                v_max = state["max_exp_avg_sq"] = np.zeros_like(p)
            np.maximum(v_max, v, out=v_max)
            v = v_max
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - beta2**t)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1.0 - beta1**t)
        p -= tmp


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's algorithm.

    Identical to `Adam` except that the decay shrinks the parameter directly instead of
    entering the gradient, first thing in each step::

        p = p * (1 - lr * weight_decay)
        g = grad
        ... then the Adam update of `Adam` with this g.

    The default ``weight_decay`` is ``1e-2``.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = tg.optim.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = np.zeros(2)                  # no gradient: only the decay acts
        >>> opt.step()
        >>> w.data                                # w * (1 - 0.1 * 0.5)
        array([ 0.95, -1.9 ])
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
