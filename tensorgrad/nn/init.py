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
    sqrt(2 / (1 + slope**2)) for 'leaky_relu' (slope `param`, default 0.01); 3/4 for 'selu'.

    Examples:
        >>> import tensorgrad.nn as nn
        >>> nn.init.calculate_gain("relu"), nn.init.calculate_gain("tanh")
        (1.4142135623730951, 1.6666666666666667)
    """
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
    """Fill with 0.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> nn.init.zeros_(tg.ones((2, 2)))
        tensor([[0., 0.],
                [0., 0.]])
    """
    return _fill(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    """Fill with 1."""
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)
        >>> w = nn.Parameter(np.zeros((30, 20)))
        >>> nn.init.xavier_uniform_(w) is w, w.dtype             # in place, dtype kept
        (True, dtype('float64'))
        >>> bool(abs(w.data).max() <= (6 / (30 + 20)) ** 0.5)
        True
    """
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Any, gain: float = 1.0) -> Any:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)
        >>> w = nn.init.xavier_normal_(nn.Parameter(np.zeros((400, 300))))
        >>> round(float(w.data.std()) / (2 / (400 + 300)) ** 0.5, 2)   # measured / formula
        1.0
    """
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
    (``nonlinearity='relu'``, or the default with a = 0): b = sqrt(6 / fan_in).

    Examples:
        The weight layout is ``(in, out)``, so fan_in is the number of rows:

        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)
        >>> w = nn.init.kaiming_uniform_(nn.Parameter(np.zeros((6, 1000))), nonlinearity="relu")
        >>> round(float(abs(w.data).max()), 3)                   # b = sqrt(6 / 6) = 1
        1.0
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Any:
    """He normal: N(0, std**2) with std = gain / sqrt(fan) (see `kaiming_uniform_`).

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)
        >>> w = nn.init.kaiming_normal_(nn.Parameter(np.zeros((400, 300))), nonlinearity="relu")
        >>> round(float(w.data.std()) / (2 / 400) ** 0.5, 2)           # measured / formula
        1.0
    """
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
