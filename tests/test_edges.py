"""Numerical edges: powers at a zero base, std of a constant slice, variance without degrees
of freedom, normalisations over an empty axis. Each gives PyTorch's answer (cross-checked
against torch, first and second derivatives, when it is importable)."""
import numpy as np
import pytest

import tensorgrad as tg

# The edges themselves divide by zero (0 ** -1, log 0) just as the user's forward does.
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:var.*degrees of freedom:UserWarning")]


def _t(values):
    return tg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _grads(fn, arrays):
    """Value, first derivatives of sum(fn) and, per input, the derivative of sum(first)."""
    xs = [_t(a) for a in arrays]
    out = fn(*xs)
    firsts = tg.grad(out.sum(), xs, create_graph=True)
    seconds = []
    for g in firsts:
        if g.requires_grad:
            seconds.append([None if h is None else h.data for h in
                            tg.grad(g.sum(), xs, retain_graph=True, allow_unused=True)])
        else:  # a constant first derivative: its derivative is 0
            seconds.append([np.zeros_like(x.data) for x in xs])
    return out.data, [g.data for g in firsts], seconds


def test_x_pow_zero_has_finite_gradient_at_zero():
    x = _t([0.0, 1.0, -2.0])
    (x ** 0 + 3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])


def test_zero_pow_x_gradient():
    x = _t([0.0, 1.0, 2.0, -1.0])
    (0.0 ** x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0, -np.inf])


def test_pow_at_zero_base_both_gradients():
    value, (ga, gb), _ = _grads(lambda a, b: a ** b, [[0.0, 0.0, 0.0, 2.0], [0.0, 1.0, 2.0, -1.0]])
    np.testing.assert_array_equal(ga, [0.0, 1.0, 0.0, -0.25])
    np.testing.assert_allclose(gb, [0.0, 0.0, 0.0, 0.5 * np.log(2.0)])


def test_relu_pow_gradients_finite_to_second_order():
    value, firsts, seconds = _grads(lambda a, b: a.relu() ** b, [[-1.0, 2.0], [2.0, 2.0]])
    np.testing.assert_allclose(firsts[0], [0.0, 4.0])
    np.testing.assert_allclose(firsts[1], [0.0, 4 * np.log(2.0)])
    np.testing.assert_allclose(seconds[0][0], [0.0, 2.0])  # d2/dx2 of relu(x)**2
    np.testing.assert_allclose(seconds[1][0], [0.0, 2 * (1 + 2 * np.log(2.0))])
    np.testing.assert_allclose(seconds[1][1], [0.0, 4 * np.log(2.0) ** 2])  # 0 ** b is flat


def test_pow_second_derivative_in_the_exponent_at_zero_exponent():
    # d/db (b a**(b-1)) at b = 0 is 1/a: the zero-exponent mask must not flatten it.
    a, b = _t(2.0), _t(0.0)
    (ga,) = tg.grad(a ** b, [a], create_graph=True)
    (gab,) = tg.grad(ga, [b])
    assert gab.item() == pytest.approx(0.5)


def test_std_of_constant_slice_has_zero_gradient():
    x = _t([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    value, (g,), ((h,),) = _grads(lambda x: x.std(axis=1), [x.data])
    np.testing.assert_array_equal(g[0], 0.0)
    assert np.isfinite(g).all() and np.isfinite(h).all()
    ref = x.data[1] - x.data[1].mean()
    np.testing.assert_allclose(g[1], ref / (3 * x.data[1].std()))


def test_var_without_degrees_of_freedom_is_nan_not_an_error():
    x = _t([3.0])
    v = x.var(ddof=1)
    assert np.isnan(v.item())
    v.backward()
    assert np.isnan(x.grad).all()
    s = _t([3.0]).std(ddof=1)
    assert np.isnan(s.item())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, axis", [((2, 0), 1), ((0,), 0), ((0, 3), 0)])
def test_normalisation_over_empty_axis_is_empty(name, shape, axis):
    x = tg.zeros(shape, requires_grad=True)
    out = getattr(tg, name)(x, axis=axis)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == shape


def test_logsumexp_of_empty_is_minus_inf():
    x = tg.zeros(2, 0, requires_grad=True)
    out = x.logsumexp(axis=1)
    np.testing.assert_array_equal(out.data, [-np.inf, -np.inf])
    out.sum().backward()
    assert x.grad.shape == (2, 0)
    assert tg.logsumexp(tg.zeros(2, 0), axis=None).item() == -np.inf


# ----------------------------------------------------------------------------- PyTorch
CASES = {
    "x**0+3x": (lambda x: x ** 0 + 3 * x, "x ** 0 + 3 * x", [[0.0, 1.0, -2.0]]),
    "x**c": (lambda x: x ** 2 + x ** 3 + x ** 1, "x ** 2 + x ** 3 + x ** 1", [[0.0, 1.5]]),
    "0**x": (lambda x: 0.0 ** x, "0.0 ** x", [[0.0, 1.0, 2.0, -1.0]]),
    "2**x": (lambda x: 2.0 ** x, "2.0 ** x", [[0.0, 1.5]]),
    "a**b": (lambda a, b: a ** b, "a ** b",
             [[0.0, 0.0, 0.0, 0.0, 2.0, -1.0], [0.0, 1.0, 2.0, 0.5, -1.0, 2.0]]),
    "relu(a)**b": (lambda a, b: a.relu() ** b, "a.relu() ** b", [[-1.0, 2.0], [2.0, 2.0]]),
    "std": (lambda x: x.std(axis=1), "x.std(dim=1, correction=0)",
            [[[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]]),
    "std ddof=1": (lambda x: x.std(axis=1, ddof=1), "x.std(dim=1, correction=1)",
                   [[[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]]),
    "var ddof=1 of one": (lambda x: x.var(ddof=1), "x.var(correction=1)", [[3.0]]),
}
FIRST_ORDER_ONLY = {"var ddof=1 of one"}  # torch's NaN gradient here is a constant


@pytest.mark.parametrize("name", sorted(CASES))
def test_edges_match_torch(name):
    torch = pytest.importorskip("torch")
    fn, torch_src, arrays = CASES[name]
    params = "x" if len(arrays) == 1 else "a, b"
    torch_fn = eval(f"lambda {params}: {torch_src}")  # the same expression, torch spelling
    ts = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = torch_fn(*ts)
    firsts = torch.autograd.grad(out.sum(), ts, create_graph=True)
    seconds = []
    for g in firsts:
        if g.requires_grad:
            hs = torch.autograd.grad(g.sum(), ts, retain_graph=True, allow_unused=True)
            seconds.append([np.zeros(t.shape) if h is None else h.numpy() for h, t in zip(hs, ts)])
        else:
            seconds.append([np.zeros(t.shape) for t in ts])
    value, mine_first, mine_second = _grads(fn, arrays)
    close = dict(atol=1e-12, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(value, out.detach().numpy(), **close)
    for mine, ref in zip(mine_first, firsts):
        np.testing.assert_allclose(mine, ref.detach().numpy(), **close)
    if name in FIRST_ORDER_ONLY:
        return
    for mine_row, ref_row in zip(mine_second, seconds):
        for mine, ref in zip(mine_row, ref_row):
            mine = np.zeros_like(ref) if mine is None else mine
            # At a zero base PyTorch's second derivative is sometimes 0 * log'(0) = NaN where
            # the function is flat (0 ** b); ours may be that finite limit. Elsewhere: equal.
            nan = np.isnan(ref)
            np.testing.assert_allclose(mine[~nan], ref[~nan], **close)
            assert not np.isinf(mine[nan]).any()
