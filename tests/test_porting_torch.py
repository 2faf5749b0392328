"""The porting ops, losses and utilities against PyTorch (float64: values, gradients and second
derivatives), when PyTorch is installed; the same code spelled the PyTorch way in both."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4, 5))

# Each function is written once and run on a tensorgrad tensor and on a torch tensor.
CASES = {
    "cumsum": lambda x: x.cumsum(dim=1) * x,
    "sort": lambda x: x.sort(dim=-1, descending=True)[0] * x,
    "topk": lambda x: x.topk(2, dim=1).values.exp(),
    "topk_smallest": lambda x: x.topk(3, dim=0, largest=False)[0] ** 2,
    "repeat": lambda x: x.repeat(1, 2, 3).sum() * x.repeat(2, 1, 1, 1),
    "clone": lambda x: x.clone() * x,
    "max_dim": lambda x: x.max(dim=1)[0] * x.min(1, keepdim=True).values.sum(),
    "max_dim_keepdim": lambda x: x.max(dim=2, keepdim=True).values * x,
    "t_view_permute": lambda x: x[0].t().view(5, 4) @ x.permute(2, 1, 0)[0],
    "std_var_unbiased": lambda x: x.std(dim=1, unbiased=True) * x.var(dim=(0, 1), unbiased=False,
                                                                      keepdim=True),
    "std_correction": lambda x: x.std(correction=0) + x.var(dim=-1, correction=1),
    "softmax_dim": lambda x: x.softmax(dim=1) * x.log_softmax(dim=-1),
    "logsumexp_dim": lambda x: x.logsumexp(dim=(0, 1)),
    "clamp": lambda x: x.clamp(min=-0.5, max=0.5) * x,
    "cat_stack": lambda x: (x.sum(dim=0).unsqueeze(dim=0) * x).squeeze(dim=0),
}




@pytest.mark.parametrize("name", sorted(CASES))
def test_values_gradients_and_second_derivatives_match_torch(name):
    fn = CASES[name]
    x = tg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    out, ref = fn(x), fn(tx)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = RNG.standard_normal(ref.shape)
    (g,) = tg.grad(out, [x], grad_outputs=[seed], create_graph=True)
    (tg_ref,) = torch.autograd.grad(ref, [tx], grad_outputs=torch.tensor(seed),
                                    create_graph=True)
    np.testing.assert_allclose(g.data, tg_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = RNG.standard_normal(X.shape)
    if not tg_ref.requires_grad:  # piecewise linear in x: no second derivative in torch either
        return
    (h,) = tg.grad((g * v).sum(), [x], allow_unused=True)
    (h_ref,) = torch.autograd.grad((tg_ref * torch.tensor(v)).sum(), [tx], allow_unused=True)
    h_ref = np.zeros(X.shape) if h_ref is None else h_ref.numpy()
    h = np.zeros(X.shape) if h is None else h.data
    np.testing.assert_allclose(h, h_ref, rtol=1e-9, atol=1e-11)


def test_indices_and_argmax_match_torch():
    x, tx = tg.tensor(X), torch.tensor(X)
    for a, b in [(x.max(dim=1).indices, tx.max(dim=1).indices),
                 (x.sort(dim=0)[1], tx.sort(dim=0)[1]),
                 (x.topk(2, dim=-1).indices, tx.topk(2, dim=-1).indices),
                 (x.argmax(dim=2, keepdim=True), tx.argmax(dim=2, keepdim=True)),
                 (x.argmin(), tx.argmin())]:
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert x.size() == tuple(tx.size()) and x.size(1) == tx.size(1) and x.numel() == tx.numel()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [
    {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.1},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.2}, {"ignore_index": -100},
])
def test_cross_entropy_and_nll_options_match_torch(reduction, options):
    z = RNG.standard_normal((6, 4))
    y = np.array([0, 1, 2, 3, 1, 2])
    w = RNG.uniform(0.5, 2.0, 4)
    kw = dict(options)
    if kw.pop("weight", False):
        kw["weight"] = w
    tkw = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kw.items()}
    for fn, tfn, extra in [(F.cross_entropy, torch.nn.functional.cross_entropy, True),
                           (F.nll_loss, torch.nn.functional.nll_loss, False)]:
        if not extra and "label_smoothing" in kw:
            continue
        x, tx = tg.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
        a = x if extra else F.log_softmax(x, dim=1)
        ta = tx if extra else torch.log_softmax(tx, 1)
        out = fn(a, y, reduction=reduction, **kw)
        ref = tfn(ta, torch.tensor(y), reduction=reduction, **tkw)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    module = nn.CrossEntropyLoss(reduction=reduction, **kw)
    ref_module = torch.nn.CrossEntropyLoss(reduction=reduction, **tkw)
    np.testing.assert_allclose(module(tg.tensor(z), y).data,
                               ref_module(torch.tensor(z), torch.tensor(y)).numpy(), rtol=1e-10)


def test_cross_entropy_probability_targets_with_weight_and_smoothing_match_torch():
    z = RNG.standard_normal((5, 3))
    p = RNG.dirichlet(np.ones(3), 5)
    w = RNG.uniform(0.5, 2.0, 3)
    x, tx = tg.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    out = F.cross_entropy(x, p, weight=w, label_smoothing=0.3)
    ref = torch.nn.functional.cross_entropy(tx, torch.tensor(p), weight=torch.tensor(w),
                                            label_smoothing=0.3)
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-10)
    out.backward()
    ref.backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    grads = [RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(4)
             .astype(np.float32)]
    ps = [nn.Parameter(np.zeros_like(g)) for g in grads]
    tps = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = g.copy(), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-6)
    for p, tp in zip(ps, tps):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_value_matches_torch():
    g = RNG.standard_normal((4, 4))
    p, tp = nn.Parameter(np.zeros((4, 4))), torch.nn.Parameter(torch.zeros(4, 4).double())
    p.grad, tp.grad = g.copy(), torch.tensor(g)
    nn.utils.clip_grad_value_([p], 0.3)
    torch.nn.utils.clip_grad_value_([tp], 0.3)
    np.testing.assert_array_equal(p.grad, tp.grad.numpy())
