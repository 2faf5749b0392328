"""Losses: values in every reduction against plain numpy formulas, gradchecks, the textbook
gradients of the fused losses, and stability at logits of magnitude 1e4."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)
N, C = 5, 4
X = rng.normal(size=(N, C))
Y = rng.normal(size=(N, C))
P = rng.uniform(0.05, 0.95, size=(N, C))
T = rng.uniform(size=(N, C))
LABELS = np.array([0, 3, 1, 1, 2])
SOFT = rng.dirichlet(np.ones(C), size=N)


def _logsumexp(z):
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def _log_softmax(z):
    return z - _logsumexp(z)[..., None]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _reduce(per, reduction):
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def _huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


# name -> (function(input, target, reduction), input, target, numpy per-element loss)
CASES = {
    "mse": (F.mse_loss, X, Y, (X - Y) ** 2),
    "l1": (F.l1_loss, X, Y, np.abs(X - Y)),
    "smooth_l1": (F.smooth_l1_loss, X, Y, _huber(X - Y, 1.0)),
    "smooth_l1_beta": (lambda x, y, r: F.smooth_l1_loss(x, y, r, beta=0.5), X, Y,
                       _huber(X - Y, 0.5) / 0.5),
    "huber": (lambda x, y, r: F.huber_loss(x, y, r, delta=0.7), X, Y, _huber(X - Y, 0.7)),
    "cross_entropy_labels": (F.cross_entropy, X, LABELS,
                             -_log_softmax(X)[np.arange(N), LABELS]),
    "cross_entropy_probs": (F.cross_entropy, X, SOFT, -(SOFT * _log_softmax(X)).sum(axis=1)),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, X, T,
                        -(T * np.log(_sigmoid(X)) + (1 - T) * np.log(1 - _sigmoid(X)))),
    "bce": (F.binary_cross_entropy, P, T, -(T * np.log(P) + (1 - T) * np.log(1 - P))),
    "nll": (F.nll_loss, _log_softmax(X), LABELS, -_log_softmax(X)[np.arange(N), LABELS]),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_loss_matches_numpy(name, reduction):
    fn, x, y, per = CASES[name]
    out = fn(tg.tensor(x), y, reduction)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, _reduce(per, reduction), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_loss_gradcheck(name, reduction):
    fn, x, y, _ = CASES[name]
    xt = tg.tensor(x, requires_grad=True)
    if y.dtype.kind == "f":  # float targets are differentiable too
        yt = tg.tensor(y, requires_grad=True)
        assert tg.gradcheck(lambda a, b: fn(a, b, reduction), [xt, yt])
    else:
        assert tg.gradcheck(lambda a: fn(a, y, reduction), [xt])


LOSS_MODULES = [
    (nn.MSELoss, "mse"), (nn.L1Loss, "l1"), (nn.SmoothL1Loss, "smooth_l1"),
    (nn.CrossEntropyLoss, "cross_entropy_labels"), (nn.CrossEntropyLoss, "cross_entropy_probs"),
    (nn.BCEWithLogitsLoss, "bce_with_logits"), (nn.BCELoss, "bce"), (nn.NLLLoss, "nll"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("cls, name", LOSS_MODULES)
def test_loss_modules_call_the_functions(cls, name, reduction):
    fn, x, y, _ = CASES[name]
    module = cls(reduction=reduction)
    np.testing.assert_array_equal(module(tg.tensor(x), y).data, fn(tg.tensor(x), y, reduction).data)


def test_huber_module_and_reprs():
    x, y = tg.tensor(X), Y
    np.testing.assert_array_equal(nn.HuberLoss(delta=0.7)(x, y).data,
                                  F.huber_loss(x, y, delta=0.7).data)
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"


def test_smooth_l1_with_beta_zero_is_l1():
    np.testing.assert_allclose(F.smooth_l1_loss(tg.tensor(X), Y, beta=0.0).data,
                               F.l1_loss(tg.tensor(X), Y).data)


# ----------------------------------------------------------------------------- gradients
def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    z = tg.tensor(X, requires_grad=True)
    F.cross_entropy(z, LABELS).backward()
    onehot = np.eye(C)[LABELS]
    p = np.exp(_log_softmax(X))
    np.testing.assert_allclose(z.grad, (p - onehot) / N, rtol=1e-12, atol=1e-15)
    z.grad = None
    F.cross_entropy(z, LABELS, reduction="sum").backward()
    np.testing.assert_allclose(z.grad, p - onehot, rtol=1e-12, atol=1e-15)


def test_bce_with_logits_gradient_is_sigmoid_minus_target_over_size():
    z = tg.tensor(X, requires_grad=True)
    F.binary_cross_entropy_with_logits(z, T).backward()
    np.testing.assert_allclose(z.grad, (_sigmoid(X) - T) / X.size, rtol=1e-12, atol=1e-15)


def test_bce_of_sigmoid_matches_bce_with_logits():
    z = tg.tensor(X, requires_grad=True)
    F.binary_cross_entropy(F.sigmoid(z), T).backward()
    g = z.grad
    z.grad = None
    F.binary_cross_entropy_with_logits(z, T).backward()
    np.testing.assert_allclose(g, z.grad, rtol=1e-10)


def test_nll_of_log_softmax_is_cross_entropy():
    z = tg.tensor(X, requires_grad=True)
    F.nll_loss(F.log_softmax(z), LABELS).backward()
    g = z.grad
    z.grad = None
    F.cross_entropy(z, LABELS).backward()
    np.testing.assert_allclose(g, z.grad, rtol=1e-12, atol=1e-15)


def test_mse_gradient():
    x = tg.tensor(X, requires_grad=True)
    F.mse_loss(x, Y).backward()
    np.testing.assert_allclose(x.grad, 2 * (X - Y) / X.size, rtol=1e-12)


def test_single_sample_forms():
    z = tg.tensor(X[0])
    np.testing.assert_allclose(F.cross_entropy(z, 2).data, -_log_softmax(X[0])[2])
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(z), 2).data, -_log_softmax(X[0])[2])


# ----------------------------------------------------------------------------- stability
BIG = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [1e4, 1e4, -1e4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", ["ce", "ce_probs", "nll", "bce_logits", "bce_of_sigmoid", "mse"])
def test_losses_finite_at_huge_logits(loss, reduction, dtype):
    y_bin = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.5]])
    labels = np.array([1, 0, 2])
    fns = {
        "ce": lambda z: F.cross_entropy(z, labels, reduction),
        "ce_probs": lambda z: F.cross_entropy(z, y_bin / y_bin.sum(1, keepdims=True), reduction),
        "nll": lambda z: F.nll_loss(F.log_softmax(z), labels, reduction),
        "bce_logits": lambda z: F.binary_cross_entropy_with_logits(z, y_bin, reduction),
        "bce_of_sigmoid": lambda z: F.binary_cross_entropy(F.sigmoid(z), y_bin, reduction),
        "mse": lambda z: F.mse_loss(z, y_bin, reduction),
    }
    z = tg.tensor(BIG.astype(dtype), requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        out = fns[loss](z)
        out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(z.grad))
    assert z.grad.dtype == dtype


def test_huge_logit_values_are_right():
    z = tg.tensor(np.array([[1e4, -1e4]]))
    assert F.cross_entropy(z, [0]).item() == 0.0
    assert F.cross_entropy(z, [1]).item() == pytest.approx(2e4)
    assert F.binary_cross_entropy_with_logits(z, [[0.0, 1.0]]).item() == pytest.approx(1e4)


def test_bce_clamps_the_log_at_minus_100_like_pytorch():
    p = tg.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(p, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0])
    assert np.all(np.isfinite(p.grad))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss,
                                F.binary_cross_entropy, F.binary_cross_entropy_with_logits,
                                F.cross_entropy])
def test_unknown_reduction(fn):
    with pytest.raises(ValueError, match="reduction"):
        fn(tg.tensor(P), T, reduction="avg")


def test_loss_module_checks_reduction():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="batchmean")


def test_shape_mismatch_is_refused_not_broadcast():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        F.mse_loss(tg.zeros(4, 1), np.zeros(4))


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(tg.tensor([0.5, 1.5]), [0.0, 1.0])


def test_nll_target_errors():
    logp = F.log_softmax(tg.tensor(X))
    with pytest.raises(IndexError):
        F.nll_loss(logp, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(ValueError, match="shape"):
        F.nll_loss(logp, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(logp, np.zeros(N))


def test_losses_are_registered_for_the_op_property_tests():
    from tensorgrad.autograd.op import OPS

    for name in ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                 "nll_loss"]:
        assert OPS[name].fn is getattr(F, name)
