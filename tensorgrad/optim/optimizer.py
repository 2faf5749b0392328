"""`Optimizer`: parameter groups, per-parameter state, `zero_grad` and `state_dict`.

A parameter is anything with ``.data`` (a floating ``np.ndarray``), ``.grad`` (an array of
the same shape, or ``None``) and ``.requires_grad``. Optimizers update ``.data`` in place
with numpy, so every other reference to that array sees the new values and no autograd
graph is ever recorded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any, Callable, ClassVar, Optional

import numpy as np

from ..autograd import versions


class ParamState(MutableMapping):
    """State per parameter, keyed by the parameter object itself (by identity).

    Identity keys are used because a Tensor that overloads ``==`` cannot be a reliable
    dict key; ``optimizer.state[p]`` still reads like PyTorch.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, dict[str, Any]]] = {}

    def __getitem__(self, param: Any) -> dict[str, Any]:
        return self._by_id[id(param)][1]

    def __setitem__(self, param: Any, value: dict[str, Any]) -> None:
        self._by_id[id(param)] = (param, value)

    def __delitem__(self, param: Any) -> None:
        del self._by_id[id(param)]

    def __iter__(self) -> Iterator[Any]:
        return (param for param, _ in self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, param: object) -> bool:
        return id(param) in self._by_id

    def of(self, param: Any) -> dict[str, Any]:
        """The (possibly empty) state dict of `param`, created on first use."""
        entry = self._by_id.get(id(param))
        if entry is None:
            entry = self._by_id[id(param)] = (param, {})
        return entry[1]


def _is_param(obj: Any) -> bool:
    return hasattr(obj, "data") and hasattr(obj, "grad")


