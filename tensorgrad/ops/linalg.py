"""Matrix products: `matmul` (1-D, 2-D and batched, numpy semantics) and `linear`, the fused
``x @ W + b`` of a dense layer (one graph node instead of two)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..autograd.op import Op, record, register
from ..tensor import Tensor, as_tensor
from ._util import describe, sum_axis

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["linear", "matmul"]


def _mT(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _lift(g: Any, a: Any, b: Any) -> Any:
    """g with the axes that 1-D operands lost put back: (..., m, n) in all cases."""
    if b.ndim == 1:
        g = g[..., None]
    if a.ndim == 1:
        g = g[..., None, :]
    return g


def _outer_t(a: Any, g: Any) -> Any:
    """a.T @ g for 2-D a and g. A single row is an outer product: broadcasting makes it
    several times faster than a matrix product with an inner dimension of 1, and einsum's
    sum-of-products loop 1.5x faster again once the result is large (past ~16k entries;
    below, einsum's set-up costs more)."""
    if a.shape[0] == 1:
        if a.shape[1] * g.shape[1] >= 16384 and isinstance(a, np.ndarray) and \
                isinstance(g, np.ndarray):
            return np.einsum("ij,ik->jk", a, g)
        return a.T * g
    return a.T @ g


def _matmul_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim == 2 and b.ndim == 2:
        return g @ b.T
    b2 = b[:, None] if b.ndim == 1 else b
    ga = _lift(g, a, b) @ _mT(b2)
    return ga[..., 0, :] if a.ndim == 1 else ga  # extra batch axes: the engine sums them


def _matmul_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim == 2 and b.ndim == 2:
        return _outer_t(a, g)
    a2 = a[None, :] if a.ndim == 1 else a
    gb = _mT(a2) @ _lift(g, a, b)
    return gb[..., 0] if b.ndim == 1 else gb


def _matmul_domain(draw: Any, s: Any) -> Any:
    m, k, n = draw(s.integers(1, 3)), draw(s.integers(1, 3)), draw(s.integers(1, 3))
    batch_a, batch_b = draw(s.broadcastable_shapes(2, max_dims=2))
    kind = draw(s.sampled_from(["1d-1d", "1d-nd", "nd-1d", "nd-nd"]))
    sa = (k,) if kind.startswith("1d") else (*batch_a, m, k)
    sb = (k,) if kind.endswith("-1d") else (*batch_b, k, n)
    return [draw(s.arrays(sa)), draw(s.arrays(sb))], {}


MATMUL = Op("matmul", _matmul_a, _matmul_b, domain=_matmul_domain)


@register(MATMUL, numpy=np.matmul)
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules: 1-D operands are vectors, leading axes broadcast.
    Gradient: g @ b^T and a^T @ g (summed over broadcast batch axes)."""
    a = a if isinstance(a, Tensor) else as_tensor(a, "matmul", "operand")
    b = b if isinstance(b, Tensor) else as_tensor(b, "matmul", "operand")
    try:
        out = np.matmul(a.data, b.data)
    except ValueError as e:
        raise ValueError(_matmul_problem(a.data, b.data)) from e
    return record(MATMUL, out, (a, b))


def _matmul_problem(a: np.ndarray, b: np.ndarray) -> str:
    """Why ``a @ b`` is undefined, in the words of the matrix shapes (not numpy's gufunc's)."""
    head = f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied"
    if a.ndim == 0 or b.ndim == 0:
        return f"{head}: an operand is a scalar (0-d); use * for scalar multiplication"
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        where = "the length of the second (a vector)" if b.ndim == 1 else \
            "the second-to-last dim of the second"
        return f"{head} ({k_a} != {k_b}): the last dim of the first must equal {where}"
    return (f"{head}: the batch dims {a.shape[:-2]} and {b.shape[:-2]} do not broadcast "
            f"(dtypes {a.dtype} and {b.dtype})")


def _linear_w(g: Any, ans: Any, x: Any, w: Any, *b: Any) -> Any:
    if x.ndim == 2:
        return _outer_t(x, g)
    if x.ndim == 1:
        return x[:, None] * g[None, :]
    return _outer_t(x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1]))


def _linear_domain(draw: Any, s: Any) -> Any:
    batch = draw(s.shapes(min_dims=0, max_dims=2))
    fin, fout = draw(s.integers(1, 4)), draw(s.integers(1, 4))
    xs = [draw(s.arrays((*batch, fin))), draw(s.arrays((fin, fout)))]
    if draw(s.booleans()):
        xs.append(draw(s.arrays((fout,))))
    return xs, {}


def _linear_b(g: Any, ans: Any, x: Any, w: Any, b: Any) -> Any:
    """db = sum_n dz: over a batch of rows here; for more batch axes the engine sums g."""
    return sum_axis(g, 0) if g.ndim == 2 else g


LINEAR = Op("linear", lambda g, ans, x, w, *b: g @ w.T, _linear_w, _linear_b,
            domain=_linear_domain)


@register(LINEAR)
def linear(x: Any, weight: Any, bias: Optional[Any] = None) -> Tensor:
    """``x @ weight + bias`` as one node: x (..., in), weight (in, out), bias (out,) -> (..., out).

    This is the row-vector convention z = a W + b. Gradients: dx = dz W^T, dW = x^T dz,
    db = sum of dz over the batch.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> x = tg.tensor(np.ones((4, 3)))
        >>> w = tg.tensor(np.ones((3, 2)), requires_grad=True)
        >>> b = tg.tensor(np.zeros(2), requires_grad=True)
        >>> tg.ops.linear(x, w, b).sum().backward()
        >>> w.grad.shape, b.grad            # dW = x^T dz, db = sum of dz over the batch
        ((3, 2), array([4., 4.]))
    """
    x = x if isinstance(x, Tensor) else as_tensor(x)
    w = weight if isinstance(weight, Tensor) else as_tensor(weight)
    if w.data.ndim != 2 or x.data.ndim < 1 or x.data.shape[-1] != w.data.shape[0]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{w.shape} (expected input (..., {w.shape[0] if w.ndim else '?'}) "
                         f"and weight (in, out)); operands: {describe(x, w)}")
    out = np.matmul(x.data, w.data)
    if bias is None:
        return record(LINEAR, out, (x, w))
    b = bias if isinstance(bias, Tensor) else as_tensor(bias)
    if b.data.shape != (w.data.shape[1],):
        raise ValueError(f"linear: bias of shape {b.shape} does not fit weight of shape "
                         f"{w.shape} (expected ({w.shape[1]},))")
    out += b.data
    return record(LINEAR, out, (x, w, b))
