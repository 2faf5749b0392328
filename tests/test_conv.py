"""Convolution, pooling, einsum and pad: values, first and second derivatives against PyTorch
in float64 (skipped without PyTorch), bad input, and the layers."""
from __future__ import annotations

import gc

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F

RNG = np.random.default_rng(0)


def _torch():
    return pytest.importorskip("torch")


def _against_torch(fn_tg, fn_torch, *arrays, atol=1e-10):
    """Values, gradients and second derivatives of ``fn`` (of every array) agree with PyTorch.

    First order: L1 = sum(tanh(f) * G). Second order: L2 = sum_i sum(dL1/dx_i * H_i), whose
    gradient with respect to each input is a Hessian-vector product."""
    torch = _torch()
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn_tg(*xs), fn_torch(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=atol)
    G = RNG.standard_normal(ref.shape)
    H = [RNG.standard_normal(a.shape) for a in arrays]
    l1 = (out.tanh() * G).sum()
    r1 = (ref.tanh() * torch.tensor(G)).sum()
    g_tg = tg.grad(l1, xs, create_graph=True)
    g_t = torch.autograd.grad(r1, ts, create_graph=True)
    for a, b in zip(g_tg, g_t):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-9, atol=atol)
    l2 = sum((g * h).sum() for g, h in zip(g_tg, H))
    r2 = sum((g * torch.tensor(h)).sum() for g, h in zip(g_t, H))
    hv_tg = tg.grad(l2, xs)
    hv_t = torch.autograd.grad(r2, ts)
    for a, b in zip(hv_tg, hv_t):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=atol)


CONV_CASES = [
    # nd, N, C, O, groups, kernel, stride, padding, dilation, size
    (2, 2, 3, 4, 1, 3, 1, 0, 1, 6),
    (2, 2, 4, 6, 2, 3, 2, 1, 1, 7),
    (2, 1, 4, 4, 4, (2, 3), (1, 2), (1, 0), (2, 1), 6),
    (2, 2, 2, 3, 1, 1, 2, 2, 1, 3),
    (2, 1, 1, 2, 1, 5, 1, 2, 1, 5),
    (1, 2, 3, 4, 1, 3, 1, 1, 1, 8),
    (1, 2, 4, 6, 2, 2, 3, 0, 2, 9),
    (1, 1, 2, 2, 2, 4, 1, (3,), 1, 3),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_matches_torch(case, bias):
    torch = _torch()
    nd, N, C, O, groups, k, s, p, d, size = case
    kernel = k if isinstance(k, tuple) else (k,) * nd
    x = RNG.standard_normal((N, C) + (size,) * nd)
    w = RNG.standard_normal((O, C // groups) + kernel)
    b = RNG.standard_normal(O)
    tg_fn = getattr(F, f"conv{nd}d")
    t_fn = getattr(torch.nn.functional, f"conv{nd}d")
    kw = dict(stride=s, padding=p, dilation=d, groups=groups)
    if bias:
        _against_torch(lambda x, w, b: tg_fn(x, w, b, **kw), lambda x, w, b: t_fn(x, w, b, **kw),
                       x, w, b)
    else:
        _against_torch(lambda x, w: tg_fn(x, w, **kw), lambda x, w: t_fn(x, w, **kw), x, w)


POOL_CASES = [(2, None, 0, 6), (3, 1, 1, 5), (3, 2, 1, 7), (2, 1, 0, 4),
              ((2, 3), (1, 2), (1, 1), 6)]


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_matches_torch(case, nd, kind):
    torch = _torch()
    k, s, p, size = case
    if nd == 1 and isinstance(k, tuple):
        k, s, p = k[1], s[1], p[1]
    x = RNG.permutation(2 * 3 * size ** nd).reshape((2, 3) + (size,) * nd) / 10.0  # no ties
    tg_fn = getattr(F, f"{kind}_pool{nd}d")
    t_fn = getattr(torch.nn.functional, f"{kind}_pool{nd}d")
    _against_torch(lambda x: tg_fn(x, k, s, p), lambda x: t_fn(x, k, s, p), x)


def test_max_pool_ties_go_to_the_first_maximum_as_in_torch():
    torch = _torch()
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1:3, 1:3] = 1.0
    t = tg.tensor(x, requires_grad=True)
    F.max_pool2d(t, 3, 1).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 3, 1).sum().backward()
    np.testing.assert_array_equal(t.grad, xt.grad.numpy())


def test_max_pool_propagates_nan():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    out = F.max_pool2d(tg.tensor(x), 2).data
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1:, 1:]).any()


