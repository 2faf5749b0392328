"""Elementwise ops: arithmetic with numpy broadcasting, activations, comparisons.

Each op is its `Op` (gradient rule per input, test domain) next to its forward. Broadcasting
needs no code here: a rule may return a gradient of the broadcast shape, and the engine sums
it back to the input's shape in one place.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import numpy as np

from .. import dtypes
from ..autograd.op import Op, record, register
from ..spellings import spellings
from ..tensor import Tensor, _const, as_tensor, operand
from . import domains as D
from ._util import data, fail

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["abs", "add", "astype", "clip", "cos", "div", "eq", "exp", "ge", "gelu", "gt", "le",
    "leaky_relu", "log", "logical_and", "logical_not", "logical_or", "lt", "maximum", "minimum",
    "mul", "ne", "neg", "pow", "relu", "sigmoid", "sign", "sin", "sqrt", "sub", "tanh", "where"]

BinaryFn = Callable[[Any, Any], Tensor]
UnaryFn = Callable[[Any], Tensor]


def _pair(a: Any, b: Any) -> tuple:
    """Both operands of a binary op as Tensors (Python numbers are weakly typed)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a, b
        if isinstance(b, float) and a.data.dtype.kind != "f":
            a = _const(a.data.astype(dtypes.get_default_dtype()))  # int tensor * 1.5 -> float32
        return a, operand(b, a)
    b = b if isinstance(b, Tensor) else as_tensor(b)
    if isinstance(a, float) and b.data.dtype.kind != "f":
        b = _const(b.data.astype(dtypes.get_default_dtype()))
    return operand(a, b), b


def _binary(op: Op, forward: Callable, doc: str, scalar: Optional[Op] = None,
            rscalar: Optional[Op] = None) -> Callable[[Any, Any], Tensor]:
    """The public function of a binary op. `scalar` / `rscalar` are the one-input ops used when
    the right / left operand is a Python number and the tensor is float: x * 2.0 records
    ``mul_scalar`` with c = 2.0 instead of wrapping 2.0 in a constant tensor (a hot path)."""

    def fn(a: Any, b: Any) -> Tensor:
        ta, tb = type(a), type(b)
        if ta is Tensor and (tb is float or tb is int) and a.data.dtype.kind == "f":
            if scalar is not None:
                return record(scalar, forward(a.data, b), (a,), {"c": b})
        elif tb is Tensor and (ta is float or ta is int) and b.data.dtype.kind == "f":
            if rscalar is not None:
                return record(rscalar, forward(a, b.data), (b,), {"c": a})
        if ta is not Tensor or tb is not Tensor:
            a, b = _pair(a, b)
        try:
            out = forward(a.data, b.data)
        except (ValueError, TypeError) as e:
            fail(op.name, e, a, b)
        return record(op, out, (a, b))

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = doc
    op.fn = fn
    return fn


