"""One comparison against PyTorch for the layer tests: values, first derivatives and second
derivatives (a Hessian-vector product through ``create_graph``) of the same function, in
float64. Imported by tests that have already called ``pytest.importorskip("torch")``."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import tensorgrad as tg


def compare(fn_tg: Callable[..., Any], fn_torch: Callable[..., Any], arrays: Sequence[Any],
            second: bool = True, rtol: float = 1e-7, atol: float = 1e-9, seed: int = 0) -> None:
    """fn_tg(*tensors) and fn_torch(*torch tensors) agree in value, gradient and (with
    `second`) in the gradient of <gradient, v> for random seeds and v. Float arrays in
    `arrays` require grad; others (indices, masks) are passed as they are to both."""
    import torch

    rng = np.random.default_rng(seed)
    floats = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    xs = [tg.tensor(a, requires_grad=True) if f else a for a, f in zip(arrays, floats)]
    ts = [torch.tensor(a, requires_grad=True) if f else
          (torch.from_numpy(a) if isinstance(a, np.ndarray) else a) for a, f in zip(arrays, floats)]
    out, ref = fn_tg(*xs), fn_torch(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    w = rng.standard_normal(ref.shape)
    dx = [x for x, f in zip(xs, floats) if f]
    dt = [t for t, f in zip(ts, floats) if f]
    gs = tg.grad((out * w).sum(), dx, create_graph=second, allow_unused=True)
    gr = torch.autograd.grad((ref * torch.tensor(w)).sum(), dt, create_graph=second,
                             allow_unused=True)
    for g, r in zip(gs, gr):
        r = np.zeros_like(g.data) if r is None else r.detach().numpy()
        np.testing.assert_allclose(g.data, r, rtol=rtol, atol=atol)
    if not second:
        return
    vs = [rng.standard_normal(x.shape) for x in dx]
    live = [i for i, r in enumerate(gr) if r is not None and r.requires_grad]
    if not live:
        return
    hs = tg.grad(sum((gs[i] * vs[i]).sum() for i in live), dx, allow_unused=True)
    hr = torch.autograd.grad(sum((gr[i] * torch.tensor(vs[i])).sum() for i in live), dt,
                             allow_unused=True)
    for h, r in zip(hs, hr):
        hd = np.zeros(r.shape) if h is None else h.data
        rd = np.zeros_like(hd) if r is None else r.detach().numpy()
        np.testing.assert_allclose(hd, rd, rtol=rtol, atol=atol)
