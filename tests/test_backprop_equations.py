"""The backpropagation equations, checked three ways on random MLPs (float64):

    autograd through nn.Sequential  ==  tensorgrad.reference's hand-derived dW, db (1e-10)
                                    ==  central finite differences

for every hidden activation (sigmoid, tanh, ReLU) and every matched output/loss pair
(sigmoid + binary cross-entropy from logits, softmax + cross-entropy, identity + half squared
error), plus dz^L = a^L - y for those pairs, taken directly with tg.grad.

The reference's reduction='mean' divides the summed loss by the batch size N (for BCE and
squared error PyTorch's 'mean' would divide by N * K), so the nn side spells the same loss
out from the 'sum' form.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F
from tensorgrad import reference

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
OUTPUTS = ["sigmoid", "softmax", "identity"]


def _target(rng, output, n, k, labels):
    if output == "softmax":
        return rng.integers(0, k, size=n) if labels else rng.dirichlet(np.ones(k), size=n)
    if output == "sigmoid":
        return rng.uniform(0, 1, size=(n, k))
    return rng.normal(size=(n, k))


@st.composite
def problems(draw):
    depth = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 6), min_size=depth + 1, max_size=depth + 1))
    n = draw(st.integers(1, 8))
    hidden = draw(st.sampled_from(sorted(ACTIVATIONS)))
    output = draw(st.sampled_from(OUTPUTS))
    reduction = draw(st.sampled_from(["mean", "sum"]))
    labels = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = [(rng.uniform(-1.5, 1.5, (a, b)), rng.uniform(-0.5, 0.5, b))
              for a, b in zip(sizes[:-1], sizes[1:])]
    X = rng.normal(size=(n, sizes[0]))
    y = _target(rng, output, n, sizes[-1], labels)
    return params, X, y, hidden, output, reduction


def build(params, hidden):
    """nn.Sequential(Linear, act, ..., Linear) holding copies of `params` (float64)."""
    layers = []
    for l, (W, _) in enumerate(params):
        if l:
            layers.append(ACTIVATIONS[hidden]())
        layers.append(nn.Linear(*W.shape, dtype=np.float64))
    net = nn.Sequential(*layers)
    net.load_state_dict({f"{2 * l}.{k}": v for l, (W, b) in enumerate(params)
                         for k, v in (("weight", W), ("bias", b))})
    return net


def loss_of(net, X, y, output, reduction):
    z = net(tg.tensor(X))
    n = X.shape[0]
    if output == "softmax":
        return F.cross_entropy(z, y, reduction)  # its 'mean' is over the N samples already
    if output == "sigmoid":
        total = F.binary_cross_entropy_with_logits(z, y, reduction="sum")
    else:
        total = 0.5 * F.mse_loss(z, y, reduction="sum")
    return total / n if reduction == "mean" else total


def hidden_preactivations(params, X, hidden):
    a, zs = X, []
    for W, b in params:
        z = a @ W + b
        zs.append(z)
        a = reference.ACTIVATIONS[hidden].sigma(z)
    return zs[:-1]


def finite_differences(net, X, y, output, reduction, eps=1e-6):
    grads = []
    with tg.no_grad():
        for p in net.parameters():
            g = np.zeros_like(p.data)
            for i in range(p.data.size):
                old = p.data.flat[i]
                p.data.flat[i] = old + eps
                up = loss_of(net, X, y, output, reduction).item()
                p.data.flat[i] = old - eps
                down = loss_of(net, X, y, output, reduction).item()
                p.data.flat[i] = old
                g.flat[i] = (up - down) / (2 * eps)
            grads.append(g)
    return grads


@settings(max_examples=80, deadline=None)
@given(problems())
def test_autograd_equals_hand_derived_backprop_and_finite_differences(problem):
    params, X, y, hidden, output, reduction = problem
    if hidden == "relu":
        # Finite differences must not straddle ReLU's kink.
        assume(all(np.abs(z).min() > 1e-3 for z in hidden_preactivations(params, X, hidden)))
    net = build(params, hidden)
    loss = loss_of(net, X, y, output, reduction)
    loss.backward()
    autograd = [p.grad for p in net.parameters()]

    ref_loss, ref_grads = reference.backprop(params, X, y, hidden, output, reduction)
    np.testing.assert_allclose(loss.item(), ref_loss, rtol=1e-10, atol=1e-13)
    hand = [g for pair in ref_grads for g in pair]  # dW^1, db^1, dW^2, ...
    assert len(hand) == len(autograd)
    for a, h in zip(autograd, hand):
        assert a.shape == h.shape and a.dtype == h.dtype == np.float64
        np.testing.assert_allclose(a, h, rtol=1e-10, atol=1e-13)

    numeric = finite_differences(net, X, y, output, reduction)
    for a, h, d in zip(autograd, hand, numeric):
        np.testing.assert_allclose(a, d, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(h, d, rtol=1e-5, atol=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 6), st.sampled_from(OUTPUTS), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_output_delta_is_activation_minus_target(n, k, output, labels, seed):
    """dz^L = (a^L - y) / N for each matched pair, with 'mean' over the N samples."""
    rng = np.random.default_rng(seed)
    z_np = rng.normal(scale=3.0, size=(n, k))
    y = _target(rng, output, n, k, labels)
    z = tg.tensor(z_np, requires_grad=True)
    if output == "softmax":
        loss = F.cross_entropy(z, y)
        a = reference.softmax(z_np)
        y_dense = np.eye(k)[y] if y.ndim == 1 else y
    elif output == "sigmoid":
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="sum") / n
        a, y_dense = reference.sigmoid(z_np), y
    else:
        loss = 0.5 * ((z - y) ** 2).sum() / n
        a, y_dense = z_np, y
    (dz,) = tg.grad(loss, [z])
    np.testing.assert_allclose(dz.data, (a - y_dense) / n, rtol=1e-10, atol=1e-15)
    assert z.grad is None  # tg.grad leaves .grad alone


def test_the_comparison_can_fail():
    """A gradient off by one part in 1e8, or from the wrong sigma', is caught."""
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 4)), rng.normal(size=4)),
              (rng.normal(size=(4, 2)), rng.normal(size=2))]
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=5)
    net = build(params, "tanh")
    loss_of(net, X, y, "softmax", "mean").backward()
    dW1 = net[0].weight.grad
    _, good = reference.backprop(params, X, y, "tanh", "softmax")
    np.testing.assert_allclose(dW1, good[0][0], rtol=1e-10, atol=1e-13)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(dW1, good[0][0] * (1 + 1e-8), rtol=1e-10, atol=1e-13)
    _, wrong = reference.backprop(params, X, y, "sigmoid", "softmax")
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(dW1, wrong[0][0], rtol=1e-10, atol=1e-13)
