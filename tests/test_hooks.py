"""Tensor.register_hook: called with the tensor's gradient, may replace it, removable."""
import numpy as np
import pytest

import tensorgrad as tg


def test_hook_on_a_non_leaf_sees_and_replaces_its_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.copy()))
    y.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * 3 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad, 3 * 10 * seen[0])


def test_leaf_hook_gets_the_total_of_all_paths_once_before_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    calls = []

    def hook(g):
        calls.append(g.copy())
        return g * 2

    x.register_hook(hook)
    (x * 2 + x * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5.0, 5.0])
    np.testing.assert_allclose(x.grad, [10.0, 10.0])


def test_handle_remove_and_tg_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 0)
    (g,) = tg.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.data, [0.0, 0.0])
    assert x.grad is None
    h.remove()
    (g,) = tg.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.data, [2.0, 4.0])


def test_hook_under_create_graph_gets_a_tensor_and_stays_differentiable():
    x = tg.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    y = x * x
    kinds = []

    def hook(g):
        kinds.append(type(g))
        return g * x  # d/dx of the replaced gradient must see this

    y.register_hook(hook)
    (g,) = tg.grad(y.sum(), x, create_graph=True)  # g = 2x * x = 2x^2
    assert kinds == [tg.Tensor]
    np.testing.assert_allclose(g.data, 2 * np.array([1.0, 4.0]))
    (gg,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, 4 * np.array([1.0, 2.0]))


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).register_hook(lambda g: None)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).register_hook(lambda g: np.ones(3))
    y = x * 2
    y.register_hook(lambda g: np.ones(3))
    with pytest.raises(RuntimeError, match="shape"):
        y.sum().backward()


def test_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    xs = np.array([0.5, -1.0, 2.0])
    x = tg.tensor(xs, requires_grad=True)
    xt = torch.tensor(xs, requires_grad=True)
    for a in (x, xt):
        y = a.tanh()
        y.register_hook(lambda g: g * 2)
        a.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
