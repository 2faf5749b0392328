"""Stateless layer functions and losses: ``import tensorgrad.nn.functional as F``.

Activations, `linear`, `cross_entropy` and `binary_cross_entropy_with_logits` are the ops of
`tensorgrad.ops` (fused where that pays). The other losses are composed from ops, so their
gradients come from the op rules; each is registered with an `Op` without rules, for the
gradient property tests.

Losses take ``reduction='mean' | 'sum' | 'none'`` with PyTorch's meaning: 'none' keeps one
loss per element (per sample for cross-entropy and nll), 'sum' adds them up and 'mean'
averages them, over all elements for the elementwise losses (mse, l1, huber, bce).
A target that is not a Tensor is a constant in the input's dtype.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..autograd.op import Op, register
from ..ops import clip, gelu, leaky_relu, linear, log, log_softmax, relu, sigmoid, softmax, tanh
from ..ops import where as _where
from ..ops.attention import scaled_dot_product_attention as _sdpa
from ..ops.conv import conv1d, conv2d
from ..ops.index import embedding, one_hot
from ..ops.loss import (
    REDUCTIONS,
    _check_reduction,
    _class_weights,
    binary_cross_entropy_with_logits,
    class_nll,
    cross_entropy,
    target_array,
)
from ..ops.norm import batch_norm, layer_norm
from ..ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from ..random import get_rng
from ..spellings import spellings
from ..tensor import Tensor, _const, as_tensor

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "gelu", "linear",
    "dropout", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "nll_loss",
    "embedding", "one_hot", "batch_norm", "layer_norm", "scaled_dot_product_attention",
    # convolution and pooling (tensorgrad.ops.conv, tensorgrad.ops.pool)
    "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
]


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: in training, zero each element with probability `p` and scale the
    survivors by 1/(1-p), so the expected output equals `x`; otherwise return `x` itself.

    The mask comes from tensorgrad's global generator (``tg.manual_seed`` fixes it). Any
    shape and float dtype; the gradient is the same mask times the same scale.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn.functional as F
        >>> _ = tg.manual_seed(0)
        >>> F.dropout(tg.ones(6), p=0.5)                  # kept elements become 1 / (1 - p)
        tensor([2., 0., 0., 0., 2., 2.])
        >>> x = tg.ones(3)
        >>> F.dropout(x, p=0.5, training=False) is x      # evaluation: the input itself
        True
    """
    p = _check_p(p)
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = get_rng().random(x.shape) >= p
    return x * _const((keep * (1.0 / (1.0 - p))).astype(x.dtype))


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 is_causal: bool = False, *, dropout_p: float = 0.0,
                                 scale: Optional[float] = None) -> Tensor:
    """``softmax(Q K^T / sqrt(E) + mask) V`` on (..., L, E) inputs, as PyTorch's (see
    `tensorgrad.ops.attention.scaled_dot_product_attention`): a bool `attn_mask` marks with
    True the positions that take part, a float one is added to the scores; ``is_causal``
    lets query i see keys 0..i; `dropout_p` drops attention weights (always: pass 0.0 in
    evaluation, as in PyTorch).

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn.functional as F
        >>> q = tg.ones((2, 4, 8))                             # (N, L, E)
        >>> F.scaled_dot_product_attention(q, q, tg.ones((2, 4, 3))).shape
        (2, 4, 3)
    """
    p = _check_p(dropout_p)
    return _sdpa(query, key, value, attn_mask, is_causal, scale=scale,
                 drop=(lambda w: dropout(w, p)) if p else None)


