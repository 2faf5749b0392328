"""The Tensor itself: creation and dtype policy, attributes, operators, numpy interop."""
import numpy as np
import pytest

import tensorgrad as tg


def test_python_floats_become_default_dtype_and_numpy_keeps_its_own():
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor(3.5).dtype == np.float32
    assert tg.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert tg.Tensor(np.zeros(2, np.float16)).dtype == np.float16
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True, False]).dtype == np.bool_
    assert tg.tensor([1, 2.5]).dtype == np.float32


def test_set_default_dtype():
    try:
        tg.set_default_dtype(np.float64)
        assert tg.get_default_dtype() == np.float64
        assert tg.tensor([1.0]).dtype == np.float64
        assert tg.randn(2).dtype == np.float64
    finally:
        tg.set_default_dtype(np.float32)
    with pytest.raises(TypeError):
        tg.set_default_dtype(np.int32)


@pytest.mark.parametrize("data", [[1, 2], np.arange(3), [True], np.array([1], np.int32)])
def test_integer_or_bool_data_cannot_require_grad(data):
    with pytest.raises(TypeError, match="floating"):
        tg.tensor(data, requires_grad=True)


def test_data_is_copied_and_attributes():
    a = np.ones((2, 3))
    t = tg.tensor(a, requires_grad=True)
    a[0, 0] = 5
    assert t.data[0, 0] == 1
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert t.T.shape == (3, 2)
    assert t.is_leaf and t.grad is None and t.requires_grad
    assert isinstance(t.numpy(), np.ndarray)
    assert tg.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match="item"):
        t.item()
    d = (t * 2).detach()
    assert not d.requires_grad and d.is_leaf
    assert not (t * 2).is_leaf


def test_zero_grad_sets_none():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad is not None
    x.zero_grad()
    assert x.grad is None


def test_python_numbers_are_weak_and_arrays_promote():
    x = tg.tensor([1.0, 2.0])
    assert (x * 2.0).dtype == np.float32
    assert (2 + x).dtype == np.float32
    assert (x / np.float64(3)).dtype == np.float32
    assert (x + np.ones(2)).dtype == np.float64  # a float64 array promotes, as in numpy/torch
    assert (tg.tensor([1, 2]) * 1.5).dtype == np.float32
    assert (tg.tensor([1, 2]) / tg.tensor([2, 2])).dtype == np.float32


def test_operators_match_numpy():
    a = np.array([[1.0, -2.0], [3.0, 4.0]])
    b = np.array([0.5, 2.0])
    ta, tb = tg.tensor(a), tg.tensor(b)
    for got, want in [
        (ta + tb, a + b), (ta - tb, a - b), (ta * tb, a * b), (ta / tb, a / b),
        (abs(ta) ** tb, np.abs(a) ** b), (ta @ tb, a @ b), (-ta, -a), (b - ta, b - a),
        (2 / ta, 2 / a), (2 ** tb, 2 ** b), (a @ ta, a @ a), (b * ta, b * a),
    ]:
        assert isinstance(got, tg.Tensor)
        np.testing.assert_allclose(got.data, want)


def test_comparisons_are_bool_tensors_without_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r, want in [(x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]), (x > 2, [0, 0, 1]),
                    (x >= 2, [0, 1, 1]), (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1])]:
        assert r.dtype == np.bool_ and not r.requires_grad
        np.testing.assert_array_equal(r.data, np.array(want, bool))


def test_getitem_kinds_and_accumulating_backward():
    x = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    assert x[1].shape == (4,)
    assert x[1:, ::2].shape == (2, 2)
    assert x[None, ..., 0].shape == (1, 3)
    assert x[[0, 0, 2]].shape == (3, 4)
    assert x[x > 5].shape == (6,)
    assert x[tg.tensor([2, 1])].shape == (2, 4)
    x[[0, 0, 2], [1, 1, 3]].sum().backward()
    want = np.zeros((3, 4))
    want[0, 1] = 2
    want[2, 3] = 1
    np.testing.assert_array_equal(x.grad, want)


def test_methods_and_functions_agree():
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x = tg.tensor(a)
    np.testing.assert_allclose(x.sum(axis=(0, 2)).data, a.sum(axis=(0, 2)))
    np.testing.assert_allclose(tg.mean(x, 1, keepdims=True).data, a.mean(1, keepdims=True))
    np.testing.assert_allclose(x.var(axis=-1, ddof=1).data, a.var(axis=-1, ddof=1))
    np.testing.assert_allclose(x.max(axis=0).data, a.max(axis=0))
    np.testing.assert_allclose(tg.min(x).data, a.min())
    np.testing.assert_allclose(x.logsumexp(axis=2).data, np.log(np.exp(a).sum(2)))
    assert x.reshape(4, 6).shape == (4, 6) and x.reshape((-1,)).shape == (24,)
    assert x.transpose().shape == (4, 3, 2)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)
    assert x.transpose(0, 2).shape == (4, 3, 2)  # two axes: swap them (PyTorch)
    assert x.flatten().shape == (24,)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4)
    assert x.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert tg.tensor(np.ones((1, 3))).expand(2, -1).shape == (2, 3)
    assert tg.tensor(np.ones(3)).broadcast_to((2, 3)).shape == (2, 3)
    np.testing.assert_allclose(x.clip(-0.5, 0.5).data, np.clip(a, -0.5, 0.5))
    np.testing.assert_allclose(tg.where(x > 0, x, 0.0).data, np.where(a > 0, a, 0))
    np.testing.assert_allclose(tg.maximum(x, 0.1).data, np.maximum(a, 0.1))
    np.testing.assert_allclose(tg.concatenate([x, x], axis=1).data, np.concatenate([a, a], 1))
    assert tg.stack([x, x], axis=-1).shape == (2, 3, 4, 2)
    assert tg.matmul(x, np.ones(4)).shape == (2, 3)


def test_creation_functions():
    tg.manual_seed(0)
    a = tg.randn(2, 3).data
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.randn((2, 3)).data, a)
    assert tg.rand(4).data.min() >= 0 and tg.rand(4).dtype == np.float32
    assert tg.zeros(2, 2).data.sum() == 0 and tg.ones((3,)).data.sum() == 3
    assert tg.zeros_like(tg.tensor(np.ones(2, np.float64))).dtype == np.float64
    assert tg.ones_like(np.ones((2, 2))).shape == (2, 2)
    assert tg.arange(5).dtype == np.int64 and tg.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(2).data, np.eye(2))
    assert tg.zeros(2, requires_grad=True).requires_grad


def test_numpy_functions_dispatch_to_tensor_ops():
    x = tg.tensor([0.5, 1.5], requires_grad=True)
    y = np.exp(x)
    assert isinstance(y, tg.Tensor) and y.requires_grad
    y = np.sum(np.where(np.array([True, False]), x * x, 0))
    y.backward()
    np.testing.assert_allclose(x.grad, [1.0, 0.0])
    assert isinstance(np.ones(2) * x, tg.Tensor)
    assert np.allclose(x, [0.5, 1.5])  # unknown functions run on the data
    assert np.asarray(x).dtype == np.float32


def test_repr_and_len():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<mul>" in repr(x * 2)
    assert len(x) == 2 and [float(v) for v in x] == [1.0, 2.0]
