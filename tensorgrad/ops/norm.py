"""Normalisation: one fused op, `normalize` (subtract the mean, divide by the standard
deviation over some axes), whose gradient is the three-term formula derived in
docs/layers-derivations.md, and batch norm and layer norm built on it (``F.batch_norm``,
``F.layer_norm``: normalize, then the elementwise affine map).

With ``xhat = (x - mean) * r`` and ``r = 1 / sqrt(var + eps)`` (biased variance over the
normalised axes, m values per group)::

    dx = r * (g - mean(g) - xhat * mean(g * xhat))

the means taken over the same axes. The rule is written in numpy vocabulary, so it is
differentiated again under ``create_graph=True``.
"""
from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from ..autograd.op import Op, record, register
from ..tensor import Tensor, as_tensor

__all__: list = []  # reached through tensorgrad.nn.functional


def _normalize_rule(g: Any, ans: Any, x: Any, axes: tuple, eps: float, saved: Any = None) -> Any:
    if saved is not None and not isinstance(x, Tensor):
        r = saved  # 1 / sqrt(var + eps), kept by the forward pass
    else:  # under create_graph: recompute from x, so that r's dependence on x is recorded
        xc = x - x.mean(axis=axes, keepdims=True)
        r = 1.0 / np.sqrt((xc * xc).mean(axis=axes, keepdims=True) + eps)
    return r * (g - g.mean(axis=axes, keepdims=True)
                - ans * (g * ans).mean(axis=axes, keepdims=True))


def _normalize_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1, min_side=2, max_side=3))
    axes = tuple(i for i in range(len(shape)) if draw(s.booleans())) or (len(shape) - 1,)
    x = draw(s.arrays(shape))
    # A group of nearly equal values has a tiny variance: its r is huge and finite
    # differences of the second derivative lose all their digits there.
    s.assume(np.all(x.var(axis=axes) > 0.25))
    return [x], {"axes": axes, "eps": 1e-5}


NORMALIZE = Op("normalize", _normalize_rule, domain=_normalize_domain)


@register(NORMALIZE, call=lambda x, axes, eps: normalize(x, axes, eps)[0], public=False)
def normalize(x: Any, axes: tuple, eps: float = 1e-5) -> tuple:
    """``(xhat, mean, var)``: x standardised over `axes` (a tuple of non-negative axes) with
    its biased variance, ``xhat = (x - mean) / sqrt(var + eps)``, and the batch statistics
    as arrays (keepdims shape) for running averages. One op: its gradient is the three-term
    formula of the module docstring."""
    x = as_tensor(x)
    a = x.data
    mean = a.mean(axis=axes, keepdims=True)
    xc = a - mean
    var = np.mean(xc * xc, axis=axes, keepdims=True)
    r = 1.0 / np.sqrt(var + eps)
    xc *= r
    out = record(NORMALIZE, xc, (x,), {"axes": axes, "eps": eps, "saved": r})
    return out, mean, var


def _affine(y: Tensor, weight: Any, bias: Any, shape: tuple) -> Tensor:
    """y * weight + bias with both reshaped to `shape` (broadcastable against y)."""
    if weight is not None:
        y = y * as_tensor(weight).reshape(shape)
    if bias is not None:
        y = y + as_tensor(bias).reshape(shape)
    return y


def _check_affine(name: str, v: Any, what: str, shape: tuple) -> None:
    if v is not None and tuple(as_tensor(v).shape) != shape:
        raise ValueError(f"{name}: {what} must have shape {shape}, got {as_tensor(v).shape}")


# ------------------------------------------------------------------------- batch norm
def _bn_domain(draw: Any, s: Any) -> Any:
    n, c = draw(s.integers(2, 3)), draw(s.integers(1, 3))
    shape = (n, c) + tuple(draw(s.integers(1, 3)) for _ in range(draw(s.integers(0, 2))))
    x = draw(s.arrays(shape))
    s.assume(np.all(x.var(axis=tuple(i for i in range(len(shape)) if i != 1)) > 0.25))
    inputs = [x, draw(s.arrays((c,))), draw(s.arrays((c,)))]
    return inputs, {"training": True}


