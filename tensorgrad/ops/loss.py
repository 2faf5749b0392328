"""Fused losses whose backward is the textbook one: cross-entropy from logits
(softmax(z) - y) and binary cross-entropy from logits (sigmoid(z) - y), both stable for
logits of any magnitude. Shapes: logits (N, C) or (C,); reduction 'mean' | 'sum' | 'none'."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.op import Op, record, register
from ..spellings import spellings
from ..tensor import Tensor, _const, as_tensor
from ._util import IndexOutOfRange, data, describe, label, sum_axis
from .elementwise import _sigmoid, sigmoid
from .reduce import _logsumexp, log_softmax, softmax

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["binary_cross_entropy_with_logits", "cross_entropy"]

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def target_array(name: str, target: Any, dtype: Any = None) -> np.ndarray:
    """Loss `name`'s target as an array of numbers (optionally cast to `dtype`); strings and
    other non-numbers are a TypeError naming the loss, before anything is recorded."""
    if isinstance(target, Tensor):
        return target.data if dtype is None else target.data.astype(dtype, copy=False)
    return dtypes.to_array(target, dtype, copy=False, name=name, what="target")


def _scale(g: Any, reduction: str, n: int, per_row: bool) -> Any:
    """dL/d(loss_i) for each sample: g/N for 'mean', g for 'sum', g_i for 'none'."""
    if reduction == "mean":
        return label(g * (1.0 / max(n, 1)), "inv_n")
    if reduction == "none" and per_row:
        return g[..., None]
    return g


def check_class_targets(name: str, t: np.ndarray, shape: tuple) -> None:
    """Integer targets `t` must have shape (N,) for scores (N, C) and lie in [0, C)."""
    if t.shape != shape[:-1]:
        raise ValueError(f"{name}: class targets of shape {t.shape} do not match input of "
                         f"shape {shape} (expected {shape[:-1]})")
    c = shape[-1]
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexOutOfRange(f"{name}: target class out of range [0, {c}): got values in "
                              f"[{t.min()}, {t.max()}] (targets {describe(t)})")


def _plain_classes(t: np.ndarray, shape: tuple, ignore_index: int) -> bool:
    """True when integer targets `t` fit scores of `shape` (N, C), every one a class in
    [0, C) and none `ignore_index`. Seen as unsigned, a negative target is huge, so one
    comparison and a count check both ends: min, max and any are numpy reductions of a few
    microseconds each, a large part of a small model's step."""
    if t.dtype.kind not in "iu" or t.shape != shape[:-1]:
        return False
    c = shape[-1]
    u = t if t.dtype.kind == "u" else t.view(np.dtype(f"u{t.itemsize}"))
    if np.count_nonzero(u >= c):
        return False
    return not 0 <= ignore_index < c or not np.count_nonzero(t == ignore_index)


def _softmax(z: Any) -> Any:
    if isinstance(z, Tensor):
        return softmax(z, -1)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _ce_logits(g: Any, ans: Any, z: Any, *y: Any, target: Any, reduction: str,
               saved: Any = None) -> Any:
    n = z.shape[0] if z.ndim == 2 else 1
    if saved is not None and not isinstance(z, Tensor):
        e, s, flat = saved  # exp(z - max), its row sums, the targets' flat positions
        p = e / s
        if z.ndim == 2:  # p[rows, target] -= 1, with take/put: a third of fancy indexing's cost
            pf = p.reshape(-1)
            pf.put(flat, pf.take(flat) - 1)
        else:
            p[target] -= 1
        p *= _scale(g, reduction, n, True)
        return p
    p = _softmax(z)
    if target is None:  # probability targets y: d/dz of -sum(y log p) = p sum(y) - y
        yy = y[0]
        diff = p * yy.sum(axis=-1, keepdims=True) - yy
    else:
        onehot = np.zeros(z.shape, dtype=data(z).dtype)
        if z.ndim == 2:
            onehot[np.arange(n), target] = 1
        else:
            onehot[target] = 1
        diff = p - onehot
    return diff * _scale(g, reduction, n, True)


def _ce_target(g: Any, ans: Any, z: Any, y: Any, target: Any, reduction: str,
               saved: Any = None) -> Any:
    n = z.shape[0] if z.ndim == 2 else 1
    logp = z - _lse_any(z)
    return -logp * _scale(g, reduction, n, True)


def _lse_any(z: Any) -> Any:
    if isinstance(z, Tensor):
        from .reduce import logsumexp

        return logsumexp(z, -1, True)
    return _logsumexp(z, (z.ndim - 1,), True)


def _ce_domain(draw: Any, s: Any) -> Any:
    n, c = draw(s.integers(1, 4)), draw(s.integers(1, 4))
    z = draw(s.arrays((n, c)))
    reduction = draw(s.sampled_from(REDUCTIONS))
    if draw(s.booleans()):
        return [z], {"target": draw(s.int_arrays((n,), 0, c - 1)), "reduction": reduction}
    y = draw(s.arrays((n, c), low=0.0, high=1.0))
    return [z, y], {"target": None, "reduction": reduction}


