"""`einsum`: numpy's Einstein summation, differentiable in every operand (and again).

The gradient of operand i is itself an einsum: the incoming gradient (with the output's
subscripts) contracted with every other operand, producing operand i's subscripts. Two cases
need a constant operand so that numpy can write that equation: a subscript repeated within
operand i (a diagonal, as in ``'ii->i'``) gets an identity matrix linking it to a fresh letter,
and a subscript that operand i alone carries (summed away, as in ``'ij->i'``) gets a vector of
ones, which broadcasts the gradient along it.
"""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..autograd.op import VariadicOp, record, register
from ..tensor import Tensor, as_tensor

# The public ops of this module: tensorgrad.ops and tensorgrad export exactly these.
__all__ = ["einsum"]


def _explicit(subscripts: str, shapes: list) -> tuple:
    """(terms, output): `subscripts` with the ellipsis spelled out in letters and the implicit
    output (numpy's rule: broadcast axes, then the letters used once, sorted) made explicit."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a str, got {type(subscripts).__name__}")
    subs = subscripts.replace(" ", "")
    lhs, arrow, out = subs.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operand(s), but "
                         f"{len(shapes)} were given (shapes {shapes})")
    letters = set(subs) - set(".,->")
    if not all(c in string.ascii_letters for c in letters):
        raise ValueError(f"einsum: subscripts {subscripts!r} may use only letters, ',', '->' "
                         "and '...'")
    free = [c for c in string.ascii_letters if c not in letters]
    ell_dims = [len(shape) - len(t.replace("...", "")) for t, shape in zip(terms, shapes)
                if "..." in t]
    n_ell = max(ell_dims, default=0)
    ell = "".join(free[:max(n_ell, 0)])
    full: list = []
    for t, shape in zip(terms, shapes):
        if "..." in t:
            n = len(shape) - len(t.replace("...", ""))
            t = t.replace("...", ell[len(ell) - n:] if n > 0 else "")
        if len(t) != len(shape):
            raise ValueError(f"einsum: subscripts {subscripts!r} give operand {len(full)} "
                             f"{len(t)} axes but it has shape {shape}")
        full.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:
        once = [c for c in sorted(letters) if sum(t.count(c) for t in terms) == 1]
        out = ell + "".join(once)
    return full, out


def _grad_equation(i: int, terms: list, out: str, shapes: list) -> tuple:
    """(equation, constants) whose einsum of (g, other operands..., constants...) is the
    gradient of operand i."""
    sizes = {c: n for t, shape in zip(terms, shapes) for c, n in zip(t, shape)}
    used = set("".join(terms) + out)
    fresh = iter(c for c in string.ascii_letters if c not in used)
    target, seen, consts, const_terms = "", set(), [], []
    for c, n in zip(terms[i], shapes[i]):
        if c in seen:  # a diagonal: a fresh letter tied to c by the identity
            f = next(fresh)
            target += f
            consts.append(np.eye(n))
            const_terms.append(c + f)
        else:
            target += c
            seen.add(c)
    others = [t for j, t in enumerate(terms) if j != i]
    elsewhere = set(out + "".join(others) + "".join(const_terms))
    for c in dict.fromkeys(terms[i]):
        if c not in elsewhere:  # summed away by operand i alone: broadcast back with ones
            consts.append(np.ones(sizes[c]))
            const_terms.append(c)
    return ",".join([out, *others, *const_terms]) + "->" + target, consts


def _compute(equation: str, operands: list) -> Any:
    """numpy's einsum on arrays; the recorded `einsum` when a Tensor is among them."""
    if any(isinstance(a, Tensor) for a in operands):
        return einsum(equation, *operands)
    return np.einsum(equation, *operands, optimize=len(operands) > 1)


def _rule(i: int, g: Any, ans: Any, *xs: Any, subscripts: str) -> Any:
    shapes = [x.shape for x in xs]
    terms, out = _explicit(subscripts, shapes)
    equation, consts = _grad_equation(i, terms, out, shapes)
    consts = [c.astype(g.dtype) for c in consts]
    return _compute(equation, [g, *[x for j, x in enumerate(xs) if j != i], *consts])


_PATTERNS = ["ij,jk->ik", "ij,jk", "i,i->", "i,j->ij", "ii->i", "ii", "ij->", "ij->j",
             "ijk->kij", "bij,bjk->bik", "...ij,...jk->...ik", "ij,ij->ij", "iij->ji",
             "ij,jk,kl->il", "i->", "ab,b->a", "...i->...", "i,i,i->i"]


def _domain(draw: Any, s: Any) -> Any:
    subs = draw(s.sampled_from(_PATTERNS))
    sizes = {c: draw(s.integers(1, 3)) for c in "abijkl"}
    lhs = subs.partition("->")[0].split(",")
    batch = draw(s.broadcastable_shapes(len(lhs), max_dims=2, max_side=2))
    shapes = [(*b, *(sizes[c] for c in t.replace("...", ""))) if "..." in t
              else tuple(sizes[c] for c in t) for t, b in zip(lhs, batch)]
    return [draw(s.arrays(shape)) for shape in shapes], {"subscripts": subs}


EINSUM = VariadicOp("einsum", _rule, domain=_domain)


@register(EINSUM, call=lambda *xs, subscripts: einsum(subscripts, *xs), numpy=np.einsum)
def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation with numpy's subscripts (``'ij,jk->ik'``, implicit output,
    ``'...'`` broadcasting, repeated letters for diagonals). Differentiable in every operand:
    each gradient is an einsum of g with the other operands.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> a = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        >>> b = tg.tensor(np.ones((3, 2)), requires_grad=True)
        >>> c = tg.einsum("ij,jk->ik", a, b)        # a @ b
        >>> c.data
        array([[ 3.,  3.],
               [12., 12.]])
        >>> c.sum().backward()
        >>> b.grad                                   # a^T @ ones
        array([[3., 3.],
               [5., 5.],
               [7., 7.]])
    """
    xs = tuple(as_tensor(x) for x in operands)
    terms, out = _explicit(subscripts, [x.shape for x in xs])
    equation = ",".join(terms) + "->" + out
    try:
        data = np.einsum(equation, *[x.data for x in xs], optimize=len(xs) > 1)
    except ValueError as e:
        raise ValueError(f"einsum: {e} (subscripts {subscripts!r}, operands of shapes "
                         f"{[x.shape for x in xs]})") from e
    return record(EINSUM, data, xs, {"subscripts": equation})
