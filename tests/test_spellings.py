"""PyTorch spellings next to numpy's: dim=/keepdim=, max(dim) -> (values, indices), size(),
t/numel/clone/long, from_numpy, and the TypeError for a keyword of neither convention."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F

X = np.arange(24.0).reshape(2, 3, 4) % 7 - 3.0


def t(a=X, grad=False):
    return tg.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp"])
def test_dim_and_keepdim_are_axis_and_keepdims(name):
    x = t()
    for fn in (getattr(x, name), lambda **kw: getattr(tg, name)(x, **kw)):
        a = fn(axis=(0, 2), keepdims=True).numpy()
        np.testing.assert_array_equal(fn(dim=(0, 2), keepdim=True).numpy(), a)
        np.testing.assert_array_equal(fn(dim=1).numpy(), fn(axis=1).numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "cumsum", "argmax", "argmin",
                                  "squeeze", "unsqueeze"])
def test_single_axis_ops_take_dim(name):
    x = t(X[:, :1])
    np.testing.assert_array_equal(getattr(x, name)(dim=1).numpy(), getattr(x, name)(1).numpy())
    np.testing.assert_array_equal(getattr(tg, name)(x, dim=1).numpy(),
                                  getattr(tg, name)(x, axis=1).numpy())


def test_joins_take_dim_and_tensors():
    a, b = t(), t(X + 1)
    np.testing.assert_array_equal(tg.cat([a, b], dim=2).numpy(), np.concatenate([X, X + 1], 2))
    np.testing.assert_array_equal(tg.stack(tensors=(a, b), dim=-1).numpy(),
                                  np.stack([X, X + 1], -1))
    assert tg.cat is tg.concatenate


def test_max_with_dim_returns_values_and_indices_with_axis_values_only():
    x = t(grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), X.max(axis=1))
    np.testing.assert_array_equal(indices.numpy(), X.argmax(axis=1))
    assert indices.dtype == np.int64 and not indices.requires_grad
    r = x.min(1, keepdim=True)  # positional dim: PyTorch's meaning
    assert r.values.shape == (2, 1, 4) and r.indices.shape == (2, 1, 4)
    np.testing.assert_array_equal(r.indices.numpy(), X.argmin(axis=1)[:, None])
    assert isinstance(x.max(axis=1), tg.Tensor) and x.max(axis=(0, 1)).shape == (4,)
    assert isinstance(tg.max(x), tg.Tensor) and x.max().item() == X.max()
    np.testing.assert_array_equal(tg.max(x, t(X * 0)).numpy(), np.maximum(X, 0))
    values.sum().backward()  # gradient through the values
    assert x.grad.sum() == 2 * 4
    with pytest.raises(TypeError, match="once"):
        x.max(1, axis=1)


def test_var_std_keep_ddof0_and_take_correction_and_unbiased():
    x = t()
    assert np.isclose(x.var().item(), X.var())
    assert np.isclose(x.var(unbiased=True).item(), X.var(ddof=1))
    assert np.isclose(x.std(correction=1).item(), X.std(ddof=1))
    assert np.isclose(tg.std(x, dim=0, unbiased=False).numpy(), X.std(axis=0)).all()
    with pytest.raises(TypeError, match="twice"):
        x.var(ddof=1, correction=1)


def test_clip_takes_min_max_as_clamp():
    x = t()
    np.testing.assert_array_equal(x.clip(min=-1, max=1).numpy(), np.clip(X, -1, 1))
    np.testing.assert_array_equal(tg.clamp(x, min=0).numpy(), np.maximum(X, 0))
    np.testing.assert_array_equal(x.clamp(a_max=0).numpy(), np.minimum(X, 0))


def test_a_keyword_of_neither_convention_names_the_supported_spelling():
    x = t()
    with pytest.raises(TypeError, match=r"^sum: unexpected keyword 'dims'; use axis= \(numpy\) "
                       r"or dim= \(PyTorch\)$"):
        x.sum(dims=1)
    with pytest.raises(TypeError, match="keepdims= .numpy. or keepdim="):
        tg.mean(x, keep_dims=True)
    with pytest.raises(TypeError, match="min="):
        x.clamp(minimum=0)
    with pytest.raises(TypeError, match="ddof= .numpy. or correction= / unbiased="):
        x.std(dof=1)
    with pytest.raises(TypeError, match="out="):
        tg.sum(x, out=None)
    with pytest.raises(TypeError, match="twice"):
        x.sum(1, dim=1)


def test_size_is_the_element_count_and_callable_as_in_pytorch():
    x = t()
    assert x.size == 24 and x.size * 2 == 48 and isinstance(x.size, int)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert repr(x.size) == "24" and x.numel() == 24 and x.dim() == 3
    with pytest.raises(IndexError, match="out of range"):
        x.size(3)


def test_t_clone_long_float_double_view_permute():
    m = t(X[0], grad=True)
    assert m.t().shape == (4, 3) and t(X[0, 0]).t().shape == (4,)
    with pytest.raises(ValueError, match="transpose"):
        t().t()
    c = m.clone()
    c.data[0, 0] = 100.0
    assert m.data[0, 0] == X[0, 0, 0]  # its own memory
    (c * 2).sum().backward()
    np.testing.assert_array_equal(m.grad, np.full((3, 4), 2.0))
    assert m.long().dtype == np.int64 and m.float().dtype == np.float32
    assert m.double().dtype == np.float64
    assert m.view(4, 3).shape == (4, 3) and t().permute(2, 0, 1).shape == (4, 2, 3)


def test_from_numpy_shares_memory():
    a = np.zeros(3, dtype=np.float32)
    x = tg.from_numpy(a)
    a[1] = 5.0
    assert x.data[1] == 5.0 and x.dtype == np.float32
    with pytest.raises(TypeError, match="tg.tensor"):
        tg.from_numpy([1.0, 2.0])


def test_to_device_cpu_is_accepted_and_cuda_is_refused():
    model = nn.Linear(2, 3)
    assert model.to("cpu") is model
    assert t().to("cpu").dtype == X.dtype and t().to("cpu", np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="cuda.*CPU"):
        model.to("cuda")
    with pytest.raises(ValueError, match="CPU"):
        t().to("cuda:0")


def test_layers_and_functional_take_dim():
    x = t(X[0])
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).numpy(), F.softmax(x, dim=0).numpy())
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(x).numpy(), F.log_softmax(x, 0).numpy())


def test_numpy_functions_on_tensors_keep_numpy_meaning():
    x = t(grad=True)
    assert isinstance(np.max(x, axis=1), tg.Tensor)
    np.testing.assert_array_equal(np.cumsum(x, axis=2).numpy(), np.cumsum(X, axis=2))
    np.testing.assert_array_equal(np.sort(x, axis=0).numpy(), np.sort(X, axis=0))
    assert np.tile(x, (2, 1, 1)).requires_grad


def test_pytorch_constructor_and_dtype_spellings():
    assert tg.float is np.float32 and tg.double is np.float64 and tg.long is np.int64
    assert "float" not in tg.__all__  # a star import keeps the builtin float
    assert tg.tensor([1, 2], dtype=tg.long).dtype == np.int64
    x = t(X[0])
    for layer in (nn.ReLU(inplace=True), nn.LeakyReLU(0.1, inplace=True),
                  nn.Dropout(0.5, inplace=True).eval()):
        assert layer(x).shape == x.shape and np.all(x.numpy() == X[0])  # x is left as it was


def test_losses_name_the_keyword_they_take():
    z, y = t(X[0]), np.array([0, 1, 2])
    with pytest.raises(TypeError, match="cross_entropy: unexpected keyword 'weights'; use weight="):
        F.cross_entropy(z, y, weights=np.ones(4))
    with pytest.raises(TypeError, match="reduction="):
        F.nll_loss(z, y, size_average=False)
    with pytest.raises(TypeError, match="mse_loss: unexpected keyword 'reductions'; use "
                       "reduction="):
        F.mse_loss(z, z, reductions="sum")
