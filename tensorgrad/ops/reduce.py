"""Reductions (sum, mean, max, min, var, logsumexp) and the normalisations along an axis
(softmax, log_softmax), all numerically stable. ``axis`` is an int, a tuple or None."""
from __future__ import annotations

import builtins
import math
from typing import Any, Optional, Union

import numpy as np

from ..autograd.op import Op, record, register
from ..spellings import spellings
from ..tensor import Axis, Tensor, _const, as_tensor
from . import domains as D
from ._util import ValuesIndices, data, fail, kept_shape, norm_axis
from .elementwise import maximum, minimum

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["allclose", "argmax", "argmin", "cumsum", "log_softmax", "logsumexp", "max", "mean",
           "min", "softmax", "std", "sum", "var"]


def _spread(g: Any, shape: tuple, axis: Optional[tuple]) -> Any:
    """The gradient of a reduction's output spread back over the reduced axes."""
    return np.broadcast_to(g.reshape(kept_shape(shape, axis)), shape)


def _count(shape: tuple, axis: Optional[tuple]) -> int:
    return int(np.prod([shape[i] for i in axis])) if axis is not None else int(np.prod(shape))


def _reduction(op: Op, forward: Any, x: Any, axis: Axis, keepdims: bool, **extra: Any) -> Tensor:
    x = as_tensor(x)
    ax = norm_axis(op.name, axis, x.data.ndim, x.data.shape)
    try:
        out = forward(x.data, axis=ax, keepdims=keepdims, **extra)
    except ValueError as e:
        fail(op.name, e, x)
    return record(op, out, (x,), {"axis": ax, "keepdims": keepdims, **extra})


def _max_rule(g: Any, ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    # Ties share the gradient equally (the mean of the subgradients).
    kept = kept_shape(x.shape, axis)
    mask = data(x) == data(ans).reshape(kept)
    share = (mask / mask.sum(axis=axis, keepdims=True)).astype(g.dtype)
    return g.reshape(kept) * share


SUM = Op("sum", lambda g, ans, x, axis, keepdims: _spread(g, x.shape, axis),
         domain=D.reduction())
MEAN = Op("mean", lambda g, ans, x, axis, keepdims:
          _spread(g, x.shape, axis) * (1.0 / builtins.max(_count(x.shape, axis), 1)),
          domain=D.reduction())
MAX = Op("max", _max_rule, domain=D.reduction(distinct=True))
MIN = Op("min", _max_rule, domain=D.reduction(distinct=True))
def _var_rule(g: Any, ans: Any, x: Any, axis: Any, keepdims: bool, ddof: float) -> Any:
    # No degrees of freedom left (n <= ddof): the forward is NaN or inf, and so is the gradient,
    # as in PyTorch; a ZeroDivisionError here would only hide that.
    dof = _count(x.shape, axis) - ddof
    return (_spread(g, x.shape, axis) * (x - np.mean(x, axis=axis, keepdims=True))
            * (2.0 / dof if dof > 0 else math.inf))


def _std_rule(g: Any, ans: Any, x: Any, axis: Any, keepdims: bool, ddof: float) -> Any:
    # d sqrt(v) = dv / (2 sqrt v), taken as 0 where the slice is constant (std 0): PyTorch's
    # choice, instead of the 0 * inf = NaN of the chain rule.
    zero = data(ans) == 0
    return _var_rule(np.where(zero, 0, g / np.where(zero, 1, ans * 2)), ans, x, axis, keepdims,
                     ddof)


VAR = Op("var", _var_rule, domain=D.reduction(ddof=0))
STD = Op("std", _std_rule, domain=D.reduction(distinct=True, min_side=2, ddof=0))
LOGSUMEXP = Op("logsumexp", lambda g, ans, x, axis, keepdims:
               g.reshape(kept_shape(x.shape, axis))
               * np.exp(x - ans.reshape(kept_shape(x.shape, axis))),
               domain=D.reduction())


@register(SUM, numpy=np.sum)
@spellings
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (all axes when None). Gradient: g spread over the summed axes."""
    return _reduction(SUM, np.sum, x, axis, keepdims)


@register(MEAN, numpy=np.mean)
@spellings
def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over `axis`. Gradient: g / n spread over the reduced axes."""
    return _reduction(MEAN, np.mean, x, axis, keepdims)


def _axis_keepdims(fn: Any) -> Any:
    """numpy's ``np.max(a, axis, keepdims=...)`` convention (fn() gives the function, defined
    below): max and min take PyTorch's dim as their second positional argument."""
    return lambda a, axis=None, keepdims=False: fn()(a, axis=axis, keepdims=keepdims)


def _max_or_min(op: Op, name: str, x: Any, dim: Any, keepdim: bool, axis: Axis,
                keepdims: Optional[bool]) -> Any:
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: give the axis once, as dim= (PyTorch: values and indices) "
                        "or as axis= (numpy: values)")
    if isinstance(dim, (Tensor, np.ndarray)):  # PyTorch's torch.max(a, b): elementwise
        return (maximum if name == "max" else minimum)(x, dim)
    keep = bool(keepdim) if keepdims is None else bool(keepdims)
    if dim is None:
        return _reduction(op, np.max if name == "max" else np.min, x, axis, keep)
    x = as_tensor(x)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be an int (PyTorch returns values and indices along "
                        f"one dim), got {dim!r}; use axis= for a tuple of axes")
    values = _reduction(op, np.max if name == "max" else np.min, x, int(dim), keep)
    indices = (argmax if name == "max" else argmin)(x, int(dim), keep)
    return ValuesIndices(values, indices)


