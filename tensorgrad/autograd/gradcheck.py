"""Check analytic gradients against central finite differences (a public feature).

``gradcheck(fn, inputs)`` builds the full Jacobian of every output with respect to every input
that requires grad, twice: row by row with the engine (one backward pass per output element)
and column by column with central differences (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
Inputs must be float64: in float32 a difference quotient with eps = 1e-6 is mostly rounding.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..tensor import Tensor
from . import grad_mode
from .engine import grad as _grad


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with finite differences (the message says where)."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(outs: Any) -> list:
    return [o for o in _as_tuple(outs) if isinstance(o, Tensor) and o.data.dtype.kind == "f"]


def _check_inputs(name: str, inputs: tuple) -> list:
    diff = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.data.dtype != np.float64:
                raise TypeError(
                    f"{name}: input {i} has dtype {x.data.dtype}; finite differences need "
                    "float64 inputs (use x.double() or dtype=np.float64)"
                )
            diff.append(i)
    if not diff:
        raise ValueError(f"{name}: no input requires grad, so there is nothing to check")
    return diff


def _numeric_columns(fn: Callable, inputs: tuple, k: int, eps: float) -> np.ndarray:
    """d(all outputs, flattened)/d(input k), shape (n_out, input size), by central differences.

    The input is perturbed in place and restored, so tensors that `fn` reaches by other means
    than its arguments (a module's parameters) are perturbed too.
    """
    x = inputs[k]
    if not (x.data.flags.writeable and x.data.flags.c_contiguous):
        x.data = np.array(x.data)
    flat = x.data.reshape(-1)  # a view: writes reach x.data
    cols = []
    with grad_mode.no_grad():
        for i in range(flat.size):
            orig = flat[i]
            vals = []
            for step in (eps, -eps):
                flat[i] = orig + step
                try:  # copy the outputs before restoring: they may be views of the input
                    outs = _float_outputs(fn(*inputs))
                    vals.append(np.concatenate([o.data.ravel().astype(np.float64) for o in outs])
                                if outs else np.zeros(0))
                finally:
                    flat[i] = orig
            cols.append((vals[0] - vals[1]) / (2 * eps))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _analytic_rows(outs: list, inputs: tuple, diff: list) -> list:
    """d(all outputs, flattened)/d(input k) for each k in diff, by one backward per output."""
    sizes = [o.data.size for o in outs]
    n_out = int(np.sum(sizes))
    jac = [np.zeros((n_out, inputs[k].data.size)) for k in diff]
    row = 0
    for _j, o in enumerate(outs):
        for e in range(o.data.size):
            if o.requires_grad:
                seed = np.zeros(o.data.shape, dtype=o.data.dtype)
                seed.flat[e] = 1.0
                gs = _grad([o], [inputs[k] for k in diff], grad_outputs=[seed],
                           retain_graph=True, allow_unused=True)
                for m, (k, g) in enumerate(zip(diff, gs)):
                    if g is not None:
                        if g.shape != inputs[k].shape or g.dtype != inputs[k].dtype:
                            raise GradcheckError(
                                f"gradcheck: gradient for input {k} has shape {g.shape} "
                                f"{g.dtype}, but the input is {inputs[k].shape} "
                                f"{inputs[k].dtype}")
                        jac[m][row] = g.data.ravel()
            row += 1
    return jac


def gradcheck(fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True,
              names: Optional[Sequence[str]] = None) -> bool:
    """True if the engine's gradient of ``fn(*inputs)`` matches central finite differences.

    `fn` returns a Tensor or a tuple of Tensors; every float64 input with requires_grad is
    checked, element by element: ``|analytic - numeric| <= atol + rtol * |numeric|``. On a
    mismatch raises `GradcheckError` naming the input, the worst index, both values and both
    errors (or returns False with ``raise_exception=False``). `names` labels the inputs in
    that message (e.g. parameter names).

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> x = tg.tensor(np.array([0.3, -1.2]), requires_grad=True)
        >>> tg.gradcheck(lambda t: (t.tanh() * t).sum(), [x])
        True
    """
    inputs = _as_tuple(inputs)
    diff = _check_inputs("gradcheck", inputs)
    with grad_mode.enable_grad():
        outs = _float_outputs(fn(*inputs))
    analytic = _analytic_rows(outs, inputs, diff)
    for k, a in zip(diff, analytic):
        if inputs[k].data.size == 0:
            continue
        n = _numeric_columns(fn, inputs, k, eps)
        if n.shape != a.shape:
            raise GradcheckError(f"gradcheck: outputs changed size when input {k} was perturbed")
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        if excess.size and (excess.max() > 0 or not np.all(np.isfinite(a))):
            bad = np.where(np.isfinite(excess), excess, np.inf)
            r, c = np.unravel_index(int(np.argmax(bad)), bad.shape)
            idx = np.unravel_index(c, inputs[k].shape) if inputs[k].shape else ()
            av, nv = float(a[r, c]), float(n[r, c])  # plain numbers in the message
            ab = abs(av - nv)
            rel = ab / abs(nv) if nv != 0 else float("inf")
            label = f"input {k}" if names is None else f"{names[k]!r} (input {k})"
            msg = (f"gradcheck: gradient mismatch for {label} (shape {inputs[k].shape}) at "
                   f"index {tuple(int(i) for i in idx)}, output element {r}: analytic {av!r}, "
                   f"numeric {nv!r}; absolute error {ab:.3g} (atol {atol}), relative error "
                   f"{rel:.3g} (rtol {rtol})")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Any, grad_outputs: Optional[Sequence[Any]] = None,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """``gradcheck`` of the first derivatives: checks second derivatives of `fn`.

    The first derivative ``v -> v^T J(x)`` (with `grad_outputs` v, random when not given) is
    built with ``create_graph=True`` and checked against finite differences in x and v.
    """
    inputs = _as_tuple(inputs)
    diff = _check_inputs("gradgradcheck", inputs)
    with grad_mode.enable_grad():
        outs = _float_outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        vs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    else:
        vs = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, np.float64), requires_grad=True)
              for v in _as_tuple(grad_outputs)]
    n_in = len(inputs)
    used = [i for i, o in enumerate(outs) if o.requires_grad]

    def first_derivative(*args: Any) -> tuple:
        xs, v = args[:n_in], args[n_in:]
        with grad_mode.enable_grad():
            os_ = _float_outputs(fn(*xs))
            os_ = [os_[i] for i in used]
            if not os_:
                return ()
            gs = _grad(os_, [xs[k] for k in diff], grad_outputs=[v[i] for i in used],
                       create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, (*inputs, *vs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
