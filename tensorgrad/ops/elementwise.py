"""Elementwise ops: arithmetic with numpy broadcasting, activations, comparisons.

Most are declared in one line by their local derivative (`unary`, tensorgrad/ops/declare.py),
which gives the op, its in-place gradient, the public function, the Tensor method, the numpy
interop entry, the export and the gradient tests. Broadcasting needs no code here: a rule may
return a gradient of the broadcast shape, and the engine sums it back to the input's shape.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes
from ..autograd.op import Op, ScalarOp, exported, record, register
from ..spellings import spellings
from ..tensor import Tensor, _const, as_tensor
from . import domains as D
from ._util import data, fail
from .declare import BinaryFn, binary, constant, pair, unary

# ------------------------------------------------------------------------- arithmetic
ADD: Op = Op("add", lambda g, ans, a, b: g, lambda g, ans, a, b: g, domain=D.binary())
SUB: Op = Op("sub", lambda g, ans, a, b: g, lambda g, ans, a, b: -g, domain=D.binary())
MUL: Op = Op("mul", lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a, domain=D.binary())
DIV: Op = Op("div", lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b,
             domain=D.binary(low_b=0.5, high_b=3.0))
# PyTorch's masks: an exponent of 0 has slope 0 at a zero base (0 * 0**-1 would be NaN), and
# the exponent's gradient is 0 at a zero base with exponent >= 0 (0 * log 0). The base's mask
# is narrower than PyTorch's (b == 0 only at a zero base): elsewhere b a**(b-1) is 0 at b == 0
# anyway, and its derivative in b there (a**-1) stays right. The log's argument is masked too,
# so that under create_graph no 0 * log'(0) = NaN reaches the second derivative.
POW: Op = Op("pow", lambda g, ans, a, b: np.where((data(b) == 0) & (data(a) == 0), 0,
                                                   g * b * a ** (b - 1)),
             lambda g, ans, a, b: g * _masked_log_pow(ans, a, (data(a) == 0) & (data(b) >= 0)),
             domain=D.binary(low=0.5, high=3.0, low_b=-2.0, high_b=2.0))


def _masked_log_pow(ans: Any, a: Any, zero: np.ndarray) -> Any:
    """a**b * log(a), taken as 0 where `zero` (a zero base)."""
    return np.where(zero, 0, ans * np.log(np.where(zero, 1, a)))


def _is_int_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind != "f"


def _true_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if _is_int_array(a) and _is_int_array(b):  # int / int gives the default float dtype
        return np.true_divide(a, b, dtype=dtypes.get_default_dtype())
    return np.true_divide(a, b)


def _with_scalar(low: float = -3.0, high: float = 3.0, c_low: float = -2.0,
                 c_high: float = 2.0) -> Any:
    """Domain of the scalar ops: one array and a Python float c."""

    def domain(draw: Any, s: Any) -> Any:
        x = draw(s.arrays(draw(s.shapes()), low=low, high=high))
        return [x], {"c": draw(s.floats(c_low, c_high))}

    return domain


# x op c and c op x for a Python number c: one input, c kept as a parameter.
ADD_S: Op = ScalarOp("add", lambda g, ans, x, c: g, domain=_with_scalar())
SUB_S: Op = ScalarOp("sub", lambda g, ans, x, c: g, domain=_with_scalar())
RSUB_S: Op = ScalarOp("sub", lambda g, ans, x, c: -g, domain=_with_scalar())
MUL_S: Op = ScalarOp("mul", lambda g, ans, x, c: g * c, domain=_with_scalar())
DIV_S: Op = ScalarOp("div", lambda g, ans, x, c: g / c, domain=_with_scalar(c_low=0.5))
RDIV_S: Op = ScalarOp("div", lambda g, ans, x, c: -g * ans / x, domain=_with_scalar(0.5, 3.0))
# x ** 0 has slope 0 everywhere, 0 included: np.where(True, 0, g) is zeros of g's kind (an
# array, or a Tensor under create_graph). 0 ** x: the zero-base mask of the exponent, as above.
POW_S: Op = ScalarOp("pow", lambda g, ans, x, c: g * c * x ** (c - 1) if c != 0 else
                     np.where(True, 0, g), domain=_with_scalar(0.5, 3.0))
RPOW_S: Op = ScalarOp("pow", lambda g, ans, x, c: g * ans * math.log(c) if c > 0 else
                      g * np.where(data(x) >= 0, 0, ans * -math.inf) if c == 0 else g * math.nan,
                      domain=_with_scalar(c_low=0.5, c_high=3.0))

add: BinaryFn = binary(ADD, np.add, scalar=ADD_S, rscalar=ADD_S,
                       doc="a + b, broadcasting. Gradient: g to both.")
sub: BinaryFn = binary(SUB, np.subtract, scalar=SUB_S, rscalar=RSUB_S,
                       doc="a - b, broadcasting. Gradient: g, -g.")
mul: BinaryFn = binary(MUL, np.multiply, scalar=MUL_S, rscalar=MUL_S,
                       doc="a * b, broadcasting. Gradient: g*b, g*a.")
div: BinaryFn = binary(DIV, _true_divide, scalar=DIV_S, rscalar=RDIV_S, numpy=np.true_divide,
                       doc="a / b, broadcasting. Gradient: g/b, -g*a/b**2.")
pow: BinaryFn = binary(POW, np.power, scalar=POW_S, rscalar=RPOW_S, method=True,
                       doc="a ** b, broadcasting. Gradient: g*b*a**(b-1), g*a**b*log(a).")


# ------------------------------------------------------------------------- unary math
def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows: sigmoid = 1/(1+e) for x >= 0 and e/(1+e) below.
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


neg = unary("neg", np.negative, lambda x, ans: -1, domain=D.unary(), floats=False,
            method=False, doc="-x.")
exp = unary("exp", np.exp, lambda x, ans: ans, domain=D.unary(), doc="e**x. Gradient: g*exp(x).")
expm1 = unary("expm1", np.expm1, lambda x, ans: ans + 1, domain=D.unary(),
              doc="e**x - 1, accurate near 0. Gradient: g*exp(x).")
log = unary("log", np.log, lambda x, ans: 1 / x, domain=D.unary(0.1, 5.0),
            doc="Natural log. Gradient: g/x.")
log1p = unary("log1p", np.log1p, lambda x, ans: 1 / (1 + x), domain=D.unary(-0.9, 3.0),
              doc="log(1 + x), accurate near 0. Gradient: g/(1+x).")
sqrt = unary("sqrt", np.sqrt, lambda x, ans: 0.5 / ans, domain=D.unary(0.1, 5.0),
             doc="Square root. Gradient: g/(2*sqrt(x)).")
# |x| and relu: the kink at 0 gets gradient 0, as in PyTorch; the tests keep away from it.
abs = unary("abs", np.absolute, lambda x, ans: np.sign(data(x)), domain=D.unary(avoid=(0.0,)),
            floats=False, doc="|x|. Gradient: g*sign(x) (0 at 0).")
sin = unary("sin", np.sin, lambda x, ans: np.cos(x), domain=D.unary(),
            doc="sin x. Gradient: g*cos(x).")
cos = unary("cos", np.cos, lambda x, ans: -np.sin(x), domain=D.unary(),
            doc="cos x. Gradient: -g*sin(x).")
tanh = unary("tanh", np.tanh, lambda x, ans: 1 - ans * ans, domain=D.unary(),
             doc="tanh x. Gradient: g*(1-tanh(x)**2).")
sigmoid = unary("sigmoid", _sigmoid, lambda x, ans: ans * (1 - ans), domain=D.unary(-6.0, 6.0),
                doc="1/(1+e**-x), stable for any x. Gradient: g*s*(1-s).")
relu = unary("relu", lambda x: np.maximum(x, 0), lambda x, ans: data(x) > 0,
             domain=D.unary(avoid=(0.0,)), floats=False,
             doc="max(x, 0). Gradient: g where x > 0, else 0.")


def _slope_mask(x: Any, slope: float, like: Any) -> np.ndarray:
    return np.where(data(x) > 0, 1.0, slope).astype(like.dtype)


LEAKY_RELU = Op("leaky_relu",
                lambda g, ans, x, negative_slope: g * _slope_mask(x, negative_slope, g),
                domain=lambda draw, s: ([draw(s.arrays(draw(s.shapes()), avoid=(0.0,)))],
                                        {"negative_slope": draw(s.floats(0.0, 0.5))}))


@register(LEAKY_RELU)
def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x. Gradient: g times 1 or negative_slope."""
    x = as_tensor(x)
    out = np.where(x.data > 0, x.data, x.data * np.asarray(negative_slope, x.data.dtype))
    return record(LEAKY_RELU, out, (x,), {"negative_slope": negative_slope})


