"""The reverse-mode engine: accumulation, graph freeing, depth, grad modes, higher order,
custom Functions."""
import gc
import weakref

import numpy as np
import pytest
from custom_functions import Cube

import tensorgrad as tg


def test_gradients_accumulate_across_backward_calls_and_shared_uses():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x + x  # x used three times
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 5.0])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 8.0])


def test_leaf_grads_do_not_alias_each_other():
    a = tg.tensor([1.0], requires_grad=True)
    b = tg.tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 10
    assert b.grad[0] == 1.0


def test_backward_with_explicit_grad_and_nonscalar_error():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
        y.backward()
    y.backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 4.0])
    with pytest.raises(ValueError, match="does not match"):
        (x * 2).backward(np.ones(2))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).sum().backward()


def test_second_backward_through_freed_graph_names_retain_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_intermediate_is_freed_after_backward_once_dropped():
    x = tg.tensor(np.ones(1000), requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    gc.collect()
    assert ref() is not None  # the graph keeps it alive until backward
    loss.backward()
    gc.collect()
    assert ref() is None
    assert loss.grad_fn == "sum" and loss._inputs is None  # freed, but still named


def test_retained_graph_keeps_intermediates():
    x = tg.tensor(np.ones(3), requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    loss = h.sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_chain_100000_deep_backpropagates_without_recursion():
    x = tg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_chain_waits_for_an_older_pending_consumer_of_its_input():
    # d consumes a and is recorded before c: when c (one input) runs, d is still pending and
    # must add its part to a before a runs, so the chain may not go straight on to a.
    x = tg.tensor([1.5, -2.0], requires_grad=True)
    a = x * 3.0
    d = a * 5.0
    c = a * 2.0
    (c + d).sum().backward()
    np.testing.assert_allclose(x.grad, [21.0, 21.0])


def test_exact_ops_give_gradients_of_their_inputs_dtype_in_place_or_not():
    # the engine does not reduce or cast the gradients of Op.exact ops: they must come out
    # with the input's dtype already (sigmoid's rule runs on the seed, the later ones in place)
    for dtype in (np.float16, np.float32):
        x = tg.tensor(np.array([0.5, 1.5], dtype=dtype), requires_grad=True)
        y = (((x * 2.0 + 1) ** 2.0 - 0.5) / 3).tanh().exp().sigmoid()  # exact ops only
        y.backward(np.ones(2, dtype=dtype))
        assert x.grad.dtype == dtype and x.grad.shape == (2,)


def test_deep_graph_dropped_without_backward_is_collected_without_recursion():
    x = tg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None


def test_no_grad_context_decorator_and_enable_grad():
    x = tg.tensor([1.0], requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.enable_grad():
            z = x * 2
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad

    @tg.no_grad()
    def f(t):
        return t * 3

    @tg.no_grad
    def g(t):
        return t * 3

    assert not f(x).requires_grad and not g(x).requires_grad
    assert tg.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = tg.tensor([2.0], requires_grad=True)
    y = (x * x).detach() * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [4.0])


def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = tg.grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(gx.data, [3.0, 4.0])
    np.testing.assert_allclose(gw.data, [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert isinstance(gx, tg.Tensor)


def test_grad_of_nonleaf_input_and_unused_input():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    u = tg.tensor([0.0], requires_grad=True)
    (gh,) = tg.grad((h * h).sum(), h, retain_graph=True)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad((h * h).sum(), [x, u], retain_graph=True)
    gx, gu = tg.grad((h * h).sum(), [x, u], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.data, 18 * x.data)


def test_second_derivative_and_hessian_vector_product():
    x = tg.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    (g,) = tg.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    assert g.requires_grad
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * x.data)
    # Hessian-vector product of f(x) = sum(sin(x) * x) with v
    v = np.array([1.0, 2.0, -1.0])
    (g,) = tg.grad((tg.sin(x) * x).sum(), x, create_graph=True)
    (hv,) = tg.grad((g * v).sum(), x)
    hess_diag = 2 * np.cos(x.data) - x.data * np.sin(x.data)
    np.testing.assert_allclose(hv.data, hess_diag * v)


def test_third_derivative():
    x = tg.tensor(np.array([0.7]), requires_grad=True)
    (g1,) = tg.grad(tg.exp(x * 2).sum(), x, create_graph=True)
    (g2,) = tg.grad(g1.sum(), x, create_graph=True)
    (g3,) = tg.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, 8 * np.exp(1.4))


def test_backward_create_graph_keeps_grad_as_array():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    assert isinstance(x.grad, np.ndarray)
    np.testing.assert_allclose(x.grad, [2.0, 4.0])


def test_retain_grad_on_nonleaf():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)


class ScaledAdd(tg.Function):
    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.scale = scale
        ctx.flags = ctx.needs_input_grad
        return a + scale * b

    @staticmethod
    def backward(ctx, grad):
        return grad, ctx.scale * grad if ctx.needs_input_grad[1] else None, None


def test_custom_function_forward_backward_and_gradcheck():
    x = tg.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn == "Cube"
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data ** 2)
    assert tg.gradcheck(Cube.apply, [tg.tensor(np.array([0.3, 1.1]), requires_grad=True)])