def _unary(op: Op, forward: Callable, doc: str, floats: bool = True) -> Callable[[Any], Tensor]:
    def fn(x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_tensor(x)
        if floats and x.data.dtype.kind != "f":  # exp(int tensor) is float32, as in PyTorch
            x = _const(x.data.astype(dtypes.get_default_dtype()))
        return record(op, forward(x.data), (x,))

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = doc
    op.fn = fn
    return fn


# ------------------------------------------------------------------------- arithmetic
ADD = Op("add", lambda g, ans, a, b: g, lambda g, ans, a, b: g, domain=D.binary())
SUB = Op("sub", lambda g, ans, a, b: g, lambda g, ans, a, b: -g, domain=D.binary())
MUL = Op("mul", lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a, domain=D.binary())
DIV = Op("div", lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b,
         domain=D.binary(low_b=0.5, high_b=3.0))
# PyTorch's masks: an exponent of 0 has slope 0 at a zero base (0 * 0**-1 would be NaN), and
# the exponent's gradient is 0 at a zero base with exponent >= 0 (0 * log 0). The base's mask
# is narrower than PyTorch's (b == 0 only at a zero base): elsewhere b a**(b-1) is 0 at b == 0
# anyway, and its derivative in b there (a**-1) stays right. The log's argument is masked too,
# so that under create_graph no 0 * log'(0) = NaN reaches the second derivative.
POW = Op("pow", lambda g, ans, a, b: np.where((data(b) == 0) & (data(a) == 0), 0,
                                               g * b * a ** (b - 1)),
         lambda g, ans, a, b: g * _masked_log_pow(ans, a, (data(a) == 0) & (data(b) >= 0)),
         domain=D.binary(low=0.5, high=3.0, low_b=-2.0, high_b=2.0))
NEG = Op("neg", lambda g, ans, x: -g, domain=D.unary())


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
ADD_S = Op("add", lambda g, ans, x, c: g, key="add_scalar", domain=_with_scalar())
SUB_S = Op("sub", lambda g, ans, x, c: g, key="sub_scalar", domain=_with_scalar())
RSUB_S = Op("sub", lambda g, ans, x, c: -g, key="rsub_scalar", domain=_with_scalar())
MUL_S = Op("mul", lambda g, ans, x, c: g * c, key="mul_scalar", domain=_with_scalar())
DIV_S = Op("div", lambda g, ans, x, c: g / c, key="div_scalar", domain=_with_scalar(c_low=0.5))
RDIV_S = Op("div", lambda g, ans, x, c: -g * ans / x, key="rdiv_scalar",
            domain=_with_scalar(0.5, 3.0))
# x ** 0 has slope 0 everywhere, 0 included: np.where(True, 0, g) is zeros of g's kind (an
# array, or a Tensor under create_graph). 0 ** x: the zero-base mask of the exponent, as above.
POW_S = Op("pow", lambda g, ans, x, c: g * c * x ** (c - 1) if c != 0 else np.where(True, 0, g),
           key="pow_scalar", domain=_with_scalar(0.5, 3.0))
RPOW_S = Op("pow", lambda g, ans, x, c: g * ans * math.log(c) if c > 0 else
            g * np.where(data(x) >= 0, 0, ans * -math.inf) if c == 0 else g * math.nan,
            key="rpow_scalar", domain=_with_scalar(c_low=0.5, c_high=3.0))
for _op, _call in [(ADD_S, lambda x, c: x + c), (SUB_S, lambda x, c: x - c),
                   (RSUB_S, lambda x, c: c - x), (MUL_S, lambda x, c: x * c),
                   (DIV_S, lambda x, c: x / c), (RDIV_S, lambda x, c: c / x),
                   (POW_S, lambda x, c: x ** c), (RPOW_S, lambda x, c: c ** x)]:
    _op.fn = _call  # the tests reach the scalar ops through the operators, as users do

add: BinaryFn = _binary(ADD, np.add, "a + b, broadcasting. Gradient: g to both.",
                        ADD_S, ADD_S)
sub: BinaryFn = _binary(SUB, np.subtract, "a - b, broadcasting. Gradient: g, -g.",
                        SUB_S, RSUB_S)
mul: BinaryFn = _binary(MUL, np.multiply, "a * b, broadcasting. Gradient: g*b, g*a.",
                        MUL_S, MUL_S)
div: BinaryFn = _binary(DIV, _true_divide, "a / b, broadcasting. Gradient: g/b, -g*a/b**2.",
                        DIV_S, RDIV_S)
pow: BinaryFn = _binary(POW, np.power,
                        "a ** b, broadcasting. Gradient: g*b*a**(b-1), g*a**b*log(a).",
                        POW_S, RPOW_S)
neg: UnaryFn = _unary(NEG, np.negative, "-x.", floats=False)

# ------------------------------------------------------------------------- unary math
EXP = Op("exp", lambda g, ans, x: g * ans, domain=D.unary())
LOG = Op("log", lambda g, ans, x: g / x, domain=D.unary(0.1, 5.0))
SQRT = Op("sqrt", lambda g, ans, x: g / (ans * 2), domain=D.unary(0.1, 5.0))
ABS = Op("abs", lambda g, ans, x: g * np.sign(data(x)), domain=D.unary(avoid=(0.0,)))
SIN = Op("sin", lambda g, ans, x: g * np.cos(x), domain=D.unary())
COS = Op("cos", lambda g, ans, x: -g * np.sin(x), domain=D.unary())
TANH = Op("tanh", lambda g, ans, x: g * (1 - ans * ans), domain=D.unary(),
          inplace=lambda g, ans, x: np.multiply(g, 1 - ans * ans, out=g))
SIGMOID = Op("sigmoid", lambda g, ans, x: g * ans * (1 - ans), domain=D.unary(-6.0, 6.0),
             inplace=lambda g, ans, x: np.multiply(g, ans * (1 - ans), out=g))
# The kink at 0 gets gradient 0, as in PyTorch; tests keep away from it.
RELU = Op("relu", lambda g, ans, x: g * (data(x) > 0), domain=D.unary(avoid=(0.0,)),
          inplace=lambda g, ans, x: np.multiply(g, x > 0, out=g))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows: sigmoid = 1/(1+e) for x >= 0 and e/(1+e) below.
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


exp: UnaryFn = _unary(EXP, np.exp, "e**x. Gradient: g*exp(x).")
log: UnaryFn = _unary(LOG, np.log, "Natural log. Gradient: g/x.")
sqrt: UnaryFn = _unary(SQRT, np.sqrt, "Square root. Gradient: g/(2*sqrt(x)).")
abs: UnaryFn = _unary(ABS, np.abs, "|x|. Gradient: g*sign(x) (0 at 0).", floats=False)
sin: UnaryFn = _unary(SIN, np.sin, "sin x. Gradient: g*cos(x).")
cos: UnaryFn = _unary(COS, np.cos, "cos x. Gradient: -g*sin(x).")
tanh: UnaryFn = _unary(TANH, np.tanh, "tanh x. Gradient: g*(1-tanh(x)**2).")
sigmoid: UnaryFn = _unary(SIGMOID, _sigmoid, "1/(1+e**-x), stable for any x. Gradient: g*s*(1-s).")
relu: UnaryFn = _unary(RELU, lambda x: np.maximum(x, 0),
    "max(x, 0). Gradient: g where x > 0, else 0.", floats=False)


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


@register(GELU_GRAD)
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


@register(CLIP)
@spellings  # also PyTorch's clamp(min=, max=) and numpy's a_min=/a_max=
def clip(x: Any, lo: Any = None, hi: Any = None) -> Tensor:
    """Limit values to [lo, hi] (either may be None). Gradient: g inside, 0 outside
    (the bounds themselves count as inside, as in PyTorch's clamp)."""
    x = as_tensor(x)
    if lo is None and hi is None:
        raise ValueError("clip: at least one of lo and hi must be given")
    if lo is not None and hi is not None and lo > hi:
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
maximum: BinaryFn = _binary(MAXIMUM, np.maximum,
                  "Elementwise max of a and b, broadcasting. Ties split the gradient equally.")
minimum: BinaryFn = _binary(MINIMUM, np.minimum,
                  "Elementwise min of a and b, broadcasting. Ties split the gradient equally.")


def _where_domain(draw: Any, s: Any) -> Any:
    sc, sa, sb = draw(s.broadcastable_shapes(3))
    cond = draw(s.bool_arrays(sc))
    return [draw(s.arrays(sa)), draw(s.arrays(sb))], {"cond": cond}


WHERE = Op("where", lambda g, ans, a, b, cond: np.where(cond, g, 0),
           lambda g, ans, a, b, cond: np.where(cond, 0, g), domain=_where_domain)


def _where(a: Any, b: Any, cond: Any) -> Tensor:
    # The test domain's calling convention (differentiable inputs first).
    return where(cond, a, b)


WHERE.fn = _where


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where `cond` is true, else b (all three broadcast). `cond` is not differentiated."""
    c = np.asarray(data(cond), dtype=bool)
    a, b = _pair(a, b)
    try:
        out = np.where(c, a.data, b.data)
    except ValueError as e:
        fail("where", e, c, a, b)
    return record(WHERE, out, (a, b), {"cond": c})


ASTYPE = Op("astype", lambda g, ans, x, dtype: g,
            domain=lambda draw, s: ([draw(s.arrays(draw(s.shapes())))], {"dtype": np.float64}))


@register(ASTYPE)
def astype(x: Any, dtype: Any) -> Tensor:
    """Cast to `dtype`. Between float dtypes the gradient is cast back; to an integer or bool
    dtype the result is a constant (no gradient flows through a rounding)."""
    x = as_tensor(x)
    d = np.dtype(dtype)
    out = x.data.astype(d)
    if d.kind != "f":
        return _const(out)
    return record(ASTYPE, out, (x,), {"dtype": d})


# ------------------------------------------------------------------------- not differentiable
def _compare(ufunc: Any, name: str) -> Callable[[Any, Any], Tensor]:
    def fn(a: Any, b: Any) -> Tensor:
        if type(a) is not Tensor or type(b) is not Tensor:
            a, b = _pair(a, b)
        try:
            return _const(np.asarray(ufunc(a.data, b.data)))
        except (ValueError, TypeError) as e:
            fail(name, e, a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} as a bool tensor (no gradient)."
    return fn


lt: BinaryFn = _compare(np.less, "lt")
le: BinaryFn = _compare(np.less_equal, "le")
gt: BinaryFn = _compare(np.greater, "gt")
ge: BinaryFn = _compare(np.greater_equal, "ge")
eq: BinaryFn = _compare(np.equal, "eq")
ne: BinaryFn = _compare(np.not_equal, "ne")
logical_and: BinaryFn = _compare(np.logical_and, "logical_and")
logical_or: BinaryFn = _compare(np.logical_or, "logical_or")


def logical_not(x: Any) -> Tensor:
    return _const(np.logical_not(as_tensor(x).data))


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 per element (a constant: its gradient is 0 almost everywhere)."""
    return _const(np.sign(as_tensor(x).data))
