"""Learning-rate schedulers with PyTorch's formulas and semantics.

`StepLR`, `MultiStepLR`, `ExponentialLR`, `LambdaLR`, `LinearLR` (warm-up),
`CosineAnnealingLR`, `OneCycleLR` and `ReduceLROnPlateau`.

A scheduler writes ``group["lr"]`` of every param group of its optimizer. Creating it
sets epoch 0 (and records ``group["initial_lr"]``); each `step()` moves to the next epoch
(for `OneCycleLR`, the next batch). Call ``optimizer.step()`` before ``scheduler.step()``
in the training loop. ``state_dict()`` / ``load_state_dict()`` save and restore a
scheduler (``tg.save`` stores the dict next to the model's and the optimizer's).
"""

from __future__ import annotations

import math
import types
from collections import Counter
from typing import Any, Callable, Iterable, Sequence, Union


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
        # The constructor's own step: resuming at last_epoch >= 0 must not move the rate.
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

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


def _per_group(name: str, optimizer: Any, value: Any) -> list[Any]:
    """`value` for every param group: one value for all, or a list with one per group."""
    groups = optimizer.param_groups
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"expected {len(groups)} values for {name} (one per param "
                             f"group), got {len(value)}")
        return list(value)
    return [value] * len(groups)


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``; one function for all groups or one per group.

    `state_dict` leaves out plain functions and lambdas (they cannot be saved); the state
    of callable objects (their ``__dict__``) is kept, as in PyTorch.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
        >>> sched = tg.optim.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     opt.step()
        ...     sched.step()
        >>> lrs
        [1.0, 0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: Any,
                 lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
                 last_epoch: int = -1) -> None:
        fns = _per_group("lr_lambda", optimizer, lr_lambda)
        if not all(callable(f) for f in fns):
            raise TypeError(f"LambdaLR: lr_lambda must be callable, got {lr_lambda!r}")
        self.lr_lambdas: list[Callable[[int], float]] = fns
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else
                               dict(fn.__dict__) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        for fn, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                fn.__dict__.update(attrs)


class MultiStepLR(LRScheduler):
    """Multiply the rate by `gamma` at each epoch listed in `milestones`.

    Without other changes to the rate, ``lr(epoch) = initial_lr * gamma ** (number of
    milestones <= epoch)``; a milestone listed twice counts twice.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
        >>> sched = tg.optim.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
        >>> lrs = []
        >>> for epoch in range(6):
        ...     lrs.append(round(sched.get_last_lr()[0], 6))
        ...     opt.step()
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    """

    def __init__(self, optimizer: Any, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in groups]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        # Back to a Counter whatever mapping the state dict went through.
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ExponentialLR(LRScheduler):
    """Multiply the rate by `gamma` every epoch: ``lr(epoch) = initial_lr * gamma ** epoch``.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
        >>> sched = tg.optim.ExponentialLR(opt, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(sched.get_last_lr()[0])
        ...     opt.step()
        ...     sched.step()
        >>> lrs
        [1.0, 0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self._is_initial:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class LinearLR(LRScheduler):
    """Scale the rate by a factor moving linearly from `start_factor` to `end_factor` over
    `total_iters` epochs, then constant: the usual learning-rate warm-up.

    Without other changes to the rate, ``lr(epoch) = initial_lr * (start_factor +
    (end_factor - start_factor) * min(epoch, total_iters) / total_iters)``. Like PyTorch it
    is applied as a ratio to the current rate, so it combines with other schedulers.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=0.3)
        >>> sched = tg.optim.LinearLR(opt, start_factor=1 / 3, total_iters=2)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(sched.get_last_lr()[0], 6))
        ...     opt.step()
        ...     sched.step()
        >>> lrs
        [0.1, 0.2, 0.3, 0.3]
    """

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor={start_factor!r} must be in (0, 1]")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor={end_factor!r} must be in [0, 1]")
        if not (isinstance(total_iters, int) and total_iters > 0):
            raise ValueError(f"LinearLR: invalid total_iters={total_iters!r} (must be an int > 0)")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        a, b, n, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if t == 0:
            return [group["lr"] * a for group in groups]
        if self._is_initial or t > n:
            return [group["lr"] for group in groups]
        # factor(t) / factor(t - 1), factor(t) = a + (b - a) * t / n
        ratio = 1.0 + (b - a) / (n * a + (t - 1) * (b - a))
        return [group["lr"] * ratio for group in groups]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith, "Super-Convergence", 2017), stepped after every batch.

    The rate rises from ``max_lr / div_factor`` to `max_lr` during the first `pct_start`
    of the `total_steps` (or ``epochs * steps_per_epoch``) steps, then anneals down to
    ``max_lr / div_factor / final_div_factor``. With ``three_phase=True`` it comes back
    symmetrically to the initial rate before annealing to the minimum. `anneal_strategy`
    is ``"cos"`` (``end + (start - end) * (1 + cos(pi * pct)) / 2``) or ``"linear"``. With
    `cycle_momentum` the momentum (SGD, RMSprop) or ``beta1`` (Adam) moves inversely,
    between `max_momentum` and `base_momentum`. Formulas and defaults are PyTorch's;
    stepping past `total_steps` raises ``ValueError``.

    Args:
        max_lr: the peak rate, one for all groups or a list with one per group.
        last_epoch: the number of batches already trained, to resume (``-1``: start).

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=0.1)
        >>> sched = tg.optim.OneCycleLR(opt, max_lr=1.0, total_steps=10)
        >>> lrs = [sched.get_last_lr()[0]]
        >>> for _ in range(9):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(sched.get_last_lr()[0])
        >>> [round(lr, 4) for lr in lrs]   # up for 30% of the steps, then down to 1 / 25 / 1e4
        [0.04, 0.52, 1.0, 0.9505, 0.8117, 0.6113, 0.3887, 0.1883, 0.0495, 0.0]
    """

    def __init__(
        self,
        optimizer: Any,
        max_lr: Union[float, Sequence[float]],
        total_steps: Union[int, None] = None,
        epochs: Union[int, None] = None,
        steps_per_epoch: Union[int, None] = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: Union[float, Sequence[float]] = 0.85,
        max_momentum: Union[float, Sequence[float]] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"OneCycleLR: expected an optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            if not (isinstance(total_steps, int) and total_steps > 0):
                raise ValueError(f"OneCycleLR: invalid total_steps={total_steps!r} (must be an "
                                 "int > 0)")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, v in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not (isinstance(v, int) and v > 0):
                    raise ValueError(f"OneCycleLR: invalid {name}={v!r} (must be an int > 0)")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
        if not (isinstance(pct_start, float) and 0 <= pct_start <= 1):
            raise ValueError(f"OneCycleLR: pct_start={pct_start!r} must be a float in [0, 1]")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        up = float(pct_start * self.total_steps) - 1
        self._schedule_phases: list[dict[str, Any]]
        if three_phase:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum",
                     end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, peak in zip(groups, _per_group("max_lr", optimizer, max_lr)):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            defaults = getattr(optimizer, "defaults", {})
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError("OneCycleLR: cycle_momentum=True needs an optimizer with "
                                 "momentum or betas; pass cycle_momentum=False")
            self.use_beta1 = "betas" in defaults
            if last_epoch == -1:
                for group, hi, lo in zip(groups,
                                         _per_group("max_momentum", optimizer, max_momentum),
                                         _per_group("base_momentum", optimizer, base_momentum)):
                    self._set_momentum(group, hi)
                    group["max_momentum"] = hi
                    group["base_momentum"] = lo
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times; the schedule has total_steps="
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if t <= end or i == len(self._schedule_phases) - 1:
                    pct = (t - start) / (end - start)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]],
                                            pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct))
                    break
                start = end
        return lrs


