"""Tests for the hand-derived numpy MLP in tensorgrad.reference (the oracle of other tests)."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tensorgrad.reference import (
    ACTIVATIONS,
    OUTPUTS,
    ReferenceMLP,
    backprop,
    binary_cross_entropy_with_logits,
    half_squared_error,
    init_params,
    sigmoid,
    softmax,
    softmax_cross_entropy,
)

HIDDEN = sorted(ACTIVATIONS)
OUTPUT_NAMES = sorted(OUTPUTS)
REDUCTIONS = ("mean", "sum")
# Central differences err by ~eps^2 (truncation) plus ~1e-16 |loss| / eps (rounding);
# eps = 1e-5 (near the optimum, cube root of machine epsilon) keeps both near 1e-11.
FD_EPS = 1e-5
# No nudge of size eps moves a pre-activation (|a| <= ~10 here) by more than 1e-4, so a
# ReLU kink further than this from every z^l cannot be crossed.
RELU_KINK_MARGIN = 1e-3


def random_params(rng: np.random.Generator, sizes: list[int]) -> list[tuple[Any, Any]]:
    """Float64 weights and nonzero biases: zero biases would put dead-ReLU rows exactly on
    the kink z = 0 of the next layer, where finite differences see half a slope."""
    return [
        (rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out))
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]


def random_target(rng: np.random.Generator, output: str, n: int, k: int, labels: bool) -> Any:
    if output == "softmax":
        if labels:
            return rng.integers(0, k, size=n)
        p = rng.random((n, k)) + 0.1
        return p / p.sum(axis=1, keepdims=True)
    if output == "sigmoid":
        return rng.random((n, k))
    return rng.standard_normal((n, k))


@st.composite
def problems(draw: Callable[..., Any]) -> dict[str, Any]:
    depth = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 6), min_size=depth + 1, max_size=depth + 1))
    n = draw(st.integers(1, 8))
    output = draw(st.sampled_from(OUTPUT_NAMES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "sizes": sizes,
        "hidden": draw(st.sampled_from(HIDDEN)),
        "output": output,
        "reduction": draw(st.sampled_from(REDUCTIONS)),
        "params": random_params(rng, sizes),
        "X": rng.standard_normal((n, sizes[0])),
        "y": random_target(rng, output, n, sizes[-1], labels=draw(st.booleans())),
    }


def model_of(p: dict[str, Any], dtype: Any = np.float64) -> ReferenceMLP:
    return ReferenceMLP(
        p["sizes"],
        hidden=p["hidden"],
        output=p["output"],
        params=p["params"],
        dtype=dtype,
        reduction=p["reduction"],
    )


def finite_difference_grads(model: ReferenceMLP, X: Any, y: Any) -> list[list[Any]]:
    def loss() -> float:
        model.forward(X)
        return model.loss(y)

    grads = []
    for layer in model.params:
        layer_grads = []
        for p in layer:
            g = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                old = p[i]
                p[i] = old + FD_EPS
                up = loss()
                p[i] = old - FD_EPS
                down = loss()
                p[i] = old
                g[i] = (up - down) / (2 * FD_EPS)
            layer_grads.append(g)
        grads.append(layer_grads)
    return grads


def assert_close_rel(analytic: Any, numeric: Any, loss: float, rel: float = 1e-6) -> None:
    """Norm-wise relative error below ``rel``, up to the rounding noise of the finite
    differences themselves (~1e-16 |loss| / eps per entry), which matters only for
    gradients that are nearly zero."""
    err = np.linalg.norm(analytic - numeric)
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    noise = 1e-16 * max(1.0, abs(loss)) / FD_EPS * np.sqrt(analytic.size)
    assert err <= rel * scale + 10 * noise, (err, scale, analytic, numeric)


# --------------------------------------------------------------------------- gradients


@settings(max_examples=60, deadline=None)
@given(problems())
def test_backward_matches_central_finite_differences(p: dict[str, Any]) -> None:
    if p["hidden"] == "relu":
        a = p["X"]
        for W, b in p["params"][:-1]:
            z = a @ W + b
            assume(np.abs(z).min() > RELU_KINK_MARGIN)
            a = np.maximum(z, 0)
    model = model_of(p)
    model.forward(p["X"])
    loss = model.loss(p["y"])
    grads = model.backward(p["y"])
    numeric = finite_difference_grads(model, p["X"], p["y"])
    for (dW, db), (W, b), (nW, nb) in zip(grads, model.params, numeric):
        assert dW.shape == W.shape and db.shape == b.shape
        assert_close_rel(dW, nW, loss)
        assert_close_rel(db, nb, loss)


@settings(max_examples=30, deadline=None)
@given(problems())
def test_pure_backprop_equals_the_class_and_leaves_params_alone(p: dict[str, Any]) -> None:
    before = [(W.copy(), b.copy()) for W, b in p["params"]]
    loss, grads = backprop(
        p["params"],
        p["X"],
        p["y"],
        hidden=p["hidden"],
        output=p["output"],
        reduction=p["reduction"],
    )
    model = model_of(p)
    model.forward(p["X"])
    assert loss == model.loss(p["y"])
    for (dW, db), (mW, mb) in zip(grads, model.backward(p["y"])):
        np.testing.assert_array_equal(dW, mW)
        np.testing.assert_array_equal(db, mb)
    for (W, b), (W0, b0) in zip(p["params"], before):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_single_layer_closed_forms(reduction: str) -> None:
    """Independent of finite differences: linear regression and softmax regression."""
    rng = np.random.default_rng(1)
    X, W, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    scale = 1 / 5 if reduction == "mean" else 1.0

    Y = rng.standard_normal((5, 2))
    loss, [(dW, db)] = backprop([(W, b)], X, Y, output="identity", reduction=reduction)
    residual = X @ W + b - Y
    np.testing.assert_allclose(loss, 0.5 * scale * np.sum(residual**2), rtol=1e-12)
    np.testing.assert_allclose(dW, scale * X.T @ residual, rtol=1e-12)
    np.testing.assert_allclose(db, scale * residual.sum(axis=0), rtol=1e-12)

    labels = np.array([0, 1, 1, 0, 1])
    loss, [(dW, db)] = backprop([(W, b)], X, labels, output="softmax", reduction=reduction)
    z = X @ W + b
    P = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.eye(2)[labels]
    np.testing.assert_allclose(loss, -scale * np.sum(onehot * np.log(P)), rtol=1e-12)
    np.testing.assert_allclose(dW, scale * X.T @ (P - onehot), rtol=1e-12)
    np.testing.assert_allclose(db, scale * (P - onehot).sum(axis=0), rtol=1e-12)


# --------------------------------------------------------------------------- stability


def no_overflow() -> Any:
    """Raise on overflow, invalid and divide-by-zero; underflow to 0 is the right answer
    for terms like exp(-1e4) and is allowed."""
    return np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output", OUTPUT_NAMES)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_logits_of_magnitude_1e4_are_finite(hidden: str, output: str, dtype: Any) -> None:
    # One hidden unit with z = 1 on every row; W^2 divides out its activation so the
    # logits are exactly [1e4, -1e4, 5e3] whatever the hidden nonlinearity.
    h = {"relu": 1.0, "sigmoid": float(sigmoid(np.array(1.0))), "tanh": float(np.tanh(1.0))}
    params = [
        (np.zeros((2, 1)), np.ones(1)),
        (np.array([[1e4, -1e4, 5e3]]) / h[hidden], np.zeros(3)),
    ]
    X = np.ones((4, 2))
    y = {
        "softmax": np.array([0, 1, 2, 1]),
        "sigmoid": np.array([[0.0, 1.0, 1.0]] * 4),
        "identity": np.zeros((4, 3)),
    }[output]
    model = ReferenceMLP([2, 1, 3], hidden, output, params=params, dtype=dtype, reduction="sum")
    with no_overflow(), warnings.catch_warnings():
        warnings.simplefilter("error")
        a = model.forward(X)
        loss = model.loss(y)
        grads = model.backward(y)
    # Logits per row are [1e4, -1e4, 5e3].
    expected = {
        # -log softmax at labels 0, 1, 2, 1: 0, 2e4, 5e3, 2e4
        "softmax": 4.5e4,
        # per row: log(1 + e^z) - y z = 1e4 + 1e4 + ~0
        "sigmoid": 4 * 2e4,
        "identity": 4 * 0.5 * (1e8 + 1e8 + 2.5e7),
    }[output]
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    assert np.all(np.isfinite(a))
    for dW, db in grads:
        assert np.all(np.isfinite(dW)) and np.all(np.isfinite(db))


@settings(max_examples=30, deadline=None)
@given(
    z=st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=12),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_loss_functions_are_stable_for_extreme_logits(z: list[float], dtype: Any) -> None:
    Z = np.array(z, dtype=dtype).reshape(-1, 1)
    Z2 = np.concatenate([Z, -Z, np.zeros_like(Z)], axis=1)
    with no_overflow():
        bce = binary_cross_entropy_with_logits(Z, np.ones_like(Z), reduction="sum")
        ce = softmax_cross_entropy(Z2, np.zeros(len(z), dtype=int), reduction="sum")
        s = sigmoid(Z)
        p = softmax(Z2)
    # Reference values in float64 for the same (rounded) logits.
    z64 = Z.astype(np.float64).ravel()
    np.testing.assert_allclose(bce, np.sum(np.logaddexp(0, -z64)), rtol=1e-5, atol=1e-6)
    lse = np.logaddexp(np.logaddexp(z64, -z64), 0.0)
    np.testing.assert_allclose(ce, np.sum(lse - z64), rtol=1e-5, atol=1e-5)
    assert np.all((s >= 0) & (s <= 1)) and s.dtype == dtype
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


def test_sigmoid_is_exact_far_into_the_tails() -> None:
    z = np.array([-1e4, -700.0, -30.0, 0.0, 30.0, 1e4])
    with np.errstate(all="raise"):
        s = sigmoid(z)
    np.testing.assert_allclose(
        s[1:5], [np.exp(-700.0), 1 / (1 + np.exp(30.0)), 0.5, 1.0], rtol=1e-12
    )
    assert s[0] == 0.0 and s[-1] == 1.0


# --------------------------------------------------------------------------- targets


@settings(max_examples=30, deadline=None)
@given(problems(), st.data())
def test_softmax_integer_labels_equal_one_hot_targets(p: dict[str, Any], data: Any) -> None:
    k, n = p["sizes"][-1], len(p["X"])
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    p = {**p, "output": "softmax"}
    model = model_of(p)
    model.forward(p["X"])
    loss_labels, grads_labels = model.loss(labels), model.backward(labels)
    onehot = np.eye(k)[labels]
    loss_onehot, grads_onehot = model.loss(onehot), model.backward(onehot)
    np.testing.assert_allclose(loss_labels, loss_onehot, rtol=1e-12, atol=1e-12)
    for (dW1, db1), (dW2, db2) in zip(grads_labels, grads_onehot):
        np.testing.assert_allclose(dW1, dW2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(db1, db2, rtol=1e-12, atol=1e-15)


def test_one_output_unit_accepts_flat_float_targets() -> None:
    model = ReferenceMLP([2, 3, 1], "tanh", "sigmoid", seed=0, dtype=np.float64)
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    model.forward(X)
    y = np.array([0.0, 1.0])
    assert model.loss(y) == model.loss(y[:, None])


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("output", OUTPUT_NAMES)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_training_reduces_loss_on_separable_problem(hidden: str, output: str) -> None:
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))])
    cls = np.repeat([0, 1], 20)
    y = {"softmax": cls, "sigmoid": cls[:, None].astype(float), "identity": cls[:, None] * 2.0 - 1}
    k = 2 if output == "softmax" else 1
    model = ReferenceMLP([2, 8, k], hidden, output, seed=0, dtype=np.float64)
    lr = 0.05 if output == "identity" else 0.5
    losses = [model.train_step(X, y[output], lr) for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    if output != "identity":
        pred = model.predict(X).ravel()
        assert np.mean(pred == cls) == 1.0


def test_train_step_uses_gradients_of_the_parameters_before_the_update() -> None:
    """The classic bug: updating W^l before dz is propagated through it."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    a = ReferenceMLP([4, 5, 5, 3], "tanh", "softmax", seed=3, dtype=np.float64)
    b = ReferenceMLP([4, 5, 5, 3], "tanh", "softmax", params=a.params)
    b.forward(X)
    expected_loss = b.loss(y)
    grads = b.backward(y)
    loss = a.train_step(X, y, lr=0.7)
    assert loss == expected_loss
    for (W, bias), (W0, b0), (dW, db) in zip(a.params, b.params, grads):
        np.testing.assert_allclose(W, W0 - 0.7 * dW, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(bias, b0 - 0.7 * db, rtol=1e-14, atol=1e-15)


def test_step_updates_params_in_place_and_constructor_copies() -> None:
    params = init_params([3, 2], seed=0, dtype=np.float64)
    original = [(W.copy(), b.copy()) for W, b in params]
    model = ReferenceMLP([3, 2], output="identity", params=params)
    W_obj = model.params[0][0]
    model.train_step(np.ones((2, 3)), np.ones((2, 2)), lr=0.1)
    assert model.params[0][0] is W_obj
    assert not np.array_equal(W_obj, original[0][0])
    np.testing.assert_array_equal(params[0][0], original[0][0])


# --------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output", OUTPUT_NAMES)
def test_dtype_is_preserved_through_forward_and_backward(output: str, dtype: Any) -> None:
    model = ReferenceMLP([4, 6, 3], "sigmoid", output, seed=0, dtype=dtype)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 4))  # float64 input must not upcast a float32 model
    labels = rng.integers(0, 3, 5)
    y = np.eye(3)[labels] if output != "identity" else rng.standard_normal((5, 3))
    a = model.forward(X)
    assert a.dtype == dtype
    assert isinstance(model.loss(y), float)
    for target in [y] + ([labels] if output == "softmax" else []):
        for dW, db in model.backward(target):
            assert dW.dtype == dtype and db.dtype == dtype
    model.train_step(X, y, lr=0.1)
    for W, b in model.params:
        assert W.dtype == dtype and b.dtype == dtype


