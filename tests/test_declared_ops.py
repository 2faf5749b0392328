"""Ops declared in one line (tensorgrad/ops/declare.py), and numpy interop without silent escapes.

- One `unary` declaration gives the op, its in-place rule, the public function, the Tensor
  method, the numpy interop entry, the export and the property tests.
- Every declared elementwise op against PyTorch: values, gradients, second derivatives.
- A numpy function without a gradient raises on a tensor that requires grad, naming it.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tensorgrad as tg
from tensorgrad.autograd import op as op_module
from tensorgrad.ops import declare
from tensorgrad.ops import domains as D
from tensorgrad.testing import strategies as s

# ------------------------------------------------------------------------- one declaration


@pytest.fixture
def throwaway_declaration():
    """Declare ``cube`` through `unary`, then remove every trace of it."""
    fn = declare.unary("cube", lambda x: x ** 3, lambda x, ans: 3 * x * x, numpy=np.cbrt,
                       domain=D.unary(), doc="x**3 (a test declaration).", torch=None)
    yield fn
    del op_module.OPS["cube"], op_module.NUMPY[np.cbrt], declare.METHODS["cube"]
    delattr(tg.Tensor, "cube")
    op_module._EXPORTS[__name__].remove("cube")


def test_one_declaration_gives_everything(throwaway_declaration):
    cube = throwaway_declaration
    op = op_module.OPS["cube"]
    assert op.fn is cube and op.domain is not None and op.second_order
    assert tg.Tensor.cube is cube and cube.__name__ == "cube" and "x**3" in cube.__doc__
    assert op_module.exported(__name__) == ["cube"]
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    for y in (cube(x), x.cube(), np.cbrt(x)):  # np.cbrt stands in for a numpy counterpart
        assert y.grad_fn == "cube"
    # int data and Python numbers give the default float dtype, as the other ops do
    assert cube(tg.tensor([2])).dtype == np.float32 and cube(2).item() == 8.0
    (gx,) = tg.grad(cube(x).sum(), x, create_graph=True)  # 3 x^2, differentiable again
    np.testing.assert_allclose(gx.data, [3.0, 12.0])
    np.testing.assert_allclose(tg.grad(gx.sum(), x)[0].data, [6.0, -12.0])


def test_the_in_place_rule_is_used_when_the_engine_owns_the_gradient():
    # tanh's gradient is written into the gradient array it receives when nothing else holds
    # it: the array handed to tanh's rule comes back as tanh's input gradient.
    x = tg.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    y = (x * 2.0).tanh()
    seen = []
    op = y._op
    orig = type(op).backward

    def spy(self, g, ans, args, params, inputs, mutable=False):
        out = orig(self, g, ans, args, params, inputs, mutable)
        seen.append((mutable, out[0] is g))
        return out

    type(op).backward = spy
    try:
        (y * 3.0).sum().backward()
    finally:
        type(op).backward = orig
    assert seen == [(True, True)]
    np.testing.assert_allclose(x.grad, 6 * (1 - np.tanh(2 * x.data) ** 2))


def test_log1p_and_expm1_are_declared_like_the_others():
    x = tg.tensor([1e-10, 0.5], dtype=np.float64, requires_grad=True)
    # accurate near 0, where log(1 + x) and exp(x) - 1 lose digits
    np.testing.assert_allclose([tg.log1p(x).data[0], x.expm1().data[0]], 1e-10, rtol=1e-9)
    assert "log1p" in tg.ops.__all__ and "expm1" in tg.__all__
    assert np.log1p(x).grad_fn == "log1p" and np.expm1(x).grad_fn == "expm1"
    assert {"log1p", "expm1"} <= set(op_module.OPS)


# ------------------------------------------------------------------------- against PyTorch
torch = pytest.importorskip("torch")

DECLARED = sorted(declare.TORCH)
# PyTorch's pow masks its derivatives where the exponent is exactly 0 (its double backward
# then gives 0 where d/db (b a**(b-1)) = a**(b-1)): compared away from that point only.
AWAY_FROM_ZERO = {"pow"}


def _torch_fn(name):
    return getattr(torch, declare.TORCH[name])


@pytest.mark.parametrize("name", DECLARED)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_declared_op_matches_torch(name, data):
    op = op_module.OPS[name]
    inputs, params = op.domain(data.draw, s)
    arrays = [np.asarray(a, dtype=np.float64) for a in inputs]
    if name in AWAY_FROM_ZERO:
        assume(all(np.all(a != 0) for a in arrays))
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = op.fn(*xs, **params), _torch_fn(name)(*ts, **params)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    rng = np.random.default_rng(0)
    v = rng.standard_normal(out.shape)
    w = [rng.standard_normal(a.shape) for a in arrays]
    g1 = tg.grad(out, xs, tg.tensor(v), create_graph=True, allow_unused=True)
    t1 = torch.autograd.grad(ref, ts, torch.tensor(v), create_graph=True, allow_unused=True)
    for g, t in zip(g1, t1):
        np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-8, atol=1e-10)
    # second derivatives: d/dx of sum(w * dL/dx)
    used = [i for i, g in enumerate(g1) if g.requires_grad]
    t_used = [i for i, t in enumerate(t1) if t.requires_grad]
    if not t_used:
        assert not used  # torch: the first derivative is constant, so is ours
        return
    s_tg = sum((g1[i] * w[i]).sum() for i in used) if used else None
    s_t = sum((t1[i] * torch.tensor(w[i])).sum() for i in t_used)
    t2 = torch.autograd.grad(s_t, ts, allow_unused=True)
    g2 = tg.grad(s_tg, xs, allow_unused=True) if s_tg is not None else [None] * len(xs)
    for x, g, t in zip(arrays, g2, t2):
        want = np.zeros_like(x) if t is None else t.numpy(force=True)
        got = np.zeros_like(x) if g is None else g.data
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------------- numpy interop
@pytest.mark.parametrize("call", [
    lambda t: np.cumprod(t), lambda t: np.diff(t), lambda t: np.log2(t), lambda t: np.tan(t),
    lambda t: np.median(t), lambda t: np.add.reduce(t), lambda t: np.exp(t, out=t),
    lambda t: np.sum(t, dtype=np.float64), lambda t: np.arctan2(t, 1.0),
], ids=["cumprod", "diff", "log2", "tan", "median", "add.reduce", "exp-out", "sum-dtype",
        "arctan2"])
def test_numpy_without_gradient_raises_naming_it(call):
    x = tg.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"tensorgrad has no gradient for numpy\.\w+"):
        call(x)
    with tg.no_grad():  # no graph to lose: computed on the data, as before
        assert isinstance(call(x), (np.ndarray, np.generic, tg.Tensor))
    call(tg.tensor([0.5, 2.0]))  # nor without requires_grad


def test_the_message_names_the_function_and_the_fixes():
    x = tg.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(TypeError) as e:
        np.log2(x)
    assert "numpy.log2" in str(e.value) and "detach()" in str(e.value) \
        and "tg.no_grad()" in str(e.value)
    with pytest.raises(TypeError, match=r"numpy\.sum with these arguments.*use tg\.sum"):
        np.sum(x, dtype=np.float64)


def test_numpy_functions_without_a_gradient_to_lose_pass_through():
    x = tg.tensor([0.5, -2.0, 3.0], requires_grad=True)
    assert np.argmax(x) == 2 and np.shape(x) == (3,) and np.isfinite(x).all()
    assert np.allclose(x, x.data) and np.array_equal(x, x.data) and np.round(x)[1] == -2
    assert (np.sign(x).data == [1, -1, 1]).all() and (np.less(x, 0).data == [0, 1, 0]).all()
    assert np.zeros_like(x).shape == (3,)


def test_numpy_functions_with_an_entry_record_the_op():
    x = tg.tensor([[0.5, 2.0]], requires_grad=True)
    for y in (np.exp(x), np.sum(x, axis=1), np.reshape(x, (2,)), np.transpose(x),
              np.concatenate([x, x]), np.where(x.data > 1, x, 0.0), np.maximum(x, 1.0),
              np.clip(x, 0.0, 1.0), np.std(x), x.data * x):
        assert isinstance(y, tg.Tensor) and y.requires_grad


def test_rules_calling_numpy_differentiate_under_create_graph():
    # log1p's first derivative 1/(1+x) and a rule written with np.log1p both stay in the graph.
    x = tg.tensor([0.5, 2.0], dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(np.log1p(x).sum(), x, create_graph=True)
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, -1 / (1 + x.data) ** 2)