def _check_p(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"dropout: p must be a number in [0, 1], got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    return float(p)


# ------------------------------------------------------------------------- helpers
def _reduce(name: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _pair(name: str, input: Any, target: Any) -> tuple:
    """The input as a float Tensor and the target as a Tensor of the same shape."""
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got {x.dtype}")
    y = target if isinstance(target, Tensor) else _const(target_array(name, target, x.dtype))
    if y.shape != x.shape:
        # PyTorch broadcasts here with a warning; (N, 1) against (N,) silently making an
        # (N, N) loss is a classic bug, so we refuse.
        raise ValueError(f"{name}: input of shape {x.shape} and target of shape {y.shape} "
                         "differ; reshape one of them")
    return x, y


def _pair_domain(avoid: tuple = (), low_y: float = -3.0, high_y: float = 3.0) -> Any:
    # input = target + offset with the offset kept `avoid` away from kinks (|d| = 0, beta).
    def domain(draw: Any, s: Any) -> Any:
        shape = draw(s.shapes())
        y = draw(s.arrays(shape, low=low_y, high=high_y))
        d = draw(s.arrays(shape, low=-2.0, high=2.0, avoid=avoid))
        return [y + d, y], {"reduction": draw(s.sampled_from(REDUCTIONS))}

    return domain


# ------------------------------------------------------------------------- regression losses
@register(Op("mse_loss", domain=_pair_domain()))
@spellings
def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error (x - y)**2 per element, reduced. Same shapes required (any shape).

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn.functional as F
        >>> x = tg.tensor([1.0, 2.0, 4.0])
        >>> F.mse_loss(x, [1.0, 0.0, 0.0], reduction="none")
        tensor([ 0.,  4., 16.])
        >>> F.mse_loss(x, [1.0, 0.0, 0.0], reduction="sum").item()
        20.0
    """
    _check_reduction("mse_loss", reduction)
    x, y = _pair("mse_loss", input, target)
    d = x - y
    return _reduce("mse_loss", d * d, reduction)


@register(Op("l1_loss", domain=_pair_domain(avoid=(0.0,))))
@spellings
def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Absolute error |x - y| per element, reduced. Gradient at x == y: 0.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn.functional as F
        >>> x = tg.tensor([1.0, 2.0, -4.0], requires_grad=True)
        >>> F.l1_loss(x, [1.0, 0.0, 0.0]).backward()          # loss (0 + 2 + 4) / 3
        >>> x.grad.round(4)                                   # sign(x - y) / 3
        array([ 0.    ,  0.3333, -0.3333], dtype=float32)
    """
    _check_reduction("l1_loss", reduction)
    x, y = _pair("l1_loss", input, target)
    return _reduce("l1_loss", (x - y).abs(), reduction)


def _piecewise(name: str, input: Any, target: Any, reduction: str, t: float, scale: float
               ) -> Tensor:
    # 0.5 d**2 * scale/t where |d| < t, else scale * (|d| - t/2): quadratic inside, linear
    # outside, matching values and slopes at |d| = t.
    _check_reduction(name, reduction)
    x, y = _pair(name, input, target)
    if t < 0:
        raise ValueError(f"{name}: the threshold must be >= 0, got {t}")
    d = x - y
    ad = d.abs()
    if t == 0:
        return _reduce(name, ad * scale, reduction)
    inside = ad.data < t
    loss = _where(inside, d * d * (0.5 * scale / t), (ad - 0.5 * t) * scale)
    return _reduce(name, loss, reduction)


@register(Op("smooth_l1_loss", domain=_pair_domain(avoid=(-1.0, 0.0, 1.0))))
@spellings
def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0
                   ) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, else |d| - beta/2 (d = x - y), reduced; beta = 0 is
    `l1_loss`.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn.functional as F
        >>> F.smooth_l1_loss(tg.tensor([0.5, 3.0]), [0.0, 0.0], reduction="none", beta=2.0)
        tensor([0.0625, 2.    ])
    """
    return _piecewise("smooth_l1_loss", input, target, reduction, float(beta), 1.0)


@register(Op("huber_loss", domain=_pair_domain(avoid=(-1.0, 0.0, 1.0))))
@spellings
def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta (|d| - delta/2) (d = x - y), reduced.

    Examples:
        It is `smooth_l1_loss` with beta = delta, times delta:

        >>> import tensorgrad as tg, tensorgrad.nn.functional as F
        >>> F.huber_loss(tg.tensor([0.5, 3.0]), [0.0, 0.0], reduction="none", delta=2.0)
        tensor([0.125, 4.   ])
    """
    return _piecewise("huber_loss", input, target, reduction, float(delta), float(delta))


# ------------------------------------------------------------------------- classification losses
def _clamped_log(p: Tensor) -> Tensor:
    # log(p) clamped to >= -100, as PyTorch's binary_cross_entropy does, with no log(0) ever
    # evaluated (no warning, no inf * 0 = nan in the backward pass): where p == 0 the log
    # sees 1 instead and the outer where discards it and its gradient.
    pos = p.data > 0
    return clip(_where(pos, log(_where(pos, p, 1.0)), -100.0), -100.0, None)


def _bce_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    p = draw(s.arrays(shape, low=0.05, high=0.95))
    y = draw(s.arrays(shape, low=0.0, high=1.0))
    return [p, y], {"reduction": draw(s.sampled_from(REDUCTIONS))}


@register(Op("binary_cross_entropy", domain=_bce_domain))
@spellings
def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1] and targets y, per
    element, reduced; each log is clamped to >= -100 (as in PyTorch), so p = 0 or 1 gives a
    finite loss. From logits, `binary_cross_entropy_with_logits` is stabler and cheaper.

    Examples:
        >>> import tensorgrad as tg, tensorgrad.nn.functional as F
        >>> p = tg.tensor([0.5, 0.9, 0.0])                 # losses log 2, -log 0.1, -log 0 -> 100
        >>> F.binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="none").numpy().round(4)
        array([  0.6931,   2.3026, 100.    ], dtype=float32)
    """
    _check_reduction("binary_cross_entropy", reduction)
    p, y = _pair("binary_cross_entropy", input, target)
    if p.size and not (np.all(p.data >= 0) and np.all(p.data <= 1)):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1]; "
                         f"got values in [{p.data.min()}, {p.data.max()}] (logits? use "
                         "binary_cross_entropy_with_logits)")
    loss = -(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p))
    return _reduce("binary_cross_entropy", loss, reduction)


def _nll_domain(draw: Any, s: Any) -> Any:
    n, c = draw(s.integers(1, 4)), draw(s.integers(1, 4))
    reduction = draw(s.sampled_from(REDUCTIONS))
    if draw(s.booleans()):
        return [draw(s.arrays((c,)))], {"target": draw(s.integers(0, c - 1)),
                                        "reduction": reduction}
    return [draw(s.arrays((n, c)))], {"target": draw(s.int_arrays((n,), 0, c - 1)),
                                      "reduction": reduction}


@register(Op("nll_loss", domain=_nll_domain))
@spellings
def nll_loss(input: Any, target: Any, reduction: str = "mean", *, weight: Any = None,
             ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood: -input[i, target[i]] per sample, reduced ('mean' over the
    N samples). `input` holds log-probabilities (N, C) (e.g. from `log_softmax`), or (C,)
    with a scalar target; `target` holds integer classes (N,). As PyTorch: `weight` (C,)
    scales each class ('mean' divides by the summed weights of the targets) and samples of
    class `ignore_index` count for nothing.

    Examples:
        >>> import numpy as np, tensorgrad as tg, tensorgrad.nn.functional as F
        >>> logp = F.log_softmax(tg.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]))
        >>> F.nll_loss(logp, np.array([0, 2]), reduction="none").numpy().round(4)  # -logp[i, t_i]
        array([0.1698, 1.0986], dtype=float32)
        >>> round(F.nll_loss(logp, np.array([0, 2])).item(), 4)     # = F.cross_entropy(logits, y)
        0.6342
    """
    x = as_tensor(input)
    if x.ndim not in (1, 2):
        raise ValueError(f"nll_loss: input must be (N, C) or (C,), got shape {x.shape}")
    t = target_array("nll_loss", target)
    w = _class_weights("nll_loss", weight, x.shape, x.dtype)
    return class_nll("nll_loss", x, t, w, ignore_index, 0.0, reduction)
