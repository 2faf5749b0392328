"""Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_hyper


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's algorithm.

    For each parameter ``p`` with gradient ``grad`` (same shape and dtype), every step::

        g = grad + weight_decay * p                          (if weight_decay != 0)
        if momentum != 0:
            b = g                                            (first step)
            b = momentum * b + (1 - dampening) * g           (later steps)
            g = g + momentum * b   if nesterov   else   b
        p = p - lr * g

    ``p`` is updated in place and keeps its dtype; the momentum buffer ``b`` (state
    ``"momentum_buffer"``) has the shape and dtype of ``p``.

    Args:
        params: parameters, or dicts ``{"params": [...], "lr": ..., ...}`` (param groups).
        lr: learning rate, ``>= 0``.
        momentum: momentum factor ``mu >= 0``.
        dampening: dampening of the gradient's contribution to the momentum buffer.
        weight_decay: L2 penalty coefficient, ``>= 0``.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()              # grad = 2 w
        >>> opt.step()
        >>> w.data                                # w - 0.1 * 2 w
        array([ 0.8, -1.6])

        With momentum, a constant gradient of 1 gives b = 1, then 0.9 * 1 + 1 = 1.9:

        >>> w = tg.tensor(np.array([1.0]), requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     w.grad = np.ones(1)
        ...     opt.step()
        >>> w.data.round(6), opt.state[w]["momentum_buffer"]    # 1 - 0.1 * (1 + 1.9)
        (array([0.71]), array([1.9]))
    """

    _optional_state = frozenset({"momentum_buffer"})

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_hyper("SGD", group, "lr", group["lr"] >= 0, ">= 0")
        check_hyper("SGD", group, "momentum", group["momentum"] >= 0, ">= 0")
        check_hyper("SGD", group, "weight_decay", group["weight_decay"] >= 0, ">= 0")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True requires momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _step_group(self, group: dict[str, Any]) -> None:
        if group["momentum"] != 0 or group["weight_decay"] != 0:
            super()._step_group(group)
            return
        # Plain SGD, the textbook p -= lr * grad: no momentum state to update, so skip the
        # per-parameter machinery (the hot path of small models).
        lr = float(group["lr"])
        for p, data, grad in self._with_grads(group):
            self.state.of(p)  # an (empty) entry per stepped parameter, as in PyTorch
            if data.size > 4096:  # large: no temporary the size of the parameter
                step = self._scratch(data, 0)
                np.multiply(grad, lr, out=step)
                data -= step
            else:
                data -= lr * grad

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr = float(group["lr"])
        mu = float(group["momentum"])
        wd = float(group["weight_decay"])
        g = self._with_decay(p, grad, wd)
        step = self._scratch(p, 0)
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype, copy=True)
            else:
                buf *= mu
                damp = float(group["dampening"])
                if damp != 0:
                    np.multiply(g, 1.0 - damp, out=step)
                    buf += step
                else:
                    buf += g
            if group["nesterov"]:
                np.multiply(buf, mu, out=step)
                step += g
                g = step
            else:
                g = buf
        np.multiply(g, lr, out=step)
        p -= step