@register(MAX, numpy={np.max: _axis_keepdims(lambda: max), np.amax: _axis_keepdims(lambda: max)})
@spellings
def max(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
        keepdims: Optional[bool] = None) -> Union[Tensor, ValuesIndices]:
    """Largest value: over `axis` (numpy: an int, a tuple or None -> the values), or along
    one `dim` (PyTorch, positional or ``dim=`` -> ``(values, indices)``, indices int64).
    ``max(x, other_tensor)`` is the elementwise `maximum`, as in PyTorch.
    Gradient: g to the maximal entries (ties share it)."""
    return _max_or_min(MAX, "max", x, dim, keepdim, axis, keepdims)


@register(MIN, numpy={np.min: _axis_keepdims(lambda: min), np.amin: _axis_keepdims(lambda: min)})
@spellings
def min(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
        keepdims: Optional[bool] = None) -> Union[Tensor, ValuesIndices]:
    """Smallest value: as `max` (``dim`` -> ``(values, indices)``, ``axis=`` -> values).
    Gradient: g to the minimal entries (ties share it)."""
    return _max_or_min(MIN, "min", x, dim, keepdim, axis, keepdims)


def _arg(name: str, fn: Any, x: Any, axis: Optional[int], keepdims: bool) -> Tensor:
    x = as_tensor(x)
    if axis is None:
        out = fn(x.data.reshape(-1), axis=0)
        return _const(np.asarray(out, dtype=np.int64).reshape((1,) * x.ndim if keepdims else ()))
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
    ax = norm_axis(name, axis, x.ndim, x.shape)
    assert ax is not None
    if x.shape[ax[0]] == 0:
        raise ValueError(f"{name}: cannot take the {name} of an empty axis {axis} "
                         f"(shape {x.shape})")
    return _const(np.asarray(fn(x.data, axis=ax[0], keepdims=keepdims), dtype=np.int64))


@register(numpy=np.argmax)
@spellings
def argmax(x: Any, axis: Optional[int] = None, keepdims: bool = False) -> Tensor:
    """Index (int64) of the largest value along `axis` (of the flattened tensor when None);
    the first one on ties. No gradient."""
    return _arg("argmax", np.argmax, x, axis, keepdims)


@register(numpy=np.argmin)
@spellings
def argmin(x: Any, axis: Optional[int] = None, keepdims: bool = False) -> Tensor:
    """Index (int64) of the smallest value along `axis`, as `argmax`. No gradient."""
    return _arg("argmin", np.argmin, x, axis, keepdims)