# GELU needs erf, which numpy lacks: Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7) written in
# numpy vocabulary, so that under create_graph it is itself differentiable.
_P, _A = 0.3275911, (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: Any) -> Any:
    sign = np.sign(data(x))
    ax = np.abs(x)
    t = 1 / (1 + _P * ax)
    poly = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))
    return sign * (1 - poly * np.exp(-ax * ax))


def _gelu_grad(x: Any, approximate: str) -> Any:
    if approximate == "tanh":
        c = math.sqrt(2 / math.pi)
        th = np.tanh(c * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044715 * x * x)
    cdf = 0.5 * (1 + _erf(x * (1 / math.sqrt(2))))
    pdf = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
    return cdf + x * pdf


def _gelu_grad2(x: Any, approximate: str) -> Any:
    # Written without erf or sign so that it is smooth everywhere, including at 0.
    if approximate == "tanh":
        c, k = math.sqrt(2 / math.pi), 0.044715
        th = np.tanh(c * (x + k * x * x * x))
        du = c * (1 + 3 * k * x * x)
        sech2 = 1 - th * th
        return sech2 * du + 0.5 * x * sech2 * (6 * c * k * x - 2 * th * du * du)
    return np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi)) * (2 - x * x)


def _gelu_domain(draw: Any, s: Any) -> Any:
    approximate = draw(s.sampled_from(["none", "tanh"]))
    return [draw(s.arrays(draw(s.shapes())))], {"approximate": approximate}