def test_custom_function_non_tensor_args_and_needs_input_grad():
    a = tg.tensor(np.ones(2), requires_grad=True)
    b = tg.tensor(np.ones(2))
    out = ScaledAdd.apply(a, b, 3.0)
    np.testing.assert_allclose(out.data, [4.0, 4.0])
    out.sum().backward()
    np.testing.assert_allclose(a.grad, [1.0, 1.0])
    b2 = tg.tensor(np.ones((1,)), requires_grad=True)  # broadcast: summed back by the engine
    ScaledAdd.apply(a, b2, 2.0).sum().backward()
    np.testing.assert_allclose(b2.grad, [4.0])


def test_custom_function_wrong_number_of_grads():
    class Bad(tg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad, grad

    a = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad.backward returned 3"):
        Bad.apply(a, a).sum().backward()


def test_float32_stays_float32_through_mixed_graph():
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = tg.tensor(np.ones((3,), np.float64), requires_grad=True)
    (x * w).sum().backward()  # the product is float64; each grad keeps its tensor's dtype
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_user_grad_array_is_never_aliased_by_dot_grad():
    u = np.ones(2, np.float32)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.backward(u)  # the output is the leaf itself
    x.backward(u)
    y = tg.tensor([1.0, 2.0], requires_grad=True)
    (y + 1.0).backward(u)  # a pass-through rule hands the seed on unchanged
    (y + 1.0).backward(u)
    np.testing.assert_array_equal(u, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    np.testing.assert_array_equal(y.grad, [2.0, 2.0])


def _numeric_grad(f, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in range(a.size):
        d = np.zeros_like(a)
        d.flat[i] = eps
        g.flat[i] = (f(a + d) - f(a - d)) / (2 * eps)
    return g


@pytest.mark.parametrize("build", [
    # a gradient handed to two inputs (add) must not be overwritten by either branch
    lambda x: ((x.relu() + (x * 2.0).tanh()) * 3.0).sum(),
    lambda x: ((x * 1.0).relu() + (x * 1.0).sigmoid()).sum() * 2.0,
    # pass-through, reshape view, broadcast view and sum before in-place rules
    lambda x: ((x + 1.0).reshape(-1).relu().reshape(2, 3).tanh() * 2.0).sum(),
    lambda x: (x.sum(axis=0).relu() * 2.0).sum() + (x.mean() * 1.0).tanh(),
    # a tensor used twice, and fan-in of fresh gradients
    lambda x: (x.tanh() * x.tanh().relu()).sum() * 1.5,
])
def test_in_place_rules_never_clobber_a_shared_gradient(build):
    a = np.array([[0.3, -1.2, 0.8], [1.5, -0.4, 0.1]])
    x = tg.tensor(a, requires_grad=True)
    build(x).backward()
    want = _numeric_grad(lambda v: build(tg.tensor(v)).item(), a)
    np.testing.assert_allclose(x.grad, want, rtol=1e-6, atol=1e-8)


def test_retained_and_captured_gradients_are_not_overwritten():
    x = tg.tensor(np.array([0.5, -0.3, 1.2]), requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    y = (h.tanh() * 3.0).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(h.grad, 3 * (1 - np.tanh(h.data) ** 2))
    (gh,) = tg.grad(y, h, retain_graph=True)
    np.testing.assert_allclose(gh.data, h.grad)
    (gx,) = tg.grad(y, x)
    np.testing.assert_allclose(gx.data, 2 * h.grad)
