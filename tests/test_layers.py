"""Buffers, ModuleDict, Flatten and the normalisation and embedding layers: PyTorch's semantics
(cross-checked in float64 when PyTorch is installed: values, first and second derivatives,
running statistics over several steps), buffers through state_dict/save/load/to(dtype), and
bad input raising before anything is recorded, naming the layer and the shapes."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------- buffers
class WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("scale", np.full(2, 3.0, np.float32))
        self.register_buffer("count", np.array(0, np.int64))
        self.register_buffer("cache", np.zeros(1), persistent=False)


def test_buffers_are_state_but_not_parameters():
    m = WithBuffers()
    assert [n for n, _ in m.named_parameters()] == ["fc.weight", "fc.bias"]
    assert [n for n, _ in m.named_buffers()] == ["scale", "count", "cache"]
    assert list(m.state_dict()) == ["scale", "count", "fc.weight", "fc.bias"]
    assert isinstance(m.scale, tg.Tensor) and not m.scale.requires_grad
    m.count = m.count + 1  # reassigning keeps it a buffer
    assert m.state_dict()["count"] == 1 and "count" in m._buffers
    seq = nn.Sequential(m)
    assert "0.scale" in seq.state_dict() and len(list(seq.buffers())) == 3


def test_buffers_round_trip_through_state_dict_save_load_and_to(tmp_path):
    m = WithBuffers()
    m.scale.data[:] = [5, 6]
    m.count.data[...] = 7
    other = WithBuffers()
    other.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(other.scale.data, [5, 6])
    assert other.count.item() == 7
    m.save(tmp_path / "m.npz")
    third = WithBuffers()
    third.load(tmp_path / "m.npz")
    assert third.count.item() == 7 and third.scale.data.tolist() == [5, 6]
    third.to(np.float64)
    assert third.scale.dtype == np.float64 and third.count.dtype == np.int64
    assert third.cache.dtype == np.float64
    bad = m.state_dict()
    bad["scale"] = np.zeros(3)
    with pytest.raises(nn.StateDictError, match="buffer in the model"):
        third.load_state_dict(bad)


def test_register_buffer_rejects_bad_names_and_values():
    m = WithBuffers()
    with pytest.raises(KeyError, match="already"):
        m.register_buffer("fc", np.zeros(1))
    with pytest.raises(KeyError, match="'.'"):
        m.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match="buffer 'scale'"):
        m.scale = "three"


def test_module_dict_and_flatten():
    d = nn.ModuleDict({"a": nn.Linear(2, 3)})
    d.update([("b", nn.Linear(3, 1))])
    assert list(d) == ["a", "b"] and list(d.keys()) == ["a", "b"] and len(d) == 2
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert d["b"](d["a"](tg.ones((4, 2)))).shape == (4, 1)
    d.pop("a")
    assert "a" not in d and list(d.state_dict()) == ["b.weight", "b.bias"]
    with pytest.raises(KeyError, match="no module 'zz'"):
        d["zz"]
    with pytest.raises(TypeError):
        d["c"] = 3
    x = tg.ones((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(end_dim=2)(x).shape == (2, 12, 5)
    assert nn.Flatten(start_axis=2)(x).shape == (2, 3, 20)


# ------------------------------------------------------------------------- layers
def test_batchnorm_training_and_eval_semantics():
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    x = RNG.standard_normal((8, 3, 5)) * 2 + 1
    y = bn(tg.tensor(x)).data
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    np.testing.assert_allclose(y, (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5))
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mean)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * var * 40 / 39)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    z = bn(tg.tensor(x)).data
    np.testing.assert_allclose(z, (x - bn.running_mean.data[:, None])
                               / np.sqrt(bn.running_var.data[:, None] + 1e-5))
    assert bn.num_batches_tracked.item() == 1
    free = nn.BatchNorm2d(2, track_running_stats=False, affine=False).eval()
    assert list(free.state_dict()) == [] and list(free.parameters()) == []
    img = RNG.standard_normal((2, 2, 3, 3))
    np.testing.assert_allclose(free(tg.tensor(img)).data.mean(axis=(0, 2, 3)), 0, atol=1e-6)


def test_layernorm_and_embedding_layers():
    ln = nn.LayerNorm((2, 3))
    x = RNG.standard_normal((4, 2, 3)).astype(np.float32)
    y = ln(tg.tensor(x)).data
    flat = x.reshape(4, 6)
    ref = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y.reshape(4, 6), ref, rtol=1e-5, atol=1e-5)
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    assert nn.LayerNorm(3, elementwise_affine=False).state_dict() == {}
    tg.manual_seed(0)
    emb = nn.Embedding(1000, 8, padding_idx=-1)
    assert emb.padding_idx == 999 and not emb.weight.data[999].any()
    assert abs(emb.weight.data[:999].std() - 1.0) < 0.05  # N(0, 1), as PyTorch
    out = emb(np.array([[999, 3, 3]]))
    out.sum().backward()
    assert emb.weight.grad[3].tolist() == [2.0] * 8 and not emb.weight.grad[999].any()


@pytest.mark.parametrize("make, x, words", [
    (lambda: nn.BatchNorm1d(3), np.ones((4, 2)), r"BatchNorm1d: expected input of shape "
     r"\(N, C\) or \(N, C, L\) with C = 3, got shape \(4, 2\)"),
    (lambda: nn.BatchNorm1d(3), np.ones((4, 3, 2, 2)), r"got shape \(4, 3, 2, 2\)"),
    (lambda: nn.BatchNorm2d(3), np.ones((4, 3, 2)), r"BatchNorm2d: .*\(N, C, H, W\)"),
    (lambda: nn.BatchNorm1d(3), np.ones((1, 3)), "more than 1 value per channel"),
    (lambda: nn.LayerNorm((2, 3)), np.ones((3, 2)), r"LayerNorm: expected input of shape "
     r"\(\*, 2, 3\) .* got shape \(3, 2\)"),
    (lambda: nn.LayerNorm(4), np.ones(()), r"got shape \(\)"),
])
def test_layers_reject_bad_input_before_recording(make, x, words):
    layer = make()
    t = tg.tensor(x, requires_grad=True)
    with pytest.raises(ValueError, match=words):
        layer(t)
    if hasattr(layer, "num_batches_tracked"):
        assert layer.num_batches_tracked.item() == 0
        np.testing.assert_array_equal(layer.running_mean.data, 0)


def test_embedding_rejects_bad_indices_naming_the_layer():
    emb = nn.Embedding(5, 2)
    with pytest.raises(TypeError, match=r"Embedding\(5, 2\): embedding: indices must be int"):
        emb(np.array([1.0]))
    with pytest.raises(IndexError, match=r"Embedding\(5, 2\): .*\[0, 5\).*\[2, 7\]"):
        emb(np.array([2, 7]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)


# ------------------------------------------------------------------------- against PyTorch
def test_functional_norms_match_torch():
    torch = pytest.importorskip("torch")
    from torch_check import compare

    tf = torch.nn.functional
    x = RNG.standard_normal((5, 3, 4))
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    compare(lambda a, c, d: F.batch_norm(a, None, None, c, d, True) ** 2,
            lambda a, c, d: tf.batch_norm(a, None, None, c, d, True) ** 2, [x, w, b])
    rm, rv = RNG.standard_normal(3), RNG.uniform(0.5, 2, 3)
    compare(lambda a, c, d: F.batch_norm(a, rm, rv, c, d, False) ** 2,
            lambda a, c, d: tf.batch_norm(a, torch.tensor(rm), torch.tensor(rv), c, d, False)
            ** 2, [x, w, b])
    w2, b2 = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    compare(lambda a, c, d: F.layer_norm(a, (3, 4), c, d).tanh(),
            lambda a, c, d: tf.layer_norm(a, (3, 4), c, d).tanh(), [x, w2, b2])
    compare(lambda a: F.layer_norm(a, 4) ** 3, lambda a: tf.layer_norm(a, (4,)) ** 3, [x])


@pytest.mark.parametrize("kind, shape, momentum", [
    ("1d", (6, 3), 0.1), ("1d", (4, 3, 5), None), ("2d", (3, 3, 4, 2), 0.3)])
def test_batchnorm_layers_match_torch_over_several_steps(kind, shape, momentum):
    torch = pytest.importorskip("torch")
    ours = (nn.BatchNorm1d if kind == "1d" else nn.BatchNorm2d)(3, momentum=momentum)
    ref = (torch.nn.BatchNorm1d if kind == "1d" else torch.nn.BatchNorm2d)(
        3, momentum=momentum).double()
    ours.to(np.float64)
    rng = np.random.default_rng(1)
    for step in range(4):
        ours.train(step < 3)
        ref.train(step < 3)
        x = rng.standard_normal(shape) * 3 + 2
        tx = torch.tensor(x, requires_grad=True)
        ox = tg.tensor(x, requires_grad=True)
        seed = rng.standard_normal(shape)
        out, rout = ours(ox), ref(tx)
        np.testing.assert_allclose(out.data, rout.detach().numpy(), rtol=1e-8, atol=1e-10)
        out.backward(seed)
        rout.backward(torch.tensor(seed))
        np.testing.assert_allclose(ox.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(ours.weight.grad, ref.weight.grad.numpy(), rtol=1e-8)
        np.testing.assert_allclose(ours.bias.grad, ref.bias.grad.numpy(), rtol=1e-8)
        ours.zero_grad()
        ref.zero_grad()
        for name, buf in ref.named_buffers():
            np.testing.assert_allclose(getattr(ours, name).data, buf.numpy(), rtol=1e-10,
                                       err_msg=name)
    assert set(ours.state_dict()) == set(ref.state_dict())


def test_layernorm_and_embedding_layers_match_torch():
    torch = pytest.importorskip("torch")
    ln, rln = nn.LayerNorm(4).to(np.float64), torch.nn.LayerNorm(4).double()
    with torch.no_grad():
        rln.weight.copy_(torch.tensor(RNG.standard_normal(4)))
    ln.load_state_dict({k: v.numpy() for k, v in rln.state_dict().items()})
    x = RNG.standard_normal((2, 3, 4))
    tx, ox = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    (rln(tx) ** 2).sum().backward()
    (ln(ox) ** 2).sum().backward()
    np.testing.assert_allclose(ox.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ln.weight.grad, rln.weight.grad.numpy(), rtol=1e-8)
    emb, remb = nn.Embedding(6, 3, padding_idx=1).double(), torch.nn.Embedding(6, 3, 1).double()
    emb.load_state_dict({k: v.numpy() for k, v in remb.state_dict().items()})
    ids = np.array([[1, 2, 2], [5, 1, 0]])
    (emb(ids) ** 2).sum().backward()
    (remb(torch.tensor(ids)) ** 2).sum().backward()
    np.testing.assert_allclose(emb.weight.grad, remb.weight.grad.numpy(), rtol=1e-10)
