"""Every op's gradient against central finite differences, driven by the op table.

Each op declares its valid inputs (its test domain) beside its forward and backward rule; the
tests below draw from that domain, so adding an op to tensorgrad/ops adds its tests here.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgrad as tg
import tensorgrad.nn.functional  # noqa: F401  (registers the composite losses in OPS)
from tensorgrad.autograd.op import OPS
from tensorgrad.testing import strategies as s

# Public functions of tensorgrad.ops that have no gradient (comparisons, masks, helpers).
NOT_DIFFERENTIABLE = {
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "sign",
    "array_function", "array_ufunc", "index_data", "argmax", "argmin", "allclose",
}


def _draw(op, data, dtype=np.float64):
    inputs, params = op.domain(data.draw, s)
    xs = [tg.tensor(a.astype(dtype), requires_grad=True) if a.dtype.kind == "f" else tg.tensor(a)
          for a in map(np.asarray, inputs)]
    return xs, params


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_gradient_matches_finite_differences(name, data):
    op = OPS[name]
    xs, params = _draw(op, data)
    assert tg.gradcheck(lambda *a: op.fn(*a, **params), xs)


@pytest.mark.parametrize("name", sorted(n for n in OPS if OPS[n].second_order))
@given(data=st.data())
def test_second_derivative_matches_finite_differences(name, data):
    op = OPS[name]
    xs, params = _draw(op, data)
    assert tg.gradgradcheck(lambda *a: op.fn(*a, **params), xs)


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_gradient_has_shape_and_dtype_of_its_tensor_float32(name, data):
    op = OPS[name]
    xs, params = _draw(op, data, np.float32)
    params = {k: (np.float32 if v is np.float64 else v) for k, v in params.items()}
    out = op.fn(*xs, **params)
    if not out.requires_grad:
        return
    out.backward(np.ones(out.shape, dtype=out.dtype))
    for x in xs:
        if x.requires_grad:
            assert x.grad is not None
            assert isinstance(x.grad, np.ndarray)
            assert x.grad.shape == x.shape
            assert x.grad.dtype == np.float32


def test_every_differentiable_public_op_has_a_gradient_property_test():
    registered = {op.fn for op in OPS.values()} | {
        getattr(tg.ops, n) for n in OPS if hasattr(tg.ops, n)}  # aliases such as cat
    missing = [
        name for name in tg.ops.__all__
        if name not in NOT_DIFFERENTIABLE and name not in OPS
        and getattr(tg.ops, name) not in registered
    ]
    assert not missing, f"ops without a test domain (add domain= to their Op): {missing}"


def test_every_registered_op_is_callable_and_has_a_domain():
    for name, op in OPS.items():
        assert callable(op.fn), name
        assert callable(op.domain), name


def test_gradcheck_fails_for_a_wrong_rule():
    # The property test above can fail: a deliberately wrong rule is caught.
    from tensorgrad.autograd.op import Op, record

    bad = Op("bad_square", lambda g, ans, x: g * x)  # should be 2 * g * x
    x = tg.tensor(np.array([0.5, -1.5]), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match="input 0"):
        tg.gradcheck(lambda t: record(bad, t.data ** 2, (t,)), [x])