# d gelu / dx as an op of its own: its rule (the second derivative) is smooth, whereas
# differentiating through the erf polynomial's |x| would give a wrong value at exactly 0.
GELU_GRAD = Op("gelu_grad", lambda g, ans, x, approximate: g * _gelu_grad2(x, approximate),
               domain=_gelu_domain)
GELU = Op("gelu", lambda g, ans, x, approximate: g * (
    gelu_grad(x, approximate) if isinstance(x, Tensor) else _gelu_grad(x, approximate)),
    domain=_gelu_domain)


@register(GELU_GRAD, public=False)
def gelu_grad(x: Any, approximate: str = "none") -> Tensor:
    """The derivative of `gelu` (used by its gradient rule under create_graph)."""
    x = as_tensor(x)
    return record(GELU_GRAD, np.asarray(_gelu_grad(x.data, approximate), x.data.dtype), (x,),
                  {"approximate": approximate})


@register(GELU)
def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x * Phi(x) (Phi the standard normal CDF); ``approximate='tanh'`` uses the tanh formula.

    erf comes from a polynomial approximation with absolute error below 1.5e-7.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = as_tensor(x)
    a = x.data
    if approximate == "tanh":
        c = math.sqrt(2 / math.pi)
        out = 0.5 * a * (1 + np.tanh(c * (a + 0.044715 * a * a * a)))
    else:
        out = 0.5 * a * (1 + _erf(a * (1 / math.sqrt(2))))
    return record(GELU, out.astype(a.dtype, copy=False), (x,), {"approximate": approximate})


# ------------------------------------------------------------------------- clip / max / where
def _inside(x: Any, lo: Any, hi: Any) -> np.ndarray:
    d = data(x)
    m = np.ones(d.shape, dtype=bool)
    if lo is not None:
        m &= d >= lo
    if hi is not None:
        m &= d <= hi
    return m


CLIP = Op("clip", lambda g, ans, x, lo, hi: g * _inside(x, lo, hi),
          domain=lambda draw, s: ([draw(s.arrays(draw(s.shapes()), avoid=(-1.0, 1.0)))],
                                  {"lo": -1.0, "hi": 1.0}))


@register(CLIP, numpy={np.clip: lambda a, lo=None, hi=None: clip(a, lo, hi)})
@spellings  # also PyTorch's clamp(min=, max=) and numpy's a_min=/a_max=
def clip(x: Any, lo: Any = None, hi: Any = None) -> Tensor:
    """Limit values to [lo, hi] (either may be None). Gradient: g inside, 0 outside
    (the bounds themselves count as inside, as in PyTorch's clamp)."""
    x = as_tensor(x)
    if lo is None and hi is None:
        raise ValueError("clip: at least one of lo and hi must be given")
    for bound in (lo, hi):  # a number, numbers or None; anything else is a TypeError here
        if bound is not None and not isinstance(bound, (int, float, np.number)):
            dtypes.to_array(data(bound), copy=False, name="clip", what="a bound (lo or hi)")
    if lo is not None and hi is not None and np.any(np.greater(data(lo), data(hi))):
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    out = np.clip(x.data, lo, hi)
    if out.dtype != x.data.dtype and x.data.dtype.kind == "f":
        out = out.astype(x.data.dtype)
    return record(CLIP, out, (x,), {"lo": lo, "hi": hi})


