"""The engine's (gradient, mutable) pairs: no stale "may overwrite" flag, arrays handed out
are the user's own, one gradient per tensor (issue 8)."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.autograd import engine
from tensorgrad.autograd.op import Op, UnaryOp, record


def test_zero_d_accumulation_then_in_place_rule_does_not_crash():
    # The sum of two 0-d gradients is a numpy scalar, which the old "owned" flag outlived.
    x = tg.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    w = tg.tensor([3.0, 4.0], requires_grad=True, dtype=np.float64)
    h = x.sum().tanh()
    (h.unsqueeze(0) * w + h.unsqueeze(0) * w).sum().backward()
    s = np.tanh(3.0)
    np.testing.assert_allclose(x.grad, [2 * 7 * (1 - s * s)] * 2)
    np.testing.assert_allclose(w.grad, [2 * s] * 2)


def test_retained_gradients_and_the_seed_are_separate_arrays():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 1, x * 1
    a.retain_grad()
    b.retain_grad()
    c = a + b
    c.retain_grad()
    seed = np.ones(2, np.float32)
    c.backward(seed)
    arrays = [a.grad, b.grad, c.grad, x.grad, seed]
    for i, u in enumerate(arrays):
        for v in arrays[i + 1:]:
            assert not np.shares_memory(u, v)
    a.grad[:] = 0
    np.testing.assert_allclose(b.grad, [1, 1])
    np.testing.assert_allclose(seed, [1, 1])


def test_grad_results_are_arrays_of_their_own():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    go = np.ones(2, np.float32)
    gy, gx = tg.grad(y, [y, x], go)
    assert not np.shares_memory(gy.data, go) and not np.shares_memory(gy.data, gx.data)


def test_one_gradient_per_tensor():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * 3
    with pytest.raises(RuntimeError, match="2 tensors and 1 gradients"):
        tg.backward([a, b], [np.ones(2)])
    with pytest.raises(RuntimeError, match="2 tensors and 1 gradients"):
        tg.grad([a, b], x, [np.ones(2)])
    tg.backward([a.sum(), b.sum()])  # None for all: fine
    np.testing.assert_allclose(x.grad, [5, 5])


def test_leaf_gradient_is_summed_before_it_reaches_grad():
    x = tg.tensor([1.0], requires_grad=True)
    x.grad = np.array([100.0], np.float32)
    g_before = x.grad
    (x * 2 + x * 3 + x).sum().backward()
    assert x.grad is g_before  # accumulated into the existing array, once
    np.testing.assert_allclose(x.grad, [106.0])


def test_a_rule_returning_an_array_under_create_graph_raises_naming_the_op():
    op = Op("numpy_only", lambda g, ans, x: np.asarray(g.data) * 2)

    x = tg.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = record(op, x.data * 2, (x,))
    y.sum().backward(retain_graph=True)  # fine on arrays
    with pytest.raises(RuntimeError, match="numpy_only"):
        tg.grad(y.sum(), x, create_graph=True)


def test_in_place_rules_fire_on_an_mlp_step(monkeypatch):
    calls = []
    backward = UnaryOp.backward  # relu's: g * deriv, in place into g when g is mutable

    def spy(self, g, ans, args, params, inputs, mutable=False):
        if self.name == "relu" and mutable:
            calls.append(1)
        return backward(self, g, ans, args, params, inputs, mutable)

    monkeypatch.setattr(UnaryOp, "backward", spy)
    model = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.ReLU(), tg.nn.Linear(8, 3))
    x = tg.randn(5, 4)
    tg.nn.functional.cross_entropy(model(x), tg.tensor([0, 1, 2, 0, 1])).backward()
    assert calls  # the hot path still computes relu's gradient in place


def test_switching_in_place_rules_off_changes_no_gradient(monkeypatch):
    def grads():
        tg.manual_seed(0)
        model = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.Tanh(), tg.nn.Linear(8, 8),
                                 tg.nn.Sigmoid(), tg.nn.Linear(8, 3), tg.nn.ReLU())
        x = tg.randn(5, 4)
        h = model(x)
        (h * h + h.sum()).sum().backward()
        return [p.grad.copy() for p in model.parameters()]

    on = grads()
    monkeypatch.setattr(engine, "INPLACE_RULES", False)
    off = grads()
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # float32 summation order