@register(Op("batch_norm", domain=_bn_domain),
          call=lambda x, w, b, training: batch_norm(x, None, None, w, b, training))
def batch_norm(x: Any, running_mean: Any, running_var: Any, weight: Any = None, bias: Any = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.batch_norm`` on x of shape (N, C, *): per channel C, normalise over the
    batch and every other axis, then ``* weight + bias`` (each (C,) or None).

    Training (or no running statistics): the batch mean and biased variance normalise, and
    `running_mean`/`running_var` ((C,) arrays or Tensors, or None), when given, are updated
    in place: ``running = (1 - momentum) * running + momentum * batch``, the variance with
    the unbiased batch variance (m / (m - 1)). Otherwise the running statistics normalise
    and are not changed.
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, *), got shape {x.shape}")
    c = x.shape[1]
    for v, what in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"),
                    (running_var, "running_var")):
        _check_affine("batch_norm", v, what, (c,))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training or running_mean is None or running_var is None:
        axes = (0,) + tuple(range(2, x.ndim))
        m = x.size // max(c, 1)
        if m <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape}")
        y, mean, var = normalize(x, axes, eps)
        if training:
            for buf, stat in ((running_mean, mean), (running_var, var * (m / (m - 1)))):
                if buf is not None:
                    a = buf.data if isinstance(buf, Tensor) else buf
                    a *= 1.0 - momentum
                    a += momentum * stat.reshape(c).astype(a.dtype)
        return _affine(y, weight, bias, shape)
    # Evaluation: a fixed affine map per channel, folded into one scale and one shift.
    rm = np.asarray(running_mean.data if isinstance(running_mean, Tensor) else running_mean)
    rv = np.asarray(running_var.data if isinstance(running_var, Tensor) else running_var)
    r = (1.0 / np.sqrt(rv + eps)).astype(x.dtype)
    scale: Any = r if weight is None else as_tensor(weight) * r
    shift = -(rm.astype(x.dtype) * scale)
    if bias is not None:
        shift = shift + as_tensor(bias)
    return x * as_tensor(scale).reshape(shape) + as_tensor(shift).reshape(shape)


# ------------------------------------------------------------------------- layer norm
def _ln_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1, min_side=2, max_side=3))
    k = draw(s.integers(1, len(shape)))
    x = draw(s.arrays(shape))
    s.assume(np.all(x.var(axis=tuple(range(len(shape) - k, len(shape)))) > 0.25))
    norm = shape[len(shape) - k:]
    return [x, draw(s.arrays(norm)), draw(s.arrays(norm))], {"normalized_shape": norm}


@register(Op("layer_norm", domain=_ln_domain), call=lambda x, w, b, normalized_shape: layer_norm(
    x, normalized_shape, w, b))
def layer_norm(x: Any, normalized_shape: Union[int, Sequence[int]], weight: Any = None,
               bias: Any = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing dims `normalized_shape` (each sample on its own, biased
    variance), then ``* weight + bias`` (each of shape `normalized_shape`, or None)."""
    x = as_tensor(x)
    norm = _shape_tuple(normalized_shape)
    k = len(norm)
    if k == 0 or x.shape[x.ndim - k:] != norm or x.ndim < k:
        raise ValueError(f"layer_norm: normalized_shape {norm} must match the input's "
                         f"trailing dimensions, got input of shape {x.shape} (expected "
                         f"(*, {', '.join(map(str, norm))}))")
    _check_affine("layer_norm", weight, "weight", norm)
    _check_affine("layer_norm", bias, "bias", norm)
    y, _, _ = normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    return _affine(y, weight, bias, norm)


def _shape_tuple(shape: Any) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (int(shape),)
    try:
        return tuple(int(v) for v in shape)
    except TypeError:
        raise TypeError(f"normalized_shape must be an int or a tuple of ints, got {shape!r}") \
            from None
