"""Tools for testing your own ops and layers the way tensorgrad tests its own.

- `strategies`: hypothesis strategies (arrays, broadcastable shapes, axes, indices, tensors).
- `check_module(module, *inputs)`: gradcheck of a layer's output with respect to its inputs
  and every parameter, on a float64 copy of the layer.

Importing this package imports hypothesis (a dev dependency); ``import tensorgrad`` does not.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from ..tensor import Tensor
from . import strategies

__all__ = ["strategies", "check_module", "check_layer", "gradcheck", "gradgradcheck",
           "GradcheckError"]


def check_module(module: Any, *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
                 rtol: float = 1e-3, check_inputs: bool = True) -> bool:
    """Check a module's gradients against central finite differences.

    The module is deep-copied and the copy's parameters and the inputs are upcast to float64
    (finite differences are meaningless in float32), the copy is put in eval mode (so dropout
    does not redraw its mask between evaluations), then the output's gradients with respect to
    every float input (unless ``check_inputs=False``) and every parameter are compared
    element by element. Returns True or raises `GradcheckError` naming the parameter, the
    index and both values. The original module is untouched.

    Examples:
        >>> import numpy as np, tensorgrad.nn as nn
        >>> from tensorgrad.testing import check_module
        >>> layer = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Dropout(0.5))   # float32
        >>> check_module(layer, np.ones((2, 3)))      # input, 0.weight and 0.bias in float64
        True
        >>> layer[0].weight.dtype, layer.training     # the original is untouched
        (dtype('float32'), True)
    """
    m = copy.deepcopy(module)
    named = list(m.named_parameters()) if hasattr(m, "named_parameters") else []
    for _, p in named:
        p.data = np.asarray(p.data, dtype=np.float64)
        p.grad = None
    if hasattr(m, "eval"):
        m.eval()
    xs = []
    for x in inputs:
        a = x.data if isinstance(x, Tensor) else np.asarray(x)
        if a.dtype.kind == "f":
            xs.append(Tensor(a.astype(np.float64), requires_grad=check_inputs))
        else:
            xs.append(Tensor(a))
    checked = [x for x in xs if x.requires_grad] + [p for _, p in named]
    names = [f"input {i}" for i, x in enumerate(xs) if x.requires_grad] + [n for n, _ in named]
    if not checked:
        raise ValueError("check_module: nothing to check (no float inputs and no parameters)")
    return gradcheck(lambda *_: m(*xs), checked, eps=eps, atol=atol, rtol=rtol, names=names)


check_layer = check_module
