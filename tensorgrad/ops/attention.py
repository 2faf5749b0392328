"""Scaled dot-product attention, composed of ops whose rules give its backward pass:

    S = Q K^T * scale (+ mask),   P = softmax(S) (row-wise, stable),   O = P V

so that dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dP * P)) (the softmax rule) and
dQ = dS K * scale, dK = dS^T Q * scale: the equations derived in docs/layers-derivations.md.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from ..autograd.op import Op, register
from ..tensor import Tensor, _const, as_tensor
from ._util import data
from .index import masked_fill
from .linalg import matmul
from .reduce import softmax

__all__: list = []  # reached through tensorgrad.nn.functional


def _check(name: str, q: Tensor, k: Tensor, v: Tensor) -> None:
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"{name}: query, key and value must be (..., L, E), (..., S, E) and "
                         f"(..., S, Ev); got shapes {q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: query (..., L, E), key (..., S, E) and value (..., S, Ev) "
                         f"must agree in E and S; got shapes {q.shape}, {k.shape}, {v.shape}")
    if q.dtype.kind != "f" or k.dtype.kind != "f" or v.dtype.kind != "f":
        raise TypeError(f"{name}: query, key and value must be floating point, got "
                        f"{q.dtype}, {k.dtype}, {v.dtype}")


Drop = Optional[Callable[[Tensor], Tensor]]


def attention(q: Tensor, k: Tensor, v: Tensor, mask: Any = None, scale: Optional[float] = None,
              drop: Drop = None) -> tuple:
    """``(output, weights)`` of softmax attention. `mask` is None, a bool array (True: takes
    part) or a float array added to the scores, already checked to broadcast to the scores;
    `drop` (dropout, say) is applied to the weights before they meet V."""
    e = q.shape[-1]
    scores = matmul(q, k.swapaxes(-1, -2)) * (1.0 / math.sqrt(e) if scale is None else scale)
    if mask is not None:
        if mask.dtype == np.bool_:
            scores = masked_fill(scores, ~mask, -np.inf)
        else:
            scores = scores + _const(mask.astype(scores.dtype))
    # A row in which no position takes part (all -inf) gives zeros, as PyTorch's does,
    # rather than the 0/0 of its softmax.
    empty = np.isneginf(scores.data.max(axis=-1, keepdims=True)) if mask is not None else None
    if empty is not None and empty.any():
        p = masked_fill(softmax(masked_fill(scores, empty, 0.0), -1), empty, 0.0)
    else:
        p = softmax(scores, -1)
    return matmul(drop(p) if drop is not None else p, v), p


def check_mask(name: str, mask: Any, scores_shape: tuple) -> Optional[np.ndarray]:
    """`mask` as a bool or float array that broadcasts to `scores_shape`, or None."""
    if mask is None:
        return None
    m = np.array(data(mask))  # a copy, kept for backward: the caller may reuse theirs
    if m.dtype != np.bool_ and m.dtype.kind != "f":
        raise TypeError(f"{name}: attn_mask must be boolean (True: takes part) or floating "
                        f"(added to the scores), got dtype {m.dtype}")
    try:
        ok = np.broadcast_shapes(m.shape, scores_shape) == scores_shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: attn_mask of shape {m.shape} does not broadcast to the "
                         f"attention scores' shape (..., L, S) = {scores_shape}")
    return m


def causal_mask(length: int, source: int) -> np.ndarray:
    """(L, S) bool: position i takes part in the attention of query j when i <= j."""
    return np.tril(np.ones((length, source), dtype=bool))


def _sdpa_domain(draw: Any, s: Any) -> Any:
    b, lq, lk = draw(s.integers(1, 2)), draw(s.integers(1, 3)), draw(s.integers(1, 3))
    e, ev = draw(s.integers(1, 3)), draw(s.integers(1, 2))
    q, k, v = (draw(s.arrays(sh)) for sh in ((b, lq, e), (b, lk, e), (b, lk, ev)))
    kind = draw(s.sampled_from(["none", "bool", "float", "causal"]))
    mask: Any = None
    if kind == "bool":  # every row keeps at least its first position: no empty softmax
        mask = draw(s.bool_arrays((lq, lk)))
        mask[:, 0] = True
    elif kind == "float":
        mask = draw(s.arrays((b, lq, lk)))
    return [q, k, v], {"attn_mask": mask, "is_causal": kind == "causal"}


@register(Op("scaled_dot_product_attention", domain=_sdpa_domain))
def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 is_causal: bool = False, *, scale: Optional[float] = None,
                                 drop: Drop = None) -> Tensor:
    """``softmax(Q K^T / sqrt(E) + mask) V`` over the last two axes, PyTorch's semantics.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev), the
    leading axes broadcasting. `attn_mask` broadcasts to (..., L, S): a bool mask marks with
    True the positions that take part (the others get -inf before the softmax), a float mask
    is added to the scores. ``is_causal=True``: query i sees keys 0..i (no `attn_mask` then).
    `scale` replaces 1/sqrt(E); `drop` is applied to the attention weights (nn.functional's
    version takes PyTorch's ``dropout_p`` instead).
    The softmax subtracts each row's max, so large scores do not overflow; a row with no
    position taking part gives zeros, as in PyTorch.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn.functional as F
        >>> q = k = v = tg.tensor(np.eye(3)[None])                # (1, L=3, E=3)
        >>> out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        >>> out.numpy().round(3)[0, 1]                      # query 1 sees keys 0 and 1 only
        array([0.36, 0.64, 0.  ])
    """
    name = "scaled_dot_product_attention"
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    _check(name, q, k, v)
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: the leading (batch) axes of query, key and value do not "
                         f"broadcast: shapes {q.shape}, {k.shape}, {v.shape}") from None
    scores_shape = batch + (q.shape[-2], k.shape[-2])
    mask = check_mask(name, attn_mask, scores_shape)
    if is_causal:
        if mask is not None:
            raise ValueError(f"{name}: give attn_mask or is_causal=True, not both")
        mask = causal_mask(q.shape[-2], k.shape[-2])
    return attention(q, k, v, mask, scale, drop)[0]
