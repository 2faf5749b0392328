"""Forward values and gradients against PyTorch, when it is installed (skipped otherwise)."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn.functional as F

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4,))
P = RNG.uniform(0.5, 2.0, (3, 4))


def _both(fn_tg, fn_torch, *arrays):
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn_tg(*xs), fn_torch(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-6, atol=1e-7)
    seed = RNG.standard_normal(ref.shape)
    out.backward(seed)
    ref.backward(torch.tensor(seed))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-6, atol=1e-7)


CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, A, B),
    "sub": (lambda a, b: b - a, lambda a, b: b - a, A, B),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, A, B),
    "div": (lambda a, p: a / p, lambda a, p: a / p, A, P),
    "pow": (lambda p, b: p ** b, lambda p, b: p ** b, P, B),
    "scalars": (lambda a: 2.0 - a * 3.0 / 1.5 + 1.0 / (a * a + 1.0) - 2.0 ** a + a ** 2,
                lambda a: 2.0 - a * 3.0 / 1.5 + 1.0 / (a * a + 1.0) - 2.0 ** a + a ** 2, A),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, A, B),
    "matmul_batched": (lambda x, y: x @ y, lambda x, y: x @ y, RNG.standard_normal((2, 3, 4)),
                       RNG.standard_normal((4, 5))),
    "exp_log_sqrt": (lambda p: p.exp() + p.log() * p.sqrt(),
                     lambda p: p.exp() + p.log() * p.sqrt(), P),
    "tanh_sigmoid_relu": (lambda a: a.tanh() + a.sigmoid() * a.relu(),
                          lambda a: a.tanh() + a.sigmoid() * a.relu(), A),
    "abs_clip": (lambda a: a.abs() + a.clip(-0.5, 0.5), lambda a: a.abs() + a.clamp(-0.5, 0.5), A),
    "sum_mean": (lambda a: a.sum(axis=0) + a.mean(axis=0, keepdims=True),
                 lambda a: a.sum(dim=0) + a.mean(dim=0, keepdim=True), A),
    "max_min": (lambda a: a.max(axis=1) - a.min(axis=0).sum(),
                lambda a: a.amax(dim=1) - a.amin(dim=0).sum(), A),
    "var": (lambda a: a.var(axis=1, ddof=1) + a.var(), lambda a: a.var(dim=1) + a.var(
        unbiased=False), A),
    "logsumexp": (lambda a: a.logsumexp(axis=1), lambda a: a.logsumexp(dim=1), A),
    "softmax": (lambda a: F.softmax(a, axis=0) * F.log_softmax(a, axis=1),
                lambda a: torch.softmax(a, 0) * torch.log_softmax(a, 1), A),
    "shape": (lambda a: a.reshape(2, 6).T.flatten()[None, 2:].squeeze(0).unsqueeze(1),
              lambda a: a.reshape(2, 6).T.flatten()[None, 2:].squeeze(0).unsqueeze(1), A),
    "transpose_swap": (lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2),
                       RNG.standard_normal((2, 3, 4))),
    "expand": (lambda b: b.reshape(4, 1).expand(4, 3), lambda b: b.reshape(4, 1).expand(4, 3), B),
    "index": (lambda a: a[[0, 0, 2], 1:] * a[a.data > 0].sum(),
              lambda a: a[[0, 0, 2], 1:] * a[a > 0].sum(), A),
    "cat_stack": (lambda a: tg.concatenate([a, a * 2], axis=1) + tg.stack([a, a], 1).sum(1).sum(),
                  lambda a: torch.cat([a, a * 2], 1) + torch.stack([a, a], 1).sum(1).sum(), A),
    "where_maximum": (lambda a, b: tg.where(a > 0, a, b) + tg.maximum(a, b) - tg.minimum(a, 0.1),
                      lambda a, b: torch.where(a > 0, a, b) + torch.maximum(a, b)
                      - torch.minimum(a, torch.tensor(0.1, dtype=torch.float64)), A, B),
    "gelu_leaky": (lambda a: F.gelu(a) + F.leaky_relu(a, 0.1) + F.gelu(a, approximate="tanh"),
                   lambda a: torch.nn.functional.gelu(a) + torch.nn.functional.leaky_relu(a, 0.1)
                   + torch.nn.functional.gelu(a, approximate="tanh"), A),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn_tg, fn_torch, *arrays = CASES[name]
    if name == "gelu_leaky":  # our erf is a 1.5e-7 approximation
        xs = [tg.tensor(a) for a in arrays]
        ts = [torch.tensor(a) for a in arrays]
        np.testing.assert_allclose(fn_tg(*xs).data, fn_torch(*ts).numpy(), atol=1e-6)
        return
    _both(fn_tg, fn_torch, *arrays)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(reduction):
    tf = torch.nn.functional
    z = RNG.standard_normal((5, 3)) * 3
    t = np.array([0, 2, 1, 1, 0])
    probs = RNG.dirichlet(np.ones(3), size=5)
    y01 = RNG.uniform(0, 1, (5, 3))
    p = RNG.uniform(0.05, 0.95, (5, 3))
    cases = [
        (lambda a: F.cross_entropy(a, t, reduction=reduction),
         lambda a: tf.cross_entropy(a, torch.tensor(t), reduction=reduction), z),
        (lambda a: F.cross_entropy(a, probs, reduction=reduction),
         lambda a: tf.cross_entropy(a, torch.tensor(probs), reduction=reduction), z),
        (lambda a: F.binary_cross_entropy_with_logits(a, y01, reduction=reduction),
         lambda a: tf.binary_cross_entropy_with_logits(a, torch.tensor(y01), reduction=reduction),
         z),
        (lambda a: F.binary_cross_entropy(a, y01, reduction=reduction),
         lambda a: tf.binary_cross_entropy(a, torch.tensor(y01), reduction=reduction), p),
        (lambda a: F.mse_loss(a, y01, reduction=reduction),
         lambda a: tf.mse_loss(a, torch.tensor(y01), reduction=reduction), z),
        (lambda a: F.nll_loss(F.log_softmax(a, axis=1), t, reduction=reduction),
         lambda a: tf.nll_loss(torch.log_softmax(a, 1), torch.tensor(t), reduction=reduction), z),
    ]
    for fn_tg, fn_torch, arr in cases:
        _both(fn_tg, fn_torch, arr)


def test_extreme_logits_match_torch():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])
    t = np.array([1, 0])
    _both(lambda a: F.cross_entropy(a, t), lambda a: torch.nn.functional.cross_entropy(
        a, torch.tensor(t)), z)
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]])
    _both(lambda a: F.binary_cross_entropy_with_logits(a, y),
          lambda a: torch.nn.functional.binary_cross_entropy_with_logits(a, torch.tensor(y)), z)


def test_linear_layer_matches_torch_with_transposed_weight():
    tg.manual_seed(0)
    lin = tg.nn.Linear(4, 3)
    ref = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(lin.weight.data.T))
        ref.bias.copy_(torch.tensor(lin.bias.data))
    x = RNG.standard_normal((5, 4))
    out = lin(tg.tensor(x.astype(np.float32)))
    np.testing.assert_allclose(out.data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-5)


def test_second_derivative_matches_torch():
    a = RNG.standard_normal(4)
    x = tg.tensor(a, requires_grad=True)
    (g,) = tg.grad((x.tanh() * x.sigmoid()).sum(), x, create_graph=True)
    (h,) = tg.grad((g * g).sum(), x)
    tx = torch.tensor(a, requires_grad=True)
    (tgr,) = torch.autograd.grad((tx.tanh() * tx.sigmoid()).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad((tgr * tgr).sum(), tx)
    np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-6)