def test_dtype_defaults_to_the_dtype_of_given_params() -> None:
    assert ReferenceMLP([2, 2]).dtype == np.float32
    assert ReferenceMLP([2, 2], params=init_params([2, 2], dtype=np.float64)).dtype == np.float64


# --------------------------------------------------------------------------- init


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_params_shapes_bounds_and_determinism(dtype: Any) -> None:
    sizes = [7, 5, 3]
    a = init_params(sizes, seed=42, dtype=dtype)
    b = init_params(sizes, seed=42, dtype=dtype)
    c = init_params(sizes, seed=43, dtype=dtype)
    x = init_params(sizes, seed=42, dtype=dtype, init="xavier")
    for l, ((W, bias), (W2, b2), (W3, _), (Wx, bx)) in enumerate(zip(a, b, c, x), start=1):
        fan_in, fan_out = sizes[l - 1], sizes[l]
        assert W.shape == (fan_in, fan_out) and bias.shape == (fan_out,)
        assert W.dtype == dtype and bias.dtype == dtype
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(bias, b2)
        assert not np.array_equal(W, W3)
        assert np.all(bias == 0) and np.all(bx == 0)
        assert np.abs(W).max() <= np.sqrt(6 / fan_in)
        assert np.abs(Wx).max() <= np.sqrt(6 / (fan_in + fan_out))
    # Same draws across dtypes, up to rounding.
    np.testing.assert_allclose(
        init_params(sizes, seed=42, dtype=np.float32)[0][0],
        init_params(sizes, seed=42, dtype=np.float64)[0][0],
        rtol=1e-6,
    )