@register(VAR, numpy=np.var)
@spellings
def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over `axis` with ``ddof`` (0: population, 1: sample, PyTorch's default).
    Gradient: g * 2 (x - mean) / (n - ddof)."""
    return _reduction(VAR, np.var, x, axis, keepdims, ddof=_ddof("var", ddof))


@register(STD, numpy=np.std)
@spellings
def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation: sqrt(var). Gradient: the variance's over 2 std (0 where std is 0,
    as in PyTorch)."""
    return _reduction(STD, np.std, x, axis, keepdims, ddof=_ddof("std", ddof))


def _ddof(name: str, ddof: Any) -> Any:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: ddof must be a number (0 for the population, 1 for the "
                        f"sample statistic), got {ddof!r}")
    return ddof


def _logsumexp(a: np.ndarray, axis: Optional[tuple], keepdims: bool) -> np.ndarray:
    # Shift by the max so exp never overflows; an all -inf slice keeps shift 0 (result -inf).
    m = np.max(a, axis=axis, keepdims=True, initial=-np.inf)  # -inf: an empty axis gives -inf
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape([s for i, s in enumerate(a.shape)
                                              if axis is not None and i not in axis])


@register(LOGSUMEXP)
@spellings
def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, stable for any magnitude. Gradient: g * softmax(x)."""
    return _reduction(LOGSUMEXP, _logsumexp, x, axis, keepdims)


def _one_axis(name: str, x: Tensor, axis: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    ax = norm_axis(name, axis, x.data.ndim, x.data.shape)
    assert ax is not None
    return ax[0]


SOFTMAX = Op("softmax", lambda g, ans, x, axis:
             ans * (g - (g * ans).sum(axis=axis, keepdims=True)), domain=D.along_axis())
LOG_SOFTMAX = Op("log_softmax", lambda g, ans, x, axis:
                 g - np.exp(ans) * g.sum(axis=axis, keepdims=True), domain=D.along_axis())


@register(SOFTMAX)
@spellings
def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`, shifted by the max so it never overflows.
    Gradient: s * (g - sum(g * s))."""
    x = as_tensor(x)
    ax = _one_axis("softmax", x, axis)
    # initial: an empty axis gives an empty result, as in PyTorch (numpy's max would raise).
    e = np.exp(x.data - np.max(x.data, axis=ax, keepdims=True, initial=-np.inf))
    e /= e.sum(axis=ax, keepdims=True)
    return record(SOFTMAX, e, (x,), {"axis": ax})


@register(LOG_SOFTMAX)
@spellings
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`, stable. Gradient: g - softmax(x) * sum(g)."""
    x = as_tensor(x)
    ax = _one_axis("log_softmax", x, axis)
    out = x.data - _logsumexp(x.data, (ax,), True)
    return record(LOG_SOFTMAX, out, (x,), {"axis": ax})


# ------------------------------------------------------------------------- scans
def _rev(axis: int) -> tuple:
    return (slice(None),) * axis + (slice(None, None, -1),)


def _cumsum_any(g: Any, axis: int) -> Any:
    return cumsum(g, axis) if isinstance(g, Tensor) else np.cumsum(g, axis=axis)


def _cumsum_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1))
    return [draw(s.arrays(shape))], {"axis": draw(s.integers(-len(shape), len(shape) - 1))}


# d/dx_j of sum_i g_i cumsum(x)_i = sum_{i >= j} g_i: the cumulative sum of g from the end.
CUMSUM = Op("cumsum", lambda g, ans, x, axis: _cumsum_any(g[_rev(axis)], axis)[_rev(axis)],
            domain=_cumsum_domain)


@register(CUMSUM, numpy=np.cumsum)
@spellings
def cumsum(x: Any, axis: Optional[int] = None) -> Tensor:
    """Running sum along `axis` (same shape; of the flattened tensor when None, as numpy).
    Gradient: the running sum of g taken from the end."""
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"cumsum: axis must be an int or None, got {axis!r}")
    ax = norm_axis("cumsum", axis, x.ndim, x.shape)
    if ax is None or x.ndim == 0:
        raise ValueError(f"cumsum: needs a tensor of at least one dimension, got shape {x.shape}")
    return record(CUMSUM, np.cumsum(x.data, axis=ax[0]), (x,), {"axis": ax[0]})


@register(numpy=np.allclose)
def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when ``|a - b| <= atol + rtol * |b|`` everywhere (numpy's and PyTorch's rule;
    shapes broadcast). A plain bool, no gradient."""
    return bool(np.allclose(data(a), data(b), rtol=rtol, atol=atol, equal_nan=equal_nan))