def _share(a: Any, b: Any, like: Any) -> np.ndarray:
    # Ties split the gradient equally between the two inputs, as in PyTorch.
    a, b = data(a), data(b)
    return ((a > b) + 0.5 * (a == b)).astype(like.dtype)


MAXIMUM = Op("maximum", lambda g, ans, a, b: g * _share(a, b, g),
             lambda g, ans, a, b: g * _share(b, a, g), domain=D.binary(distinct=True))
MINIMUM = Op("minimum", lambda g, ans, a, b: g * _share(b, a, g),
             lambda g, ans, a, b: g * _share(a, b, g), domain=D.binary(distinct=True))
maximum: BinaryFn = binary(MAXIMUM, np.maximum,
    doc="Elementwise max of a and b, broadcasting. Ties split the gradient equally.")
minimum: BinaryFn = binary(MINIMUM, np.minimum,
    doc="Elementwise min of a and b, broadcasting. Ties split the gradient equally.")


def _where_domain(draw: Any, s: Any) -> Any:
    sc, sa, sb = draw(s.broadcastable_shapes(3))
    cond = draw(s.bool_arrays(sc))
    return [draw(s.arrays(sa)), draw(s.arrays(sb))], {"cond": cond}


WHERE = Op("where", lambda g, ans, a, b, cond: np.where(cond, g, 0),
           lambda g, ans, a, b, cond: np.where(cond, 0, g), domain=_where_domain)


def _where(a: Any, b: Any, cond: Any) -> Tensor:
    # The test domain's calling convention (differentiable inputs first).
    return where(cond, a, b)


@register(WHERE, call=_where, numpy=np.where)
def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where `cond` is true, else b (all three broadcast). `cond` is not differentiated."""
    c = np.array(data(cond), dtype=bool)  # a copy, kept for backward: the caller may reuse theirs
    a, b = pair(a, b, "where")
    try:
        out = np.where(c, a.data, b.data)
    except ValueError as e:
        fail("where", e, c, a, b)
    return record(WHERE, out, (a, b), {"cond": c})


ASTYPE = Op("astype", lambda g, ans, x, dtype: g,
            domain=lambda draw, s: ([draw(s.arrays(draw(s.shapes())))], {"dtype": np.float64}))


@register(ASTYPE, numpy=np.astype)
def astype(x: Any, dtype: Any) -> Tensor:
    """Cast to `dtype`. Between float dtypes the gradient is cast back; to an integer or bool
    dtype the result is a constant (no gradient flows through a rounding)."""
    x = as_tensor(x)
    d = dtypes.numeric_dtype("astype", dtype)
    out = x.data.astype(d)
    if d.kind != "f":
        return _const(out)
    return record(ASTYPE, out, (x,), {"dtype": d})


# ------------------------------------------------------------------------- not differentiable
lt = constant("lt", np.less, "a < b elementwise, a bool tensor (no gradient).")
le = constant("le", np.less_equal, "a <= b elementwise, a bool tensor (no gradient).")
gt = constant("gt", np.greater, "a > b elementwise, a bool tensor (no gradient).")
ge = constant("ge", np.greater_equal, "a >= b elementwise, a bool tensor (no gradient).")
eq = constant("eq", np.equal, "a == b elementwise, a bool tensor (no gradient).")
ne = constant("ne", np.not_equal, "a != b elementwise, a bool tensor (no gradient).")
logical_and = constant("logical_and", np.logical_and, "a and b elementwise (no gradient).")
logical_or = constant("logical_or", np.logical_or, "a or b elementwise (no gradient).")


@register(numpy=np.logical_not)
def logical_not(x: Any) -> Tensor:
    """not x elementwise (no gradient)."""
    return _const(np.logical_not(as_tensor(x).data))


@register(numpy=np.sign)
def sign(x: Any) -> Tensor:
    """-1, 0 or 1 per element (a constant: its gradient is 0 almost everywhere)."""
    return _const(np.sign(as_tensor(x).data))


# The public ops of this module, in declaration order (tensorgrad.ops and tensorgrad export
# exactly these). Type checkers, which cannot run `exported`, see every public name instead.
if not TYPE_CHECKING:
    __all__ = exported(__name__)
