"""Training utilities: gradient clipping by total norm or by value, as PyTorch's
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``. Both act on ``p.grad`` (an
ndarray) of every parameter that has one, replacing it with the clipped array."""
from __future__ import annotations

from typing import Iterable, Union

import numpy as np

from ..tensor import Tensor, _const

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

Params = Union[Tensor, Iterable[Tensor]]


def _with_grads(name: str, parameters: Params) -> list:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected tensors (e.g. model.parameters()), got "
                            f"{type(p).__name__}")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients so that their total norm is at most `max_norm`; returns the total
    norm before clipping (a 0-d tensor).

    The total norm is the `norm_type`-norm of all gradients taken as one vector (``inf``: the
    largest absolute entry). With PyTorch's formula, every gradient is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> w = nn.Parameter(np.zeros(2)); w.grad = np.array([3.0, 4.0])
        >>> nn.utils.clip_grad_norm_([w], max_norm=1.0).item()     # the norm before clipping
        5.0
        >>> w.grad.round(6)                                        # now of norm 1
        array([0.6, 0.8])
    """
    params = _with_grads("clip_grad_norm_", parameters)
    norm_type = float(norm_type)
    if not params:
        return _const(np.asarray(0.0, dtype=np.float32))
    grads = [p.grad for p in params]
    # The norm of the per-tensor norms, in the gradients' dtype: PyTorch's order of operations.
    if norm_type == np.inf:
        norms = np.array([np.abs(g).max() if g.size else 0.0 for g in grads])
        total = norms.max()
    else:
        norms = np.array([np.linalg.norm(g.ravel(), norm_type) for g in grads])
        total = np.linalg.norm(norms, norm_type)
    total = np.asarray(total, dtype=np.result_type(*grads))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {float(total)}; pass error_if_nonfinite=False to "
                           "clip anyway")
    dt = total.dtype.type
    coef = min(dt(max_norm) / (total + dt(1e-6)), dt(1.0))  # in the gradients' dtype
    if coef < 1.0:
        for p in params:
            p.grad = p.grad * coef.astype(p.grad.dtype)
    return _const(total)


def clip_grad_value_(parameters: Params, clip_value: float) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]``.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> w = nn.Parameter(np.zeros(3)); w.grad = np.array([-5.0, 0.5, 2.0])
        >>> nn.utils.clip_grad_value_([w], 1.0)
        >>> w.grad
        array([-1. ,  0.5,  1. ])
    """
    v = float(clip_value)
    if v < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _with_grads("clip_grad_value_", parameters):
        p.grad = np.clip(p.grad, -v, v).astype(p.grad.dtype, copy=False)
