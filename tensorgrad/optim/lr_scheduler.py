"""Learning-rate schedulers: `StepLR` and `CosineAnnealingLR`, with PyTorch's semantics.

A scheduler writes ``group["lr"]`` of every param group of its optimizer. Creating it
sets epoch 0 (and records ``group["initial_lr"]``); each `step()` moves to the next epoch.
Call ``optimizer.step()`` before ``scheduler.step()`` in the training loop.
"""

from __future__ import annotations

import math
from typing import Any


class LRScheduler:
    """Base class: subclasses compute the new learning rates in `get_lr`.

    Attributes: ``optimizer``, ``base_lrs`` (each group's ``initial_lr``), ``last_epoch``
    (the current epoch, ``0`` after construction).
    """

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"{type(self).__name__}: expected an optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param_groups[{i}] has no 'initial_lr', needed to resume at "
                        f"last_epoch={last_epoch}"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of every group for epoch ``self.last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step` (or the construction) set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer, copied."""
        return {
            k: (list(v) if isinstance(v, list) else v)
            for k, v in self.__dict__.items()
            if k != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.__dict__.update(
            {k: (list(v) if isinstance(v, list) else v) for k, v in state_dict.items()}
        )


class StepLR(LRScheduler):
    """Multiply every group's learning rate by `gamma` each `step_size` epochs.

    Without other changes to the rate, ``lr(epoch) = initial_lr * gamma ** (epoch //
    step_size)``. Like PyTorch it is applied as a factor to the current rate, so it
    combines with other schedulers and manual changes.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
        >>> sched = tg.optim.StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(opt.param_groups[0]["lr"])
        ...     opt.step()                        # (one epoch of training)
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Any, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if not (isinstance(step_size, int) and step_size > 0):
            raise ValueError(f"StepLR: invalid step_size={step_size!r} (must be an int > 0)")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from each group's initial rate down to `eta_min` over `T_max` epochs.

    Without other changes to the rate,
    ``lr(epoch) = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``,
    which rises again after ``T_max`` (period ``2 * T_max``). Like PyTorch it is applied as
    a ratio to the current rate, so it combines with manual changes.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
        >>> sched = tg.optim.CosineAnnealingLR(opt, T_max=4)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        ...     opt.step()
        ...     sched.step()
        >>> lrs                                   # (1 + cos(pi * epoch / 4)) / 2
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(
        self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not (isinstance(T_max, int) and T_max > 0):
            raise ValueError(f"CosineAnnealingLR: invalid T_max={T_max!r} (must be an int > 0)")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:
            # Resuming at a later epoch: nothing to scale from yet, use the closed form.
            return [
                lo + (base - lo) * (1 + math.cos(math.pi * t / T)) / 2 for base in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:
            # Just past a minimum the ratio below would divide by 1 + cos(pi) = 0.
            return [
                group["lr"] + (base - lo) * (1 - math.cos(math.pi / T)) / 2
                for group, base in zip(groups, self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [lo + ratio * (group["lr"] - lo) for group in groups]
