"""Custom Functions: second derivatives through a backward written in numpy vocabulary,
@once_differentiable, and a wrong gradient reported naming the Function and the input."""
import numpy as np
import pytest
from custom_functions import Cube

import tensorgrad as tg


class Hypot(tg.Function):
    """Saves its output: under create_graph `r` stands for the output Tensor."""

    @staticmethod
    def forward(ctx, a, b):
        r = np.hypot(a, b)
        ctx.save_for_backward(a, b, r)
        return r

    @staticmethod
    def backward(ctx, grad):
        a, b, r = ctx.saved_tensors
        return grad * a / r, grad * b / r


class Softplus(tg.Function):
    """numpy functions in backward (np.tanh) and a non-tensor argument."""

    @staticmethod
    def forward(ctx, x, beta):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return np.logaddexp(0.0, beta * x) / beta

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 0.5 * (1.0 + np.tanh(0.5 * ctx.beta * x)), None


class OnceCube(tg.Function):
    seen: list = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @tg.once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        OnceCube.seen.append((type(x), type(grad)))
        return 3 * x ** 2 * grad


def _f64(values):
    return tg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_second_derivative_through_a_function_is_right():
    x = _f64(2.0)
    (g,) = tg.grad(Cube.apply(x) + x ** 3, x, create_graph=True)
    assert g.item() == pytest.approx(24.0)
    (h,) = tg.grad(g, x)
    assert h.item() == pytest.approx(24.0)  # 6x + 6x at x = 2, not 12


def test_saved_input_stands_for_the_input_tensor_under_create_graph():
    seen = []

    class Spy(tg.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w * 2)  # an input, and an array made from one
            return x * w

        @staticmethod
        def backward(ctx, grad):
            x, w2 = ctx.saved_tensors
            seen.append((x, w2))
            return grad * w2 / 2, grad * x

    x, w = _f64([1.0, 2.0]), _f64([3.0, 4.0])
    tg.grad(Spy.apply(x, w).sum(), [x, w], create_graph=True)
    saved_x, saved_w2 = seen[-1]
    assert saved_x is x  # the very array forward got: the input Tensor itself
    assert isinstance(saved_w2, np.ndarray)  # anything else: a constant
    Spy.apply(x, w).sum().backward()
    assert isinstance(seen[-1][0], np.ndarray)  # a plain backward still sees arrays


@pytest.mark.parametrize("fn, arrays", [
    (Cube.apply, [[0.5, -1.0, 2.0]]),
    (Hypot.apply, [[[3.0], [1.0]], [4.0, 2.0, 1.0]]),
    (lambda t: Softplus.apply(t, 2.0), [[-1.5, 0.0, 0.7]]),
])
def test_gradgradcheck_on_custom_functions(fn, arrays):
    assert tg.gradgradcheck(fn, [_f64(a) for a in arrays])


def test_function_second_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    a0, b0 = np.array([[3.0], [1.0]]), np.array([4.0, 2.0, 1.0])
    a, b = _f64(a0), _f64(b0)
    ga, gb = tg.grad((Hypot.apply(a, b) ** 2 + Cube.apply(a)).sum(), [a, b], create_graph=True)
    hess = tg.grad((ga ** 2).sum() + (gb * b).sum(), [a, b])
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a0, b0))
    out = (torch.hypot(ta, tb) ** 2 + ta ** 3).sum()
    tga, tgb = torch.autograd.grad(out, [ta, tb], create_graph=True)
    ref = torch.autograd.grad((tga ** 2).sum() + (tgb * tb).sum(), [ta, tb])
    for mine, theirs in zip((ga, gb, *hess), (tga, tgb, *ref)):
        np.testing.assert_allclose(mine.data, theirs.detach().numpy(), rtol=1e-10)


def test_once_differentiable_first_order_works_with_arrays():
    OnceCube.seen.clear()
    x = _f64([2.0, -1.0])
    OnceCube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, [12.0, 3.0])
    (g,) = tg.grad(OnceCube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, [12.0, 3.0])
    assert OnceCube.seen == [(np.ndarray, np.ndarray)] * 2


def test_once_differentiable_double_backward_raises_naming_the_function():
    x = _f64([2.0, -1.0])
    (g,) = tg.grad(OnceCube.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="OnceCube.*once_differentiable"):
        tg.grad(g.sum(), x)
    OnceCube.apply(x).sum().backward(create_graph=True)
    (g,) = tg.grad(OnceCube.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="OnceCube.*once_differentiable"):
        (g ** 2).sum().backward()


def test_backward_that_leaves_tensorgrad_under_create_graph_raises():
    class Opaque(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sinh(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return np.asarray(grad) * np.cosh(np.asarray(x))

    x = _f64([0.5])
    Opaque.apply(x).sum().backward()  # first order: fine
    np.testing.assert_allclose(x.grad, np.cosh(0.5))
    with pytest.raises(RuntimeError, match="Opaque.backward.*not a Tensor.*input 0"):
        tg.grad(Opaque.apply(x).sum(), x, create_graph=True)


def _returning(*grads):
    class Wrong(tg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grads

    return Wrong


@pytest.mark.parametrize("grads, exc, pattern", [
    ((np.ones(3), np.ones(2)), ValueError,
     r"Wrong.backward: the gradient for input 0 has shape \(3,\).*input's shape \(2,\)"),
    ((np.ones((2, 2)), np.ones((4, 3))), ValueError,
     r"gradient for input 1 has shape \(4, 3\).*input's shape \(2,\)"),
    ((np.ones(()), np.ones(2)), ValueError, r"input 0 has shape \(\).*shape \(2,\)"),
    ((np.ones(2), np.ones(2, dtype=np.int64)), TypeError,
     r"Wrong.backward: the gradient for input 1 has dtype int64.*float32 of shape \(2,\)"),
    ((np.array([True, False]), None), TypeError, r"input 0 has dtype bool"),
])
def test_wrong_gradient_names_function_input_and_shapes(grads, exc, pattern):
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(exc, match=pattern):
        _returning(*grads).apply(a, b).sum().backward()
    assert a.grad is None and b.grad is None


def test_broadcast_gradient_of_a_function_is_still_summed_back():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    _returning(np.ones((3, 2)), np.ones((1, 2), np.float64)).apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 3.0])
    assert b.grad.dtype == np.float32 and b.grad.shape == (2,)


def test_wrong_number_of_gradients_still_raises():
    a = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Wrong.backward returned 3 gradients, expected 2"):
        _returning(np.ones(1), np.ones(1), np.ones(1)).apply(a, a).sum().backward()
