"""`MultiheadAttention`: PyTorch's layer, batch first, built from four `Linear` projections
and scaled dot-product attention (`tensorgrad.ops.attention`)."""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from ..ops.attention import attention, causal_mask
from ..tensor import Tensor, as_tensor
from . import functional as F
from . import init
from .layers import Linear
from .module import Module


class MultiheadAttention(Module):
    """Multi-head attention (PyTorch's ``nn.MultiheadAttention`` with ``batch_first=True``).

    ``forward(query, key, value, attn_mask=None, is_causal=False)`` takes query (N, L, E),
    key (N, S, E) and value (N, S, E) (or (L, E), (S, E), (S, E) unbatched; with
    ``batch_first=False`` the sequence axis comes first) and returns ``(output, weights)``:
    output (N, L, E) and the attention weights averaged over the heads (N, L, S) (per head,
    (N, num_heads, L, S), with ``average_attn_weights=False``; None with
    ``need_weights=False``).

    Each of the `num_heads` heads attends with its own slice of E // num_heads features of
    the projections ``q_proj(query)``, ``k_proj(key)``, ``v_proj(value)`` (each an
    ``nn.Linear(E, E)``, weight (in, out)); the heads' outputs, side by side, go through
    ``out_proj``. Masks follow PyTorch's layer (not its functional attention): a bool
    `attn_mask` of shape (L, S) or (N * num_heads, L, S) marks with True the positions that
    may NOT be attended, a float one is added to the scores; `key_padding_mask` (N, S) marks
    keys to ignore the same way; ``is_causal=True`` also hides the keys after each query.

    Initialisation as PyTorch's: the q, k, v weights from Xavier-uniform on their (3E, E)
    stack, U(-sqrt(6 / 4E), sqrt(6 / 4E)); ``out_proj.weight`` from U(-1/sqrt(E), 1/sqrt(E));
    every bias 0.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> mha = nn.MultiheadAttention(embed_dim=8, num_heads=2)
        >>> x = tg.randn(3, 5, 8)                             # (N, L, E)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = True, dtype: Any = None) -> None:
        super().__init__()
        for what, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"MultiheadAttention: {what} must be a positive int, got {v!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = F._check_p(dropout)
        self.batch_first = bool(batch_first)
        e = self.embed_dim
        self.q_proj = Linear(e, e, bias=bias, dtype=dtype)
        self.k_proj = Linear(e, e, bias=bias, dtype=dtype)
        self.v_proj = Linear(e, e, bias=bias, dtype=dtype)
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation (see the class docstring)."""
        e = self.embed_dim
        bound = math.sqrt(6.0 / (e + 3 * e))
        for lin in (self.q_proj, self.k_proj, self.v_proj):
            init.uniform_(lin.weight, -bound, bound)
        init.uniform_(self.out_proj.weight, -1.0 / math.sqrt(e), 1.0 / math.sqrt(e))
        for lin in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            if lin.bias is not None:
                init.zeros_(lin.bias)

    def forward(self, query: Any, key: Any, value: Any, attn_mask: Any = None,
                is_causal: bool = False, *, key_padding_mask: Any = None,
                need_weights: bool = True, average_attn_weights: bool = True) -> tuple:
        q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
        self._check(q, k, v)
        unbatched = q.ndim == 2
        if unbatched:
            q, k, v = q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0)
        elif not self.batch_first:
            q, k, v = q.swapaxes(0, 1), k.swapaxes(0, 1), v.swapaxes(0, 1)
        n, length, source = q.shape[0], q.shape[1], k.shape[1]
        mask = self._mask(attn_mask, key_padding_mask, is_causal, n, length, source, unbatched)
        h, d = self.num_heads, self.head_dim

        def heads(t: Tensor, steps: int) -> Tensor:  # (N, T, E) -> (N, H, T, D)
            return t.reshape(n, steps, h, d).swapaxes(1, 2)

        drop = (lambda w: F.dropout(w, self.dropout)) if self.dropout and self.training else None
        out, weights = attention(heads(self.q_proj(q), length), heads(self.k_proj(k), source),
                                 heads(self.v_proj(v), source), mask, drop=drop)
        out = self.out_proj(out.swapaxes(1, 2).reshape(n, length, self.embed_dim))
        if need_weights:
            weights = weights.mean(axis=1) if average_attn_weights else weights
            if unbatched:
                weights = weights.squeeze(0)
        else:
            weights = None
        if unbatched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.swapaxes(0, 1)
        return out, weights

    def _check(self, q: Tensor, k: Tensor, v: Tensor) -> None:
        e = self.embed_dim
        form = "(L, E)" if q.ndim == 2 else ("(N, L, E)" if self.batch_first else "(L, N, E)")
        if q.ndim not in (2, 3) or q.shape[-1] != e:
            raise ValueError(f"MultiheadAttention: expected query of shape (N, L, {e}) or "
                             f"(L, {e}), got shape {q.shape}")
        if k.ndim != q.ndim or v.ndim != q.ndim or k.shape != v.shape or k.shape[-1] != e:
            raise ValueError(f"MultiheadAttention: key and value must have one shape like "
                             f"the query's {form} with E = {e}, got key {k.shape} and value "
                             f"{v.shape} for query {q.shape}")
        b = 0 if self.batch_first else 1
        if q.ndim == 3 and q.shape[b] != k.shape[b]:
            raise ValueError(f"MultiheadAttention: query {q.shape} and key {k.shape} have "
                             f"different batch sizes (layout {form})")

    def _mask(self, attn_mask: Any, key_padding_mask: Any, is_causal: bool, n: int,
              length: int, source: int, unbatched: bool) -> Optional[np.ndarray]:
        """One mask for the (N, H, L, S) scores: bool (True: takes part) when every given
        mask is bool, else float (added; -inf where a bool mask hides)."""
        h = self.num_heads
        masks = []
        if attn_mask is not None:
            m = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
            if m.shape == (length, source):
                masks.append(m)
            elif m.shape == (n * h, length, source) and not unbatched:
                masks.append(m.reshape(n, h, length, source))
            elif unbatched and m.shape == (h, length, source):
                masks.append(m[None])
            else:
                raise ValueError(f"MultiheadAttention: attn_mask must have shape (L, S) = "
                                 f"{(length, source)} or (N * num_heads, L, S) = "
                                 f"{(n * h, length, source)}, got {m.shape}")
        if key_padding_mask is not None:
            m = np.asarray(key_padding_mask.data if isinstance(key_padding_mask, Tensor)
                           else key_padding_mask)
            if m.shape != ((source,) if unbatched else (n, source)):
                raise ValueError(f"MultiheadAttention: key_padding_mask must have shape "
                                 f"(N, S) = {(n, source)}, got {m.shape}")
            masks.append(m.reshape(-1, 1, 1, source))
        if is_causal:
            masks.append(~causal_mask(length, source))
        for m in masks:
            if m.dtype != np.bool_ and m.dtype.kind != "f":
                raise TypeError(f"MultiheadAttention: masks must be bool or float, got {m.dtype}")
        if not masks:
            return None
        if all(m.dtype == np.bool_ for m in masks):
            hidden = np.zeros((1, 1, length, source), dtype=bool)
            for m in masks:
                hidden = hidden | m
            return ~hidden
        total = np.zeros((1, 1, length, source))
        for m in masks:
            total = total + (np.where(m, -np.inf, 0.0) if m.dtype == np.bool_ else m)
        return total

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"