EINSUM_CASES = {
    "matmul": ("ij,jk->ik", (2, 3), (3, 4)),
    "implicit": ("ij,jk", (2, 3), (3, 4)),
    "batched": ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    "ellipsis": ("...ij,...jk->...ik", (2, 1, 2, 3), (3, 3, 2)),
    "trace": ("ii", (3, 3)),
    "diagonal": ("ii->i", (3, 3)),
    "outer": ("i,j->ij", (3,), (2,)),
    "sum": ("ij->", (2, 3)),
    "three": ("ij,jk,kl->il", (2, 3), (3, 2), (2, 4)),
    "bilinear": ("bi,ij,bj->b", (4, 3), (3, 3), (4, 3)),
}


@pytest.mark.parametrize("name", sorted(EINSUM_CASES))
def test_einsum_matches_torch(name):
    torch = _torch()
    subs, *shapes = EINSUM_CASES[name]
    arrays = [RNG.standard_normal(s) for s in shapes]
    _against_torch(lambda *xs: tg.einsum(subs, *xs), lambda *xs: torch.einsum(subs, *xs), *arrays)


@pytest.mark.parametrize("pad_width", [1, (1, 2), ((0, 0), (2, 1), (0, 3))])
def test_pad_matches_torch(pad_width):
    torch = _torch()
    x = RNG.standard_normal((2, 3, 4))
    pairs = np.broadcast_to(np.asarray(pad_width), (3, 2))
    torch_pad = tuple(int(v) for pair in pairs[::-1] for v in pair)  # last axis first
    _against_torch(lambda x: tg.pad(x, pad_width, value=0.5),
                   lambda x: torch.nn.functional.pad(x, torch_pad, value=0.5), x)
    assert np.array_equal(tg.pad(x, pad_width, 0.5).data, np.pad(x, pad_width,
                                                                  constant_values=0.5))


# ------------------------------------------------------------------------- bad input
def _live_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is tg.Tensor)


BAD = [
    (lambda x, w: F.conv2d(x[0], w), "conv2d", r"\(N, C, H, W\).*\(3, 6, 6\)"),
    (lambda x, w: F.conv2d(x, w[:, :2]), "conv2d", r"3 channels.*\(4, 2, 3, 3\)"),
    (lambda x, w: F.conv2d(x, w, groups=2), "conv2d", r"groups=2"),
    (lambda x, w: F.conv2d(x, w, stride=0), "conv2d", "stride"),
    (lambda x, w: F.conv2d(x[:, :, :2, :2], w), "conv2d", r"kernel \(3, 3\).*larger.*\(2, 2\)"),
    (lambda x, w: F.conv2d(x, w, tg.ones(3)), "conv2d", r"bias of shape \(3,\)"),
    (lambda x, w: F.conv1d(x, w), "conv1d", r"\(N, C, L\).*\(2, 3, 6, 6\)"),
    (lambda x, w: F.max_pool2d(x, 7), "max_pool2d", r"kernel \(7, 7\).*larger"),
    (lambda x, w: F.max_pool2d(x, 2, padding=2), "max_pool2d", "at most half"),
    (lambda x, w: F.avg_pool1d(x, 2), "avg_pool1d", r"\(N, C, L\)"),
    (lambda x, w: tg.pad(x, ((1, 1), (1, 1))), "pad", r"shape \(2, 3, 6, 6\)"),
    (lambda x, w: tg.pad(x, -1), "pad", "negative"),
    (lambda x, w: tg.einsum("ij,jk->ik", w, w), "einsum", r"einsum.*\(4, 3, 3, 3\)"),
    (lambda x, w: tg.einsum("ij,jk", x), "einsum", "2 operand"),
]


def test_bad_input_raises_before_recording():
    x = tg.tensor(np.ones((2, 3, 6, 6)), requires_grad=True)
    w = tg.tensor(np.ones((4, 3, 3, 3)), requires_grad=True)
    before = _live_tensors()
    for fn, name, pattern in BAD:
        with pytest.raises(ValueError, match=pattern) as e:
            fn(x, w)
        assert str(e.value).startswith(name), str(e.value)
    del e
    assert _live_tensors() == before


def test_conv_of_integer_images_computes_in_the_weight_dtype():
    x = np.arange(2 * 1 * 5 * 5, dtype=np.uint8).reshape(2, 1, 5, 5)
    w = tg.tensor(np.ones((1, 1, 3, 3), np.float32), requires_grad=True)
    out = F.conv2d(x, w)
    assert out.dtype == np.float32 and out.data[0, 0, 0, 0] == x[0, 0, :3, :3].sum()


