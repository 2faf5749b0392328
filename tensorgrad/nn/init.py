"""Weight initialisation, in place: ``nn.init.kaiming_uniform_(layer.weight, nonlinearity='relu')``.

Each function overwrites the tensor's ``.data`` in its own array and dtype (no graph is
recorded) and returns the tensor. Random values are drawn in float64 from tensorgrad's global
generator (``tg.manual_seed`` makes them reproducible), then cast.

Fans follow this library's weight layout ``(in, out)``, the transpose of PyTorch's: for a
weight of shape ``(in, out, *rest)``, ``fan_in = in * prod(rest)`` and
``fan_out = out * prod(rest)``.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from ..random import get_rng

__all__ = [
    "calculate_gain", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "zeros_", "ones_", "constant_", "normal_", "uniform_",
]


def _array(t: Any) -> np.ndarray:
    a = t if isinstance(t, np.ndarray) else getattr(t, "data", None)
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        what = f"{type(t).__name__} of dtype {a.dtype}" if isinstance(a, np.ndarray) \
            else type(t).__name__
        raise TypeError(f"nn.init: expected a floating Tensor or array, got a {what}")
    return a


def _fill(t: Any, values: Any) -> Any:
    a = _array(t)
    a[...] = values
    return t


def _fans(t: Any) -> tuple:
    a = _array(t)
    if a.ndim < 2:
        raise ValueError(f"nn.init: fan in and fan out need a weight of at least 2 dims "
                         f"(in, out), got shape {a.shape}")
    rest = int(np.prod(a.shape[2:]))
    return a.shape[0] * rest, a.shape[1] * rest


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> float:
    """The gain that keeps activations' variance steady through `nonlinearity`: 1 for
    'linear', 'identity' and 'sigmoid'; 5/3 for 'tanh'; sqrt(2) for 'relu';
    sqrt(2 / (1 + slope**2)) for 'leaky_relu' (slope `param`, default 0.01); 3/4 for 'selu'."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise TypeError(f"calculate_gain: negative slope must be a number, got {slope!r}")
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0) -> Any:
    """Fill with U(a, b)."""
    a_ = _array(tensor)
    return _fill(tensor, get_rng().uniform(a, b, a_.shape))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    """Fill with N(mean, std**2)."""
    a_ = _array(tensor)
    return _fill(tensor, get_rng().normal(mean, std, a_.shape))


def constant_(tensor: Any, val: float) -> Any:
    """Fill with `val`."""
    return _fill(tensor, val)


def zeros_(tensor: Any) -> Any:
    """Fill with 0."""
    return _fill(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    """Fill with 1."""
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Any:
    """He uniform: U(-b, b) with b = sqrt(3) * gain / sqrt(fan), gain from `calculate_gain`
    (`a` is the leaky ReLU slope) and fan = fan_in or fan_out by `mode`. For ReLU
    (``nonlinearity='relu'``, or the default with a = 0): b = sqrt(6 / fan_in)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Any:
    """He normal: N(0, std**2) with std = gain / sqrt(fan) (see `kaiming_uniform_`)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
