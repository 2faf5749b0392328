"""gradcheck / gradgradcheck / the layer checker and strategies are public features: test them."""
import numpy as np
import pytest
from hypothesis import given

import tensorgrad as tg
from tensorgrad.autograd.op import Op, record
from tensorgrad.testing import check_module
from tensorgrad.testing import strategies as s


def test_gradcheck_passes_and_requires_float64():
    x = tg.tensor(np.array([0.2, -0.7]), requires_grad=True)
    assert tg.gradcheck(lambda t: (t.tanh() * t).sum(), [x])
    with pytest.raises(TypeError, match="float64"):
        tg.gradcheck(lambda t: t.sum(), [tg.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="nothing to check"):
        tg.gradcheck(lambda t: t.sum(), [tg.tensor(np.ones(1))])


def test_gradcheck_failure_names_input_index_and_values():
    wrong = Op("wrong", lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a * 1.01)
    a = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = tg.tensor(np.array([[3.0], [4.0]]), requires_grad=True)
    with pytest.raises(tg.GradcheckError) as e:
        tg.gradcheck(lambda x, y: record(wrong, x.data * y.data, (x, y)), [a, b])
    msg = str(e.value)
    for part in ("input 1", "(2, 1)", "index", "analytic", "numeric", "absolute error",
                 "relative error"):
        assert part in msg
    assert not tg.gradcheck(lambda x, y: record(wrong, x.data * y.data, (x, y)), [a, b],
                            raise_exception=False)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    # First derivative right, but written with a constant where it depends on x: the
    # gradient of the gradient is then wrong, and only gradgradcheck sees it.
    sq = Op("sq", lambda g, ans, x: g * 2 * tg.tensor(x.data) if isinstance(x, tg.Tensor)
            else g * 2 * x)
    x = tg.tensor(np.array([0.5, -1.5]), requires_grad=True)
    f = lambda t: record(sq, t.data ** 2, (t,))  # noqa: E731
    assert tg.gradcheck(f, [x])
    with pytest.raises(tg.GradcheckError):
        tg.gradgradcheck(f, [x])
    assert tg.gradgradcheck(lambda t: (t ** 2).sum(), [x])


def test_gradcheck_multiple_outputs_and_inputs_restored():
    x = tg.tensor(np.array([0.3, 0.9]), requires_grad=True)
    before = x.data.copy()
    assert tg.gradcheck(lambda t: (t.exp(), t.sin() * 2), [x])
    np.testing.assert_array_equal(x.data, before)


class Gated:
    """A gated linear unit written as a user would, with tensors as parameters."""

    def __init__(self, n, m, rng):
        self.w = tg.tensor(rng.standard_normal((n, m)).astype(np.float32), requires_grad=True)
        self.v = tg.tensor(rng.standard_normal((n, m)).astype(np.float32), requires_grad=True)

    def named_parameters(self):
        return [("w", self.w), ("v", self.v)]

    def __call__(self, x):
        return (x @ self.w) * (x @ self.v).sigmoid()


class BrokenGated(Gated):
    def __call__(self, x):
        from tensorgrad.autograd.op import Op, record

        # the gate is wrongly treated as a constant in backward
        gate = tg.tensor((x @ self.v).sigmoid().data)
        return (x @ self.w) * gate + 0 * record(Op("noop", lambda g, ans, v: g * 0),
                                                 self.v.data, (self.v,)).sum()


def test_check_module_on_float32_layer_upcasts_and_leaves_it_alone():
    rng = np.random.default_rng(0)
    layer = Gated(3, 2, rng)
    w_before = layer.w.data.copy()
    assert check_module(layer, rng.standard_normal((4, 3)).astype(np.float32))
    assert layer.w.data.dtype == np.float32
    np.testing.assert_array_equal(layer.w.data, w_before)


def test_check_module_names_the_broken_parameter():
    rng = np.random.default_rng(1)
    with pytest.raises(tg.GradcheckError, match="'v'"):
        check_module(BrokenGated(3, 2, rng), rng.standard_normal((4, 3)), check_inputs=False)


@given(s.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    np.broadcast_shapes(*shapes)


@given(s.shapes(min_dims=1, max_dims=3, max_side=4))
def test_shapes_are_valid(shape):
    assert 1 <= len(shape) <= 3 and all(1 <= n <= 4 for n in shape)


@given(s.shapes(min_dims=1).flatmap(lambda sh: s.indices(sh).map(lambda i: (sh, i))))
def test_indices_are_valid(pair):
    shape, index = pair
    np.zeros(shape)[index]


@given(s.shapes().flatmap(lambda sh: s.axes(len(sh)).map(lambda a: (sh, a))))
def test_axes_are_valid(pair):
    shape, (axis, keepdims) = pair
    np.zeros(shape).sum(axis=axis, keepdims=keepdims)


@given(s.arrays((5,), avoid=(0.0,)))
def test_arrays_avoid_kinks(a):
    assert np.all(np.abs(a) > s.MARGIN)
