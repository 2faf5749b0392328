"""Bad input fails fast, names the op, shapes and dtypes, and records nothing."""
import gc

import numpy as np
import pytest

import tensorgrad as tg


def _live_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is tg.Tensor)  # type(): no proxies


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_broadcast_mismatch_names_op_shapes_and_dtypes(op):
    a = tg.tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.tensor(np.ones((4,), np.float32))
    with pytest.raises(ValueError) as e:
        getattr(tg.ops, op)(a, b)
    msg = str(e.value)
    assert msg.startswith(op) and "(2, 3)" in msg and "(4,)" in msg
    assert "float64" in msg and "float32" in msg


def test_operator_plus_mismatch():
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        tg.tensor(np.ones((2, 3))) + tg.tensor(np.ones(4))


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        tg.tensor(np.ones((2, 3))) @ tg.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match="matmul"):
        tg.matmul(tg.tensor(1.0), tg.tensor(np.ones(2)))


def test_linear_mismatch():
    with pytest.raises(ValueError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        tg.ops.linear(np.ones((2, 3)), np.ones((4, 5)))


@pytest.mark.parametrize("call", [
    lambda x: x.sum(axis=2), lambda x: x.mean(axis=(0, -3)), lambda x: x.max(axis=5),
    lambda x: x.softmax(axis=2), lambda x: x.unsqueeze(4), lambda x: x.squeeze(3),
    lambda x: tg.concatenate([x, x], axis=2), lambda x: x.logsumexp(axis=-3),
])
def test_bad_axis(call):
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises((ValueError, IndexError)) as e:
        call(x)
    assert "(2, 3)" in str(e.value) and "axis" in str(e.value)


def test_bad_axis_type():
    with pytest.raises(TypeError, match="sum: axis"):
        tg.tensor(np.ones(2)).sum(axis=1.5)


def test_out_of_range_index():
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    for index in [5, (0, 7), [0, 3], (slice(None), [4])]:
        with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
            x[index]


def test_reshape_and_broadcast_errors():
    x = tg.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="broadcast_to"):
        x.broadcast_to((3, 3))
    with pytest.raises(ValueError, match="permute"):
        x.permute(0, 0)


def test_cross_entropy_bad_targets():
    z = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(IndexError, match="cross_entropy.*out of range"):
        tg.ops.cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match="cross_entropy"):
        tg.ops.cross_entropy(z, np.array([0, 1, 2]))


def test_integer_requires_grad():
    with pytest.raises(TypeError, match="requires_grad"):
        tg.tensor([1, 2], requires_grad=True)


def test_unsupported_data():
    with pytest.raises(TypeError, match="tensor"):
        tg.tensor(["a", "b"])


def test_failed_op_records_nothing():
    a = tg.tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.tensor(np.ones(4), requires_grad=True)
    y = (a * 2).sum()
    before = _live_tensors()
    for bad in (lambda: a + b, lambda: a @ b, lambda: a[9], lambda: a.sum(axis=3),
                lambda: a.reshape(5)):
        with pytest.raises((ValueError, IndexError)):
            bad()
    assert _live_tensors() == before
    y.backward()
    np.testing.assert_allclose(a.grad, 2 * np.ones((2, 3)))
    assert b.grad is None