class Optimizer:
    """Base class: holds ``param_groups`` and ``state``; subclasses define `_update`.

    ``param_groups`` is a list of dicts, each with ``"params"`` (a list of parameters) and
    every hyper-parameter of the optimizer (missing ones are filled from ``defaults``).
    Hyper-parameters are read from the group at every `step`, so changing
    ``param_groups[i]["lr"]`` (as the schedulers do) takes effect on the next step.

    Subclasses set ``_required_state`` / ``_optional_state`` (the names of their
    per-parameter state entries, checked by `load_state_dict`), validate a group in
    `_validate_group`, and update one parameter in `_update`.
    """

    _required_state: ClassVar[frozenset[str]] = frozenset()
    _optional_state: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if _is_param(params) or isinstance(params, np.ndarray):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of parameters or of "
                f"param-group dicts, got a single {type(params).__name__}"
            )
        self.defaults: dict[str, Any] = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state = ParamState()
        # Scratch arrays keyed by (dtype, slot), reused across steps and parameters so the
        # hot path allocates nothing; sized for the largest parameter seen.
        self._scratch_bufs: dict[tuple[np.dtype, int], np.ndarray] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {hyper}")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group ``{"params": [...], <hyper-parameter>: value, ...}``.

        Hyper-parameters the group leaves out take the optimizer's defaults. Raises
        ``TypeError`` for something that is not a floating-point parameter and
        ``ValueError`` for a parameter already in this optimizer or an invalid value.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param group has no 'params' entry")
        raw = param_group["params"]
        params = [raw] if _is_param(raw) else list(raw)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for i, p in enumerate(params):
            if not _is_param(p):
                raise TypeError(
                    f"param {i} of the group is a {type(p).__name__}; expected an object "
                    "with .data and .grad (e.g. a Tensor or nn.Parameter)"
                )
            data = p.data
            if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
                raise TypeError(
                    f"param {i} of the group has .data of type {type(data).__name__}"
                    f"{'' if not isinstance(data, np.ndarray) else ' ' + str(data.dtype)}; "
                    "only floating-point arrays can be optimized"
                )
            if id(p) in seen:
                raise ValueError(f"param {i} of the group appears more than once in this optimizer")
            seen.add(id(p))
        group = {"params": params}
        for key, value in param_group.items():
            if key != "params":
                group[key] = value
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate_group(group)
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` naming the first invalid hyper-parameter of `group`."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: ``.grad = None`` (default) or zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Update every parameter whose ``.grad`` is not ``None``, in place.

        `closure`, if given, is called first (it should recompute the loss and the
        gradients); its result is returned.
        """
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        """Update the parameters of one group (subclasses may add a fast path)."""
        for p, data, grad in self._with_grads(group):
            self._update(data, grad, self.state.of(p), group)

    def _with_grads(self, group: dict[str, Any]) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
        """(param, data, grad) for each parameter of `group` that has a gradient."""
        bump = versions.note_write
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            data = p.data
            if grad.shape != data.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: grad of shape {grad.shape} does not "
                    f"match its parameter of shape {data.shape}"
                )
            yield p, data, grad
            bump(data)  # the caller updated it in place: a new version

    def _update(
        self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update the array `p` in place from `grad`, its `state` and the `group`."""
        raise NotImplementedError

    def _with_decay(self, p: np.ndarray, grad: np.ndarray, wd: float) -> np.ndarray:
        """``grad + wd * p`` (L2 weight decay folded into the gradient), in scratch slot 1."""
        if wd == 0:
            return grad
        g = self._scratch(p, 1)
        np.multiply(p, wd, out=g)
        g += grad
        return g

    def _scratch(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable array with the shape and dtype of `like` (contents undefined).

        Different `slot` numbers give arrays that do not overlap.
        """
        key = (like.dtype, slot)
        buf = self._scratch_bufs.get(key)
        n = like.size
        if buf is None or buf.size < n:
            buf = self._scratch_bufs[key] = np.empty(n, dtype=like.dtype)
        return buf[:n].reshape(like.shape)

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of the optimizer's state, with parameters replaced by indices.

        ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``
        where indices count parameters across groups in order. Arrays are copies, so
        the result does not change when the optimizer steps.
        """
        state: dict[int, dict[str, Any]] = {}
        groups: list[dict[str, Any]] = []
        index = 0
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index] = copy.deepcopy(self.state[p])
                ids.append(index)
                index += 1
            saved["params"] = ids
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load what `state_dict` returned, for the same parameters in the same order.

        Hyper-parameters of each group are replaced by the saved ones; state arrays are
        copied and cast to their parameter's dtype. Raises ``ValueError`` naming what
        differs (group count, parameter count, a shape, an unknown state entry) before
        anything is changed.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'"
            )
        saved_groups = state_dict["param_groups"]
        saved_state = state_dict["state"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"groups, the optimizer has {len(self.param_groups)}"
            )
        new_groups = []
        new_state: list[tuple[Any, dict[str, Any]]] = []
        known = self._required_state | self._optional_state
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {gi} has {len(saved['params'])} "
                    f"parameters in the state dict, {len(group['params'])} in the optimizer"
                )
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {gi} lacks the "
                    f"hyper-parameters {missing} (a state dict of another optimizer?)"
                )
            merged = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            merged["params"] = group["params"]
            self._validate_group(merged)
            new_groups.append(merged)
            for index, p in zip(saved["params"], group["params"]):
                entry = saved_state.get(index)
                if not entry:
                    new_state.append((p, {}))
                    continue
                unknown = sorted(set(entry) - known)
                absent = sorted(self._required_state - set(entry))
                if unknown or absent:
                    what = f"unknown entries {unknown}" if unknown else f"no {absent}"
                    raise ValueError(
                        f"{name}.load_state_dict: the state of parameter {index} has {what} "
                        "(a state dict of another optimizer?)"
                    )
                loaded: dict[str, Any] = {}
                for key, value in entry.items():
                    if key == "step":
                        loaded[key] = int(value)
                        continue
                    arr = np.asarray(value)
                    if arr.shape != p.data.shape:
                        raise ValueError(
                            f"{name}.load_state_dict: state '{key}' of parameter {index} "
                            f"has shape {arr.shape}, the parameter has shape {p.data.shape}"
                        )
                    loaded[key] = np.array(arr, dtype=p.data.dtype, copy=True)
                new_state.append((p, loaded))
        listed = {index for saved in saved_groups for index in saved["params"]}
        stray = sorted(set(saved_state) - listed, key=str)
        if stray:
            raise ValueError(
                f"{name}.load_state_dict: the state dict has state for parameters {stray} "
                "that no parameter group lists"
            )
        # Update the group dicts in place so references to them stay valid.
        for group, merged in zip(self.param_groups, new_groups):
            group.clear()
            group.update(merged)
        self.state = ParamState()
        for p, st in new_state:
            if st:
                self.state[p] = st


def check_hyper(owner: str, group: dict[str, Any], name: str, ok: bool, rule: str) -> None:
    """Raise ``ValueError`` naming `name` and its value in `group` unless `ok`."""
    if not ok:
        raise ValueError(f"{owner}: invalid {name}={group[name]!r} (must be {rule})")


def ema_(avg: np.ndarray, x: np.ndarray, beta: float, tmp: np.ndarray,
         square: bool = False) -> None:
    """``avg = beta * avg + (1 - beta) * x`` (or ``x**2`` with `square`) in place; `tmp` is
    scratch space of the same shape. The running averages of Adam and RMSprop."""
    avg *= beta
    if square:
        np.multiply(x, x, out=tmp)
        tmp *= 1.0 - beta
    else:
        np.multiply(x, 1.0 - beta, out=tmp)
    avg += tmp
