"""Layers with parameters or modes: `Linear` (alias `Dense`), `Dropout`, `Identity`, `Flatten`,
`Embedding`."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .. import dtypes
from ..ops.index import _padding_idx
from ..tensor import Tensor, as_tensor
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """Fully connected layer ``z = x @ weight + bias`` (the row-vector convention
    ``z^l = a^{l-1} W^l + b^l``).

    Shapes: input ``(..., in_features)``, output ``(..., out_features)``,
    ``weight (in_features, out_features)``, ``bias (out_features,)`` (absent with
    ``bias=False``). `dtype` defaults to ``tg.get_default_dtype()``.

    Initialisation (`reset_parameters`), Kaiming-uniform for ReLU networks: every weight is
    drawn from ``U(-sqrt(6 / in_features), sqrt(6 / in_features))`` (variance
    ``2 / in_features``) with tensorgrad's global generator, and the bias is zero.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)                     # fixes the initial weights
        >>> layer = nn.Linear(3, 2)
        >>> layer.weight.shape, layer.bias.shape      # (in, out): z = x @ W + b
        ((3, 2), (2,))
        >>> x = tg.ones((4, 3))
        >>> layer(x).shape, np.allclose(layer(x).data, x.data @ layer.weight.data)  # bias is 0
        ((4, 2), True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Linear: {name} must be a positive int, got {v!r}")
        d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
        if d.kind != "f":
            raise TypeError(f"Linear: dtype must be floating, got {d}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.zeros((self.in_features, self.out_features), d))
        if bias:
            self.bias = Parameter(np.zeros(self.out_features, d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight (Kaiming uniform, see the class docstring); zero the bias."""
        init.kaiming_uniform_(self.weight, nonlinearity="relu")
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


Dense = Linear


class Dropout(Module):
    """Inverted dropout with probability `p` (see `functional.dropout`): in training mode
    each element is zeroed with probability p and the rest scaled by 1/(1-p); in eval mode
    the input passes through unchanged.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn as nn
        >>> _ = tg.manual_seed(0)                     # fixes the mask
        >>> drop = nn.Dropout(0.5)
        >>> drop(tg.ones(6))                          # survivors scaled by 1 / (1 - p)
        tensor([2., 0., 0., 0., 2., 2.])
        >>> drop.eval()(tg.ones(6))                   # eval mode: no dropout
        tensor([1., 1., 1., 1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()  # inplace (PyTorch): accepted, computed out of place (same values)
        self.p = F._check_p(p)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x)


class Flatten(Module):
    """Merges axes ``start_dim..end_dim`` into one: by default ``(N, *rest)`` becomes
    ``(N, prod(rest))``, keeping the batch axis (PyTorch's ``nn.Flatten(start_dim=1,
    end_dim=-1)``; ``start_axis=``/``end_axis=`` are accepted too)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, *,
                 start_axis: Optional[int] = None, end_axis: Optional[int] = None) -> None:
        super().__init__()
        self.start_dim = start_dim if start_axis is None else start_axis
        self.end_dim = end_dim if end_axis is None else end_axis

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim`; ``layer(idx)`` picks the
    rows named by the integer array `idx` of any shape: output ``idx.shape + (embedding_dim,)``
    (see `functional.embedding`; rows picked several times accumulate their gradients).

    `weight` (num_embeddings, embedding_dim) is drawn from N(0, 1), as in PyTorch. The row
    `padding_idx` (if given; negative counts from the end) starts at zero and gets no
    gradient, so it stays what it is.

    Examples:
        >>> import numpy as np, tensorgrad.nn as nn
        >>> emb = nn.Embedding(10, 4, padding_idx=0)
        >>> emb(np.array([[1, 2, 0]])).shape
        (1, 3, 4)
        >>> emb.weight.data[0]
        array([0., 0., 0., 0.], dtype=float32)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: Optional[int] = None, dtype: Any = None) -> None:
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {v!r}")
        d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = _padding_idx("Embedding", padding_idx, self.num_embeddings)
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim), d))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight from N(0, 1); zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, idx: Any) -> Tensor:
        try:
            return F.embedding(idx, self.weight, self.padding_idx)
        except (TypeError, ValueError, IndexError) as e:  # name the layer, as users see it
            raise type(e)(f"Embedding({self.num_embeddings}, {self.embedding_dim}): "
                          f"{e}") from None

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