def test_kaiming_init_has_the_documented_variance() -> None:
    ((W, _),) = init_params([200, 300], seed=0, dtype=np.float64)
    np.testing.assert_allclose(W.var(), 2 / 200, rtol=0.02)
    ((W, _),) = init_params([200, 300], seed=0, dtype=np.float64, init="xavier")
    np.testing.assert_allclose(W.var(), 2 / 500, rtol=0.02)


# --------------------------------------------------------------------------- errors


def test_bad_arguments_fail_fast_with_clear_messages() -> None:
    with pytest.raises(ValueError, match="hidden activation 'gelu'"):
        ReferenceMLP([2, 2], hidden="gelu")
    with pytest.raises(ValueError, match="output"):
        ReferenceMLP([2, 2], output="tanh")
    with pytest.raises(ValueError, match="reduction"):
        ReferenceMLP([2, 2], reduction="none")
    with pytest.raises(ValueError, match="sizes"):
        ReferenceMLP([2])
    with pytest.raises(ValueError, match="init"):
        init_params([2, 2], init="orthogonal")
    with pytest.raises(TypeError, match="floating"):
        init_params([2, 2], dtype=np.int32)
    with pytest.raises(ValueError, match=r"layer 1 needs W \(2, 3\)"):
        ReferenceMLP([2, 3], params=[(np.zeros((3, 2)), np.zeros(3))])
    model = ReferenceMLP([2, 3], seed=0)
    with pytest.raises(RuntimeError, match="forward"):
        model.loss(np.array([0]))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        model.forward(np.zeros((4, 3)))
    model.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        model.loss(np.array([0, 1, 2, 3]))
    with pytest.raises(TypeError, match="integer class labels"):
        model.backward(np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        model.backward(np.zeros((4, 2)))


def test_half_squared_error_value() -> None:
    a, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))
    assert half_squared_error(a, y, "sum") == 15.0
    assert half_squared_error(a, y, "mean") == 7.5