class ReduceLROnPlateau:
    """Multiply the rate by `factor` when a metric has stopped improving for `patience`
    epochs: ``scheduler.step(val_loss)`` once per epoch.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` values are lowered.
        mode: ``"min"`` (the metric should fall, e.g. a loss) or ``"max"`` (an accuracy).
        factor: ``new_lr = lr * factor``, ``< 1``.
        patience: epochs without improvement tolerated; the rate drops on the next one.
        threshold: how much better than the best value counts as an improvement.
        threshold_mode: ``"rel"``: below ``best * (1 - threshold)`` (``"min"``) or above
            ``best * (1 + threshold)`` (``"max"``); ``"abs"``: beyond ``best -/+ threshold``.
        cooldown: epochs after a reduction during which bad epochs are not counted.
        min_lr: lower bound of the rate, one for all groups or a list with one per group.
        eps: a reduction smaller than this is skipped.

    Same rules as PyTorch's. ``num_bad_epochs``, ``best`` and ``cooldown_counter`` are
    the state, saved by `state_dict`.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> opt = tg.optim.SGD([tg.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
        >>> sched = tg.optim.ReduceLROnPlateau(opt, factor=0.5, patience=1)
        >>> lrs = []
        >>> for val_loss in [3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]:
        ...     sched.step(val_loss)
        ...     lrs.append(opt.param_groups[0]["lr"])
        >>> lrs                                   # halved after the 2nd epoch without progress
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: Union[float, Sequence[float]] = 0,
                 eps: float = 1e-8) -> None:
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"ReduceLROnPlateau: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor={factor!r} must be < 1")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.optimizer = optimizer
        self.factor = factor
        self.min_lrs = [float(v) for v in _per_group("min_lr", optimizer, min_lr)]
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                        else best - self.threshold)
        return a > (best * (1.0 + self.threshold) if self.threshold_mode == "rel"
                    else best + self.threshold)

    def step(self, metrics: Any) -> None:
        """Record this epoch's value of the metric (a number or a one-element Tensor)."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, low in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, low)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def get_last_lr(self) -> list[float]:
        """The rates after the last `step`, one per group."""
        return list(self._last_lr)

    # Not an LRScheduler (it has no get_lr and steps with a metric), but saved the same way.
    state_dict = LRScheduler.state_dict
    load_state_dict = LRScheduler.load_state_dict