CROSS_ENTROPY = Op("cross_entropy", _ce_logits, _ce_target, domain=_ce_domain)


def _ce_call(z: Any, *y: Any, target: Any, reduction: str) -> Tensor:
    return cross_entropy(z, target if target is not None else y[0], reduction)


@register(CROSS_ENTROPY, call=_ce_call)
@spellings
def cross_entropy(logits: Any, target: Any, reduction: str = "mean", *, weight: Any = None,
                  ignore_index: int = -100, label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from logits (N, C) (or (C,)), fused and stable.

    `target`: integer class indices (N,) (or a scalar for (C,) logits), or probabilities
    (N, C). loss_i = logsumexp(z_i) - z_i[t_i] (or -sum_c y_ic log softmax(z_i)_c).
    Gradient w.r.t. the logits: (softmax(z) - y) / N for 'mean'.

    As PyTorch: `weight` (C,) scales each class's loss ('mean' then divides by the summed
    weights of the targets), samples whose class is `ignore_index` count for nothing, and
    `label_smoothing` eps mixes the target with the uniform distribution,
    (1 - eps) * loss + eps / C * sum_c -w_c log p_c.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> z = tg.tensor(np.array([[2.0, 0.0], [0.0, 1e4]]), requires_grad=True)
        >>> loss = tg.ops.cross_entropy(z, np.array([0, 0]))
        >>> round(loss.item(), 4)           # stable: a logit of 1e4 does not overflow
        5000.0635
        >>> loss.backward()
        >>> z.grad.round(4)                 # (softmax(z) - onehot(y)) / N
        array([[-0.0596,  0.0596],
               [-0.5   ,  0.5   ]])
    """
    _check_reduction("cross_entropy", reduction)
    z = as_tensor(logits)
    if z.data.ndim not in (1, 2):
        raise ValueError(f"cross_entropy: logits must be (N, C) or (C,), got shape {z.shape}")
    if z.data.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got {z.dtype}")
    t = target_array("cross_entropy", target)
    _check_target_dtype(t, z.shape)
    w = _class_weights("cross_entropy", weight, z.shape, z.dtype)
    eps = _smoothing(label_smoothing)
    plain = w is None and not eps and _plain_classes(t, z.data.shape, ignore_index)
    if not plain and t.dtype.kind in "iu":
        if w is not None or eps or np.any(t == ignore_index):
            return class_nll("cross_entropy", log_softmax(z, -1), t, w, ignore_index, eps,
                             reduction)
        check_class_targets("cross_entropy", t, z.data.shape)  # raises: shape or range
    a = z.data
    # log softmax = shifted - log(s), with shifted = z - max(z) <= 0, so exp never overflows
    shifted = label(a - a.max(axis=-1, keepdims=True), "shifted")
    e = np.exp(shifted)
    s = label(sum_axis(e, 1) if e.ndim == 2 else e.sum(axis=-1, keepdims=True), "sumexp")
    if t.dtype.kind in "iu":
        if a.ndim == 2:  # shifted[rows, t] is shifted.flat[flat]
            flat = label(np.arange(a.shape[0]) * a.shape[1] + t, "flat")
            loss = np.log(s[:, 0]) - shifted.take(flat)
        else:
            flat = t
            loss = np.log(s[0]) - shifted[t]
        return record(CROSS_ENTROPY, _reduce(loss, reduction), (z,),
                      {"target": t, "reduction": reduction, "saved": (e, s, flat)})
    y = target if isinstance(target, Tensor) else _const(t.astype(a.dtype))
    if y.shape != z.shape:
        raise ValueError(f"cross_entropy: probability targets of shape {y.shape} do not "
                         f"match logits of shape {z.shape}")
    if w is not None or eps:
        c = z.shape[-1]
        yy = y * (1.0 - eps) + eps / c if eps else y
        per = -(log_softmax(z, -1) * (yy if w is None else yy * _const(w))).sum(axis=-1)
        return per.sum() * (1.0 / max(per.size, 1)) if reduction == "mean" else \
            per.sum() if reduction == "sum" else per
    logp = shifted - np.log(s)
    out = _reduce(-(y.data * logp).sum(axis=-1), reduction)
    return record(CROSS_ENTROPY, out, (z, y), {"target": None, "reduction": reduction})


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":  # sum / n: ndarray.mean goes through a slow Python wrapper
        return label(np.asarray(loss.sum() / max(loss.size, 1), dtype=loss.dtype), "loss")
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    return loss


def _bce_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes())
    z = draw(s.arrays(shape))
    y = draw(s.arrays(shape, low=0.0, high=1.0))
    return [z, y], {"reduction": draw(s.sampled_from(REDUCTIONS))}


def _sig_any(z: Any) -> Any:
    return sigmoid(z) if isinstance(z, Tensor) else _sigmoid(z)


BCE_LOGITS = Op(
    "binary_cross_entropy_with_logits",
    lambda g, ans, z, y, reduction: (_sig_any(z) - y) * _scale(g, reduction, z.size, False),
    lambda g, ans, z, y, reduction: -z * _scale(g, reduction, z.size, False),
    domain=_bce_domain,
)


@register(BCE_LOGITS)
@spellings
def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(z) against y in [0, 1], computed from z as
    max(z, 0) - z*y + log(1 + exp(-|z|)) so no logit overflows. Any shape; 'mean' averages
    over all elements. Gradient w.r.t. z: (sigmoid(z) - y) / size for 'mean'."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    z = as_tensor(logits)
    y = target if isinstance(target, Tensor) else _const(
        target_array("binary_cross_entropy_with_logits", target, z.data.dtype))
    if y.shape != z.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target of shape {y.shape} does "
                         f"not match logits of shape {z.shape}")
    a = z.data
    loss = np.maximum(a, 0) - a * y.data + np.log1p(np.exp(-np.abs(a)))
    return record(BCE_LOGITS, _reduce(loss, reduction), (z, y), {"reduction": reduction})


# ------------------------------------------------------------------------- PyTorch's options
def _check_target_dtype(t: np.ndarray, shape: tuple) -> None:
    if t.dtype.kind == "b":
        raise TypeError(f"cross_entropy: targets of dtype bool (shape {t.shape}): cast class "
                        "labels to int64 (y.astype(np.int64) or y.long()), or probabilities "
                        f"of shape {shape} to float")
    if t.dtype.kind == "f" and t.shape != shape and t.shape == shape[:-1]:
        raise TypeError(f"cross_entropy: targets of shape {t.shape} and dtype {t.dtype} look "
                        "like class labels, which must be integers: cast them to int64 "
                        f"(y.astype(np.int64) or y.long()); float targets are probabilities "
                        f"of the logits' shape {shape}")


def _class_weights(name: str, weight: Any, shape: tuple, dtype: np.dtype) -> Any:
    if weight is None:
        return None
    w = np.array(data(weight), dtype=dtype)  # a copy, kept for backward
    if w.shape != shape[-1:]:
        raise ValueError(f"{name}: weight of shape {w.shape} does not match the {shape[-1]} "
                         f"classes of input of shape {shape} (expected ({shape[-1]},))")
    return w


def _smoothing(eps: Any) -> float:
    if not 0.0 <= float(eps) <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {eps}")
    return float(eps)


def class_nll(name: str, logp: Tensor, t: np.ndarray, weight: Any = None,
              ignore_index: int = -100, eps: float = 0.0, reduction: str = "mean") -> Tensor:
    """PyTorch's nll_loss of log-probabilities (N, C) (or (C,) with a scalar class) with
    class weights, ignore_index and label smoothing, composed of differentiable ops.

    loss_i = -w[t_i] logp[i, t_i] (0 where t_i == ignore_index), mixed with eps / C *
    sum_c -w_c logp[i, c] when smoothing; 'mean' divides the sum by sum_i w[t_i] over the
    samples not ignored (nan when all are ignored, as in PyTorch)."""
    _check_reduction(name, reduction)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer classes, got {t.dtype} (shape "
                        f"{t.shape}); cast it with y.astype(np.int64) or y.long()")
    one = logp.ndim == 1
    lp = logp.reshape(1, -1) if one else logp
    tt = t.reshape(1) if one else t
    keep = tt != ignore_index
    check_class_targets(name, tt[keep], (int(keep.sum()), lp.shape[-1]))
    if tt.shape != lp.shape[:-1]:
        raise ValueError(f"{name}: class targets of shape {t.shape} do not match input of "
                         f"shape {logp.shape} (expected {logp.shape[:-1]})")
    safe = np.where(keep, tt, 0)
    w = np.ones(lp.shape[-1], dtype=lp.dtype) if weight is None else weight
    wt = (w[safe] * keep).astype(lp.dtype)
    loss = -lp[np.arange(tt.shape[0]), safe] * _const(wt)
    if eps:
        smooth = -(lp * _const(w)).sum(axis=-1) * _const(keep.astype(lp.dtype))
        loss = loss * (1.0 - eps) + smooth * (eps / lp.shape[-1])
    if reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            return loss.sum() * (np.asarray(1.0, dtype=lp.dtype) / wt.sum())
    if reduction == "sum":
        return loss.sum()
    return loss.reshape(()) if one else loss


def _options_domain(draw: Any, s: Any) -> Any:
    n, c = draw(s.integers(1, 4)), draw(s.integers(2, 4))
    t = draw(s.int_arrays((n,), 0, c - 1))
    t[0] = -100 if draw(s.booleans()) and n > 1 else t[0]
    w = draw(s.arrays((c,), low=0.5, high=2.0)) if draw(s.booleans()) else None
    return [draw(s.arrays((n, c)))], {
        "target": t, "reduction": draw(s.sampled_from(REDUCTIONS)), "weight": w,
        "label_smoothing": draw(s.sampled_from([0.0, 0.25]))}


# The gradient property tests of the composed path (weights, ignored samples, smoothing).
register(Op("cross_entropy_options", domain=_options_domain), public=False,
         call=lambda z, target, reduction, weight, label_smoothing: cross_entropy(
             z, target, reduction, weight=weight, label_smoothing=label_smoothing))(cross_entropy)