def test_second_derivative_of_a_small_cnn_by_finite_differences():
    x = tg.tensor(RNG.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = tg.tensor(RNG.standard_normal((2, 1, 2, 2)), requires_grad=True)
    v = tg.tensor(RNG.standard_normal((3, 2, 1, 1)), requires_grad=True)

    def net(x, w, v):
        h = F.conv2d(x, w, padding=1, groups=2).tanh()
        return F.conv2d(F.avg_pool2d(F.max_pool2d(h, 2, 1), 2), v).sum()

    assert tg.gradgradcheck(net, [x, w, v])


# ------------------------------------------------------------------------- layers
def test_conv_layers_match_torch_modules_with_the_same_weights():
    torch = _torch()
    cases = ((1, dict(stride=2, padding=1)), (2, dict(padding=(1, 2), dilation=2, groups=2)))
    for nd, kw in cases:
        ours = getattr(nn, f"Conv{nd}d")(4, 6, 3, dtype=np.float64, **kw)
        theirs = getattr(torch.nn, f"Conv{nd}d")(4, 6, 3, dtype=torch.float64, **kw)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
        x = RNG.standard_normal((2, 4) + (9,) * nd)
        out = ours(x)
        ref = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), atol=1e-10)


def test_conv_layer_initialisation_is_pytorchs():
    tg.manual_seed(0)
    layer = nn.Conv2d(12, 66, (3, 5), groups=3)
    bound = 1 / np.sqrt(4 * 15)  # fan_in = in_channels // groups * kH * kW
    assert layer.weight.shape == (66, 4, 3, 5) and layer.bias.shape == (66,)
    assert layer.weight.dtype == tg.get_default_dtype()
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.95 * bound
    np.testing.assert_allclose(layer.weight.data.std(), bound / np.sqrt(3), rtol=0.05)
    assert nn.Conv1d(2, 3, 4, bias=False).bias is None
    assert [n for n, _ in nn.Conv1d(2, 3, 4).named_parameters()] == ["weight", "bias"]


def test_pool_layers():
    x = tg.tensor(RNG.standard_normal((2, 3, 7, 7)))
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 3, 3)
    assert nn.AvgPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 4, 4)
    np.testing.assert_allclose(nn.AvgPool2d(2)(x).data, F.avg_pool2d(x, 2).data)
    assert nn.MaxPool1d(2)(x[:, :, 0]).shape == (2, 3, 3)
    assert nn.AvgPool1d(3, 1, 1)(x[:, :, 0]).shape == (2, 3, 7)
    assert "kernel_size=(2, 2)" in repr(nn.MaxPool2d(2))


LAYER_BAD = [
    (lambda: nn.Conv2d(3, 8, 3)(np.ones((3, 8, 8))), r"Conv2d: .*\(N, 3, H, W\).*\(3, 8, 8\)"),
    (lambda: nn.Conv2d(3, 8, 3)(np.ones((2, 1, 8, 8))),
     r"Conv2d: .*\(N, 3, H, W\) with 3 channels.*\(2, 1, 8, 8\)"),
    (lambda: nn.Conv2d(3, 8, 5)(np.ones((2, 3, 4, 4))), r"Conv2d: kernel \(5, 5\).*\(4, 4\)"),
    (lambda: nn.Conv1d(3, 8, 2)(np.ones((2, 3, 4, 4))), r"Conv1d: .*\(N, 3, L\).*\(2, 3, 4, 4\)"),
    (lambda: nn.Conv2d(3, 8, 3, groups=2), "Conv2d: groups=2 must divide in_channels=3"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "Conv2d: groups=4 must divide .* out_channels=6"),
    (lambda: nn.MaxPool2d(3)(np.ones((2, 3, 8))), r"MaxPool2d: .*\(N, C, H, W\).*\(2, 3, 8\)"),
    (lambda: nn.AvgPool1d(5)(np.ones((2, 3, 4))), r"AvgPool1d: kernel \(5,\).*\(4,\)"),
    (lambda: nn.MaxPool2d(2, padding=2), "MaxPool2d: padding"),
]


def test_layer_bad_input_names_the_layer_and_shapes_and_records_nothing():
    layer = nn.Conv2d(3, 8, 3)
    before = _live_tensors()
    for make, pattern in LAYER_BAD:
        with pytest.raises(ValueError, match=pattern):
            make()
    assert _live_tensors() == before
    assert layer.weight.grad is None


def test_compiled_cnn_step_matches_eager():
    # tg.compile traces numpy calls: pooling's argmax offsets must be recomputed on each call,
    # not baked in from the traced batch.
    def run(compiled):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, dtype=np.float64), nn.ReLU(),
                              nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1), nn.Flatten(),
                              nn.Linear(27, 4, dtype=np.float64))
        opt = tg.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        fn = tg.compile(step) if compiled else step
        rng = np.random.default_rng(1)
        losses = [float(fn(rng.standard_normal((5, 1, 6, 6)), rng.integers(0, 4, 5)).item())
                  for _ in range(3)]
        return losses, [p.data.copy() for p in model.parameters()]

    (eager, p_eager), (compiled, p_compiled) = run(False), run(True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12)
    for a, b in zip(p_compiled, p_eager):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
