"""Scaled dot-product attention and nn.MultiheadAttention: PyTorch's semantics (values, first
and second derivatives against PyTorch in float64, with the Linear weights transposed into
PyTorch's in_proj layout), masks of every kind, and bad input raising before recording."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F

RNG = np.random.default_rng(0)


def test_attention_is_softmax_of_scaled_scores_times_values():
    q, k, v = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 4)), \
        RNG.standard_normal((2, 5, 2))
    out = F.scaled_dot_product_attention(tg.tensor(q), tg.tensor(k), tg.tensor(v))
    s = q @ k.transpose(0, 2, 1) / 2.0
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out.data, p @ v, rtol=1e-12)
    big = F.scaled_dot_product_attention(tg.tensor(q * 1e4), tg.tensor(k * 1e4), tg.tensor(v))
    assert np.isfinite(big.data).all()  # the stable softmax does not overflow


def test_masks_hide_positions():
    q = tg.tensor(RNG.standard_normal((1, 2, 3)), requires_grad=True)
    v = tg.tensor(RNG.standard_normal((1, 2, 3)), requires_grad=True)
    keep_first = np.array([[True, False], [True, False]])
    out = F.scaled_dot_product_attention(q, q, v, attn_mask=keep_first)
    np.testing.assert_allclose(out.data[0], np.repeat(v.data[0, :1], 2, axis=0))
    out.sum().backward()
    np.testing.assert_array_equal(v.grad[0, 1], 0)  # the hidden value gets no gradient
    nothing = F.scaled_dot_product_attention(q, q, v, attn_mask=np.array([True, False])[:, None]
                                             & np.array([True, True]))
    np.testing.assert_array_equal(nothing.data[0, 1], 0)  # an empty row gives zeros


@pytest.mark.parametrize("call, exc, words", [
    (lambda q: F.scaled_dot_product_attention(q, q[..., :2], q), ValueError, "agree in E"),
    (lambda q: F.scaled_dot_product_attention(q[0, 0], q, q), ValueError, r"\(\.\.\., L, E\)"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 2), bool)),
     ValueError, r"attn_mask of shape \(3, 2\) .* \(2, 3, 3\)"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), np.int64)),
     TypeError, "boolean"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, np.ones((3, 3), bool), True),
     ValueError, "not both"),
    (lambda q: nn.MultiheadAttention(4, 2)(q, q, q), ValueError,
     r"MultiheadAttention: expected query of shape \(N, L, 4\) or \(L, 4\), got shape "
     r"\(2, 3, 3\)"),
    (lambda q: nn.MultiheadAttention(4, 2)(tg.ones((2, 3, 4)), tg.ones((2, 5, 4)), tg.ones(
        (2, 4, 4))), ValueError, r"key \(2, 5, 4\) and value \(2, 4, 4\)"),
    (lambda q: nn.MultiheadAttention(4, 2)(tg.ones((2, 3, 4)), tg.ones((1, 3, 4)), tg.ones(
        (1, 3, 4))), ValueError, "batch sizes"),
    (lambda q: nn.MultiheadAttention(4, 2)(tg.ones((2, 3, 4)), tg.ones((2, 5, 4)), tg.ones(
        (2, 5, 4)), attn_mask=np.ones((5, 3), bool)), ValueError,
     r"attn_mask must have shape \(L, S\) = \(3, 5\) or \(N \* num_heads, L, S\) = "
     r"\(4, 3, 5\), got \(5, 3\)"),
    (lambda q: nn.MultiheadAttention(6, 4), ValueError, "divisible"),
])
def test_bad_input_raises_before_recording(call, exc, words):
    q = tg.tensor(RNG.standard_normal((2, 3, 3)), requires_grad=True)
    with pytest.raises(exc, match=words):
        call(q)
    assert q.grad is None


def test_multihead_attention_shapes_modes_and_init():
    tg.manual_seed(0)
    mha = nn.MultiheadAttention(64, 4)
    assert [n for n, _ in mha.named_parameters()] == [
        f"{p}_proj.{w}" for p in ("q", "k", "v", "out") for w in ("weight", "bias")]
    assert list(dict(mha.named_children())) == ["q_proj", "k_proj", "v_proj", "out_proj"]
    bound = np.sqrt(6 / (4 * 64))
    assert 0.9 * bound < np.abs(mha.q_proj.weight.data).max() <= bound
    assert 0.9 / 8 < np.abs(mha.out_proj.weight.data).max() <= 1 / 8
    assert not mha.q_proj.bias.data.any() and not mha.out_proj.bias.data.any()
    x = tg.randn(5, 64)  # unbatched (L, E)
    out, w = mha(x, x, x, is_causal=True)
    assert out.shape == (5, 64) and w.shape == (5, 5)
    np.testing.assert_allclose(w.data.sum(-1), 1, rtol=1e-5)
    assert np.all(np.triu(w.data, 1) == 0)
    seq_first = nn.MultiheadAttention(8, 2, batch_first=False)
    y, per_head = seq_first(tg.randn(5, 2, 8), tg.randn(7, 2, 8), tg.randn(7, 2, 8),
                            average_attn_weights=False)
    assert y.shape == (5, 2, 8) and per_head.shape == (2, 2, 5, 7)
    assert seq_first(tg.randn(5, 2, 8), tg.randn(7, 2, 8), tg.randn(7, 2, 8),
                     need_weights=False)[1] is None


# ------------------------------------------------------------------------- against PyTorch
@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal", "empty_row"])
def test_sdpa_matches_torch(mask):
    torch = pytest.importorskip("torch")
    from torch_check import compare

    q, k, v = (RNG.standard_normal(s) for s in ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)))
    m = None
    if mask == "bool":
        m = RNG.random((3, 5)) > 0.4
        m[:, 0] = True
    elif mask == "float":
        m = RNG.standard_normal((2, 1, 3, 5))
    elif mask == "empty_row":
        m = np.ones((3, 5), bool)
        m[1] = False
    tm = None if m is None else torch.tensor(m)
    causal = mask == "causal"
    compare(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, m, causal),
            lambda a, b, c: torch.nn.functional.scaled_dot_product_attention(
                a, b, c, attn_mask=tm, is_causal=causal), [q, k, v])


def _torch_copy(torch, mha, bias=True):
    ref = torch.nn.MultiheadAttention(mha.embed_dim, mha.num_heads, bias=bias,
                                      batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.tensor(np.concatenate(
            [lin.weight.data.T for lin in (mha.q_proj, mha.k_proj, mha.v_proj)])))
        ref.out_proj.weight.copy_(torch.tensor(mha.out_proj.weight.data.T))
        if bias:
            ref.in_proj_bias.copy_(torch.tensor(np.concatenate(
                [lin.bias.data for lin in (mha.q_proj, mha.k_proj, mha.v_proj)])))
            ref.out_proj.bias.copy_(torch.tensor(mha.out_proj.bias.data))
    return ref


@pytest.mark.parametrize("case", ["plain", "bool_mask", "float_mask", "padding", "no_bias"])
def test_multihead_attention_matches_torch(case):
    torch = pytest.importorskip("torch")
    tg.manual_seed(1)
    mha = nn.MultiheadAttention(6, 3, bias=case != "no_bias").double()
    for p in mha.parameters():  # non-zero biases, so that their gradients are tested
        p.data[...] = RNG.standard_normal(p.shape) * 0.5
    ref = _torch_copy(torch, mha, bias=case != "no_bias")
    q, kv = RNG.standard_normal((2, 3, 6)), RNG.standard_normal((2, 4, 6))
    kw, tkw = {}, {}
    if case == "bool_mask":  # PyTorch's layer: True = may NOT attend
        m = RNG.random((3, 4)) > 0.6
        m[:, 0] = False
        kw, tkw = {"attn_mask": m}, {"attn_mask": torch.tensor(m)}
    elif case == "float_mask":
        m = RNG.standard_normal((6, 3, 4))
        kw, tkw = {"attn_mask": m}, {"attn_mask": torch.tensor(m)}
    elif case == "padding":
        pad = np.array([[False, False, True, True], [False, True, False, False]])
        kw, tkw = {"key_padding_mask": pad}, {"key_padding_mask": torch.tensor(pad)}
    tq, tkv = torch.tensor(q, requires_grad=True), torch.tensor(kv, requires_grad=True)
    oq, okv = tg.tensor(q, requires_grad=True), tg.tensor(kv, requires_grad=True)
    out, w = mha(oq, okv, okv, **kw)
    rout, rw = ref(tq, tkv, tkv, **tkw)
    np.testing.assert_allclose(out.data, rout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.data, rw.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = RNG.standard_normal(out.shape)
    ((out * seed).sum() + (w * w).sum()).backward()
    ((rout * torch.tensor(seed)).sum() + (rw * rw).sum()).backward()
    np.testing.assert_allclose(oq.grad, tq.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(okv.grad, tkv.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mha.out_proj.weight.grad, ref.out_proj.weight.grad.numpy().T,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        np.concatenate([lin.weight.grad.T for lin in (mha.q_proj, mha.k_proj, mha.v_proj)]),
        ref.in_proj_weight.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_multihead_attention_second_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    from torch_check import compare

    tg.manual_seed(2)
    mha = nn.MultiheadAttention(4, 2).double()
    ref = _torch_copy(torch, mha)
    causal = ~np.tril(np.ones((3, 3), bool))
    compare(lambda x: mha(x, x, x, is_causal=True)[0],
            lambda x: ref(x, x, x, attn_mask=torch.tensor(causal))[0],
            [RNG.standard_normal((2, 3, 4))])
