"""Optimizers and schedulers against the documented equations, hand-worked numbers and torch.

Parameters here are a stand-in with the duck type the optimizers rely on (``.data``,
``.grad``, ``.requires_grad``); real Tensors satisfy the same contract.
"""

from __future__ import annotations

import copy
import math
import tracemalloc
from typing import Any, Callable, Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tensorgrad.optim import SGD, Adam, AdamW, CosineAnnealingLR, Optimizer, RMSprop, StepLR


class P:
    """Stand-in parameter."""

    def __init__(self, data: Any, grad: Optional[np.ndarray] = None) -> None:
        self.data = np.asarray(data)
        self.grad = grad
        self.requires_grad = True


Grads = list[Optional[np.ndarray]]

# ---------------------------------------------------------------------------------------
# Straightforward float64 implementations of the equations in the docstrings: new arrays
# everywhere, no in-place tricks, so they share nothing with the code under test.


def ref_sgd(params, seq, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    ps = [np.array(p, dtype=np.float64) for p in params]
    bufs: list[Any] = [None] * len(ps)
    for grads in seq:
        for i, grad in enumerate(grads):
            if grad is None:
                continue
            g = grad + weight_decay * ps[i]
            if momentum != 0:
                if bufs[i] is None:
                    bufs[i] = g
                else:
                    bufs[i] = momentum * bufs[i] + (1 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            ps[i] = ps[i] - lr * g
    return ps


def ref_adam(
    params,
    seq,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    decoupled=False,
):
    b1, b2 = betas
    ps = [np.array(p, dtype=np.float64) for p in params]
    m = [np.zeros_like(p) for p in ps]
    v = [np.zeros_like(p) for p in ps]
    vmax = [np.zeros_like(p) for p in ps]
    t = [0] * len(ps)
    for grads in seq:
        for i, grad in enumerate(grads):
            if grad is None:
                continue
            if decoupled:
                ps[i] = ps[i] * (1 - lr * weight_decay)
                g = grad
            else:
                g = grad + weight_decay * ps[i]
            t[i] += 1
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g**2
            vmax[i] = np.maximum(vmax[i], v[i])
            m_hat = m[i] / (1 - b1 ** t[i])
            v_hat = (vmax[i] if amsgrad else v[i]) / (1 - b2 ** t[i])
            ps[i] = ps[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return ps


def ref_adamw(params, seq, **kw):
    kw.setdefault("weight_decay", 1e-2)
    return ref_adam(params, seq, decoupled=True, **kw)


def ref_rmsprop(
    params, seq, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
):
    ps = [np.array(p, dtype=np.float64) for p in params]
    s = [np.zeros_like(p) for p in ps]
    a = [np.zeros_like(p) for p in ps]
    b = [np.zeros_like(p) for p in ps]
    for grads in seq:
        for i, grad in enumerate(grads):
            if grad is None:
                continue
            g = grad + weight_decay * ps[i]
            s[i] = alpha * s[i] + (1 - alpha) * g**2
            if centered:
                a[i] = alpha * a[i] + (1 - alpha) * g
                avg = np.sqrt(s[i] - a[i] ** 2) + eps
            else:
                avg = np.sqrt(s[i]) + eps
            if momentum > 0:
                b[i] = momentum * b[i] + g / avg
                ps[i] = ps[i] - lr * b[i]
            else:
                ps[i] = ps[i] - lr * g / avg
    return ps


# ---------------------------------------------------------------------------------------
# The worked example: two parameters, six steps of fixed gradients; in step 4 the second
# parameter has no gradient (it must be skipped, its step count must not advance).

_rng = np.random.default_rng(20240601)
PARAMS0 = [_rng.normal(size=(3,)), _rng.normal(size=(2, 2))]
SEQ: list[Grads] = [[_rng.normal(size=p.shape) * (1 + k % 3) for p in PARAMS0] for k in range(6)]
SEQ[3][1] = None


def _configs() -> list[tuple[type, dict[str, Any], Callable]]:
    out: list[tuple[type, dict[str, Any], Callable]] = []
    for mu in (0.0, 0.9):
        for damp in (0.0, 0.3):
            for nesterov in (False, True):
                for wd in (0.0, 0.1):
                    if mu == 0 and (damp != 0 or nesterov) or nesterov and damp != 0:
                        continue
                    kw = dict(
                        lr=0.1, momentum=mu, dampening=damp, weight_decay=wd, nesterov=nesterov
                    )
                    out.append((SGD, kw, ref_sgd))
    for cls, ref in ((Adam, ref_adam), (AdamW, ref_adamw)):
        for amsgrad in (False, True):
            for wd in (0.0, 0.1):
                kw = dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=wd, amsgrad=amsgrad)
                out.append((cls, kw, ref))
    for centered in (False, True):
        for mu in (0.0, 0.5):
            for wd in (0.0, 0.1):
                kw = dict(
                    lr=0.01, alpha=0.9, eps=1e-6, weight_decay=wd, momentum=mu, centered=centered
                )
                out.append((RMSprop, kw, ref_rmsprop))
    return out


CONFIGS = _configs()
IDS = [f"{cls.__name__}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for cls, kw, _ in CONFIGS]
config = pytest.mark.parametrize("cls,kw,ref", CONFIGS, ids=IDS)


def make(cls, kw, dtype=np.float64, params0=PARAMS0):
    params = [P(np.array(p, dtype=dtype)) for p in params0]
    return params, cls(params, **kw)


def feed(params, opt, seq, dtype=np.float64):
    for grads in seq:
        for p, g in zip(params, grads):
            p.grad = None if g is None else np.array(g, dtype=dtype)
        opt.step()


@config
def test_matches_reference_float64(cls, kw, ref):
    params, opt = make(cls, kw)
    feed(params, opt, SEQ)
    expected = ref(PARAMS0, SEQ, **kw)
    for p, e, p0 in zip(params, expected, PARAMS0):
        assert not np.allclose(p.data, p0)  # the example moves every parameter
        np.testing.assert_allclose(p.data, e, rtol=1e-12, atol=1e-14)


@config
def test_float32_stays_float32_in_place(cls, kw, ref):
    params, opt = make(cls, kw, dtype=np.float32)
    arrays = [p.data for p in params]
    feed(params, opt, SEQ, dtype=np.float32)
    expected = ref(PARAMS0, SEQ, **kw)
    for p, arr, e in zip(params, arrays, expected):
        assert p.data is arr and p.data.dtype == np.float32
        np.testing.assert_allclose(p.data, e, rtol=1e-5, atol=1e-5)
        for name, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32 and value.shape == p.data.shape, name


@config
def test_updates_views_in_place_and_leaves_grads_alone(cls, kw, ref):
    base = np.zeros(20)
    base[:3] = PARAMS0[0]
    base[4:8] = PARAMS0[1].ravel()
    views = [base[:3], base[4:8].reshape(2, 2)]
    params = [P(v) for v in views]
    opt = cls(params, **kw)
    for grads in SEQ[:3]:
        copies = [g.copy() for g in grads]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        for g, c in zip(grads, copies):
            np.testing.assert_array_equal(g, c)
    expected = ref(PARAMS0, SEQ[:3], **kw)
    np.testing.assert_allclose(base[:3], expected[0], rtol=1e-12)
    np.testing.assert_allclose(base[4:8].reshape(2, 2), expected[1], rtol=1e-12)
    assert not base[3] and not base[8:].any()


@config
def test_step_allocates_no_parameter_sized_temporaries(cls, kw, ref):
    n = 50_000  # 400 kB per float64 array
    params = [P(np.linspace(-1, 1, n)), P(np.ones((n // 100, 100)))]
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=p.data.shape) for p in params]
    opt = cls(params, **kw)
    for p, g in zip(params, grads):
        p.grad = g
    opt.step()  # state and scratch buffers are created here
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * 8 // 10, f"step allocated {peak} bytes"


@config
def test_matches_torch(cls, kw, ref):
    torch = pytest.importorskip("torch")
    params, opt = make(cls, kw)
    feed(params, opt, SEQ)
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in PARAMS0]
    topt = getattr(torch.optim, cls.__name__)(tparams, **kw)
    for grads in SEQ:
        for tp, g in zip(tparams, grads):
            tp.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


@config
def test_state_dict_round_trip_continues_identically(cls, kw, ref):
    params, opt = make(cls, kw)
    feed(params, opt, SEQ[:3])
    sd = opt.state_dict()
    snapshot = copy.deepcopy(sd)

    clones = [P(p.data.copy()) for p in params]
    other_lr = {**kw, "lr": 123.0}
    restored = cls(clones, **other_lr)
    restored.load_state_dict(sd)
    assert restored.param_groups[0]["lr"] == kw["lr"]
    # The loaded state must not alias the dict: spoiling it afterwards changes nothing.
    for st_ in sd["state"].values():
        for value in st_.values():
            if isinstance(value, np.ndarray):
                value[...] = np.nan

    feed(params, opt, SEQ[3:])
    feed(clones, restored, SEQ[3:])
    for p, c in zip(params, clones):
        np.testing.assert_array_equal(p.data, c.data)
    # ... and the saved dict did not follow the original optimizer's later steps.
    for idx, st_ in snapshot["state"].items():
        for key, value in st_.items():
            live = opt.state_dict()["state"][idx][key]
            if isinstance(value, np.ndarray):
                assert not np.array_equal(value, live), key


@pytest.mark.parametrize("cls,kw,ref", CONFIGS[::5], ids=IDS[::5])
def test_real_tensors_behave_like_the_stand_in(cls, kw, ref):
    tensor_mod = pytest.importorskip("tensorgrad.tensor")
    params, opt = make(cls, kw, dtype=np.float32)
    feed(params, opt, SEQ, dtype=np.float32)
    tensors = [tensor_mod.Tensor(p.astype(np.float32), requires_grad=True) for p in PARAMS0]
    topt = cls(tensors, **kw)
    feed(tensors, topt, SEQ, dtype=np.float32)
    for p, t in zip(params, tensors):
        assert t.data.dtype == np.float32 and t in topt.state
        np.testing.assert_array_equal(t.data, p.data)
    topt.zero_grad()
    assert all(t.grad is None for t in tensors)


# ---------------------------------------------------------------------------------------
# Numbers worked by hand (p = 1, gradients 2 then -1, or 1 then 2).


def _scalar_run(opt_cls, grads, **kw):
    p = P(np.array([1.0]))
    opt = opt_cls([p], **kw)
    out = []
    for g in grads:
        p.grad = np.array([float(g)])
        opt.step()
        out.append(float(p.data[0]))
    return out


def test_hand_worked_sgd_momentum():
    # b = 1, p = 1 - 0.1 = 0.9;  b = 0.9 * 1 + 2 = 2.9, p = 0.9 - 0.29 = 0.61
    assert _scalar_run(SGD, [1, 2], lr=0.1, momentum=0.9) == pytest.approx([0.9, 0.61], abs=1e-15)
    # nesterov: g = 1 + 0.9 * 1 = 1.9, p = 0.81;  b = 2.9, g = 2 + 2.61 = 4.61, p = 0.349
    got = _scalar_run(SGD, [1, 2], lr=0.1, momentum=0.9, nesterov=True)
    assert got == pytest.approx([0.81, 0.349], abs=1e-15)
    # dampening 0.5: b = 1 first, then 0.9 + 0.5 * 2 = 1.9;  p = 0.9, then 0.9 - 0.19 = 0.71
    got = _scalar_run(SGD, [1, 2], lr=0.1, momentum=0.9, dampening=0.5)
    assert got == pytest.approx([0.9, 0.71], abs=1e-15)
    # weight decay 0.5: g = 1 + 0.5 = 1.5, p = 0.85
    assert _scalar_run(SGD, [1], lr=0.1, weight_decay=0.5) == pytest.approx([0.85], abs=1e-15)


def test_hand_worked_adam():
    # t=1: m = 0.2, v = 0.004, m_hat = 2, v_hat = 4, p = 1 - 0.1 * 2 / (2 + 1e-8)
    # t=2: m = 0.08, v = 0.004996, m_hat = 0.08/0.19, v_hat = 0.004996/0.001999,
    #      p = 0.9000000005 - 0.1 * 0.4210526316 / (1.5809015214 + 1e-8)
    got = _scalar_run(Adam, [2, -1], lr=0.1)
    assert got == pytest.approx([0.9000000005, 0.8733662967024315], abs=1e-13)
    # AdamW: p = 1 * (1 - 0.1 * 0.5) = 0.95, then the Adam step of 0.1 * 2 / (2 + 1e-8)
    got = _scalar_run(AdamW, [2], lr=0.1, weight_decay=0.5)
    assert got == pytest.approx([0.8500000005], abs=1e-13)


def test_hand_worked_rmsprop():
    # s = 0.01 * 4 = 0.04, p = 1 - 0.01 * 2 / (0.2 + 1e-8);
    # s = 0.99 * 0.04 + 0.01 = 0.0496, p += 0.01 / (sqrt(0.0496) + 1e-8)
    got = _scalar_run(RMSprop, [2, -1], lr=0.01)
    assert got == pytest.approx([0.900000005, 0.9449013284905645], abs=1e-13)
    # centered + momentum 0.9: a = 0.02, s - a^2 = 0.0396, b = 2 / (sqrt(0.0396) + 1e-8);
    # then a = 0.0098, s - a^2 = 0.04950396, b = 0.9 b - 1 / (sqrt(0.04950396) + 1e-8)
    got = _scalar_run(RMSprop, [2, -1], lr=0.01, momentum=0.9, centered=True)
    assert got == pytest.approx([0.8994962235245836, 0.8539876824157828], abs=1e-13)


# ---------------------------------------------------------------------------------------
# Random hyper-parameters and gradients against the references.


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["sgd", "adam", "adamw", "rmsprop"]),
    lr=st.floats(0.0, 1.0),
    mom=st.floats(0.0, 0.99),
    damp=st.sampled_from([0.0, 0.5]),
    flag=st.booleans(),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.0, 0.999),
    # Small alphas make the centered s - a^2 cancel badly (relative error ~ 1/alpha).
    alpha=st.floats(0.1, 1.0),
    wd=st.sampled_from([0.0, 0.01, 0.3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_hyperparameters_match_reference(
    kind, lr, mom, damp, flag, beta1, beta2, alpha, wd, seed
):
    rng = np.random.default_rng(seed)
    params0 = [rng.normal(size=(4,)), rng.normal(size=(2, 3))]
    seq = [[rng.normal(size=p.shape) for p in params0] for _ in range(4)]
    if kind == "sgd":
        nesterov = flag and mom > 0 and damp == 0
        kw: dict[str, Any] = dict(
            lr=lr, momentum=mom, dampening=damp, weight_decay=wd, nesterov=nesterov
        )
        cls, ref = SGD, ref_sgd
    elif kind in ("adam", "adamw"):
        kw = dict(lr=lr, betas=(beta1, beta2), eps=1e-8, weight_decay=wd, amsgrad=flag)
        cls, ref = (Adam, ref_adam) if kind == "adam" else (AdamW, ref_adamw)
    else:
        kw = dict(lr=lr, alpha=alpha, eps=1e-8, weight_decay=wd, momentum=mom, centered=flag)
        cls, ref = RMSprop, ref_rmsprop
    params, opt = make(cls, kw, params0=params0)
    feed(params, opt, seq)
    for p, e in zip(params, ref(params0, seq, **kw)):
        np.testing.assert_allclose(p.data, e, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------
# Skipping, zero_grad, param groups, validation, state-dict mismatches.


@pytest.mark.parametrize(
    "cls,kw",
    [(SGD, dict(lr=0.1, momentum=0.9)), (Adam, {}), (AdamW, {}), (RMSprop, dict(centered=True))],
)
def test_params_without_grad_are_skipped(cls, kw):
    a, b = P(np.ones(3)), P(np.ones(2))
    opt = cls([a, b], **kw)
    a.grad = np.full(3, 0.5)
    opt.step()
    opt.step()
    assert not np.allclose(a.data, 1.0)
    np.testing.assert_array_equal(b.data, np.ones(2))
    assert b not in opt.state and a in opt.state
    if "step" in opt.state[a]:
        assert opt.state[a]["step"] == 2
    assert opt.state_dict()["state"].keys() == {0}


def test_zero_grad():
    a, b = P(np.ones(3), np.ones(3)), P(np.ones(2))
    opt = SGD([a, b], lr=0.1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    g = np.ones(3)
    a.grad = g
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and not g.any() and b.grad is None


def test_param_groups_with_different_lr_and_defaults():
    a, b, c = P(np.ones(2)), P(np.ones(2)), P(np.ones(2))
    opt = SGD([{"params": [a], "lr": 0.5}, {"params": (x for x in [b])}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.param_groups[1]["params"] == [b]
    opt.add_param_group({"params": c, "lr": 0.01, "momentum": 0.9})
    for p in (a, b, c):
        p.grad = np.full(2, 2.0)
    opt.step()
    np.testing.assert_allclose(a.data, 0.0)
    np.testing.assert_allclose(b.data, 0.8)
    np.testing.assert_allclose(c.data, 0.98)
    assert "momentum_buffer" in opt.state[c] and "momentum_buffer" not in opt.state[a]
    # A changed group lr is used by the next step.
    opt.param_groups[1]["lr"] = 0.05
    opt.step()
    np.testing.assert_allclose(b.data, 0.7)
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})


def test_adam_param_groups_match_reference_per_group():
    params = [P(p.copy()) for p in PARAMS0]
    opt = Adam([{"params": [params[0]], "betas": (0.5, 0.6)}, {"params": [params[1]]}], lr=0.1)
    feed(params, opt, SEQ)
    e0 = ref_adam(PARAMS0[:1], [g[:1] for g in SEQ], lr=0.1, betas=(0.5, 0.6))
    e1 = ref_adam(PARAMS0[1:], [g[1:] for g in SEQ], lr=0.1)
    np.testing.assert_allclose(params[0].data, e0[0], rtol=1e-12)
    np.testing.assert_allclose(params[1].data, e1[0], rtol=1e-12)


def _p():
    return [P(np.ones(2))]


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: SGD(_p(), lr=-0.1), "lr"),
        (lambda: SGD(_p(), lr=float("nan")), "lr"),
        (lambda: SGD(_p(), lr=0.1, momentum=-0.5), "momentum"),
        (lambda: SGD(_p(), lr=0.1, weight_decay=-1), "weight_decay"),
        (lambda: SGD(_p(), lr=0.1, nesterov=True), "nesterov"),
        (lambda: SGD(_p(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda: SGD([{"params": _p(), "lr": -1.0}], lr=0.1), "lr"),
        (lambda: Adam(_p(), lr=-1e-3), "lr"),
        (lambda: Adam(_p(), betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda: Adam(_p(), betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda: Adam(_p(), eps=-1e-8), "eps"),
        (lambda: Adam(_p(), weight_decay=-1.0), "weight_decay"),
        (lambda: AdamW(_p(), betas=(0.9, 1.0)), r"betas\[1\]"),
        (lambda: AdamW(_p(), lr=-1.0), "lr"),
        (lambda: RMSprop(_p(), lr=-1.0), "lr"),
        (lambda: RMSprop(_p(), alpha=1.5), "alpha"),
        (lambda: RMSprop(_p(), eps=-1.0), "eps"),
        (lambda: RMSprop(_p(), momentum=-1.0), "momentum"),
        (lambda: SGD([], lr=0.1), "empty"),
    ],
)
def test_invalid_hyperparameters_raise_value_error_naming_them(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_params_raise_type_error():
    with pytest.raises(TypeError, match="iterable"):
        SGD(P(np.ones(2)), lr=0.1)
    with pytest.raises(TypeError, match="floating"):
        SGD([P(np.arange(3))], lr=0.1)
    with pytest.raises(TypeError, match=".data"):
        SGD([np.ones(3)], lr=0.1)
    p = P(np.ones(2))
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)


def test_grad_of_wrong_shape_raises():
    p = P(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        Adam([p]).step()


def _stepped(cls, params, **kw):
    opt = cls(params, **kw)
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    return opt


def test_load_state_dict_mismatches_raise_value_error():
    sd = _stepped(Adam, [P(np.ones(3)), P(np.ones((2, 2)))]).state_dict()
    with pytest.raises(ValueError, match="1 parameters in the state dict, 2"):
        Adam([P(np.ones(3)), P(np.ones(3))]).load_state_dict(
            _stepped(Adam, [P(np.ones(3))]).state_dict()
        )
    with pytest.raises(ValueError, match="2 parameters in the state dict, 1"):
        Adam([P(np.ones(3))]).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 1 has shape \(2, 2\).*\(4,\)"):
        Adam([P(np.ones(3)), P(np.ones(4))]).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 1 parameter groups, the optimizer has 2"):
        Adam([{"params": [P(np.ones(3))]}, {"params": [P(np.ones((2, 2)))]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="momentum"):
        SGD([P(np.ones(3)), P(np.ones((2, 2)))], lr=0.1).load_state_dict(sd)
    rms_sd = _stepped(RMSprop, [P(np.ones(3)), P(np.ones((2, 2)))]).state_dict()
    rms_sd["param_groups"][0].update(betas=(0.9, 0.999), amsgrad=False)
    with pytest.raises(ValueError, match="square_avg"):
        Adam([P(np.ones(3)), P(np.ones((2, 2)))]).load_state_dict(rms_sd)

    # A failed load leaves the optimizer as it was.
    params = [P(np.ones(3)), P(np.ones(4))]
    opt = _stepped(Adam, params, lr=0.5)
    before = opt.state_dict()
    with pytest.raises(ValueError):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][1]["exp_avg"], before["state"][1]["exp_avg"])


def test_load_state_dict_casts_to_param_dtype():
    sd = _stepped(RMSprop, [P(np.ones(3))], momentum=0.5).state_dict()
    p = P(np.ones(3, dtype=np.float32))
    opt = RMSprop([p], momentum=0.5)
    opt.load_state_dict(sd)
    assert {v.dtype for v in opt.state[p].values() if isinstance(v, np.ndarray)} == {
        np.dtype(np.float32)
    }
    assert opt.state[p]["step"] == 1


def test_closure_is_called_and_its_value_returned():
    p = P(np.ones(2))
    opt = SGD([p], lr=0.5)

    def closure():
        p.grad = 2 * p.data
        return float((p.data**2).sum())

    assert opt.step(closure) == 2.0
    np.testing.assert_allclose(p.data, 0.0)


def test_subclass_contract():
    assert issubclass(AdamW, Adam) and issubclass(SGD, Optimizer)
    assert "SGD" in repr(SGD(_p(), lr=0.1))


# ---------------------------------------------------------------------------------------
# Schedulers.


def _opt(*lrs: float) -> SGD:
    return SGD([{"params": [P(np.ones(1))], "lr": lr} for lr in lrs], lr=lrs[0])


def _trace(sched, n):
    lrs = [sched.get_last_lr()]
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


def test_step_lr():
    opt = _opt(0.1)
    got = [lr[0] for lr in _trace(StepLR(opt, step_size=2, gamma=0.5), 4)]
    assert got == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-15)
    assert opt.param_groups[0]["initial_lr"] == 0.1 and opt.param_groups[0]["lr"] == got[-1]

    opt = _opt(1.0, 0.3)
    lrs = _trace(StepLR(opt, step_size=3, gamma=0.7), 20)
    for epoch, pair in enumerate(lrs):
        assert pair == pytest.approx([b * 0.7 ** (epoch // 3) for b in (1.0, 0.3)], rel=1e-12)


def test_cosine_annealing_lr():
    got = [lr[0] for lr in _trace(CosineAnnealingLR(_opt(1.0), T_max=2), 4)]
    assert got == pytest.approx([1.0, 0.5, 0.0, 0.5, 1.0], abs=1e-12)

    lrs = _trace(CosineAnnealingLR(_opt(0.2, 0.05), T_max=7, eta_min=0.01), 30)
    for epoch, pair in enumerate(lrs):
        want = [0.01 + (b - 0.01) * (1 + math.cos(math.pi * epoch / 7)) / 2 for b in (0.2, 0.05)]
        assert pair == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_scheduled_lr_is_used_by_the_optimizer():
    p = P(np.zeros(1))
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = np.ones(1)
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.data, -(1.0 + 0.5 + 0.25))


def test_scheduler_state_dict_and_resume():
    opt = _opt(0.2)
    sched = CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    _trace(sched, 4)
    sd = sched.state_dict()
    opt_sd = opt.state_dict()
    rest = _trace(sched, 5)

    opt2 = _opt(99.0)
    opt2.load_state_dict(opt_sd)
    sched2 = CosineAnnealingLR(opt2, T_max=10, eta_min=0.01)
    sched2.load_state_dict(sd)
    assert sched2.last_epoch == 4 and opt2.param_groups[0]["initial_lr"] == 0.2
    assert _trace(sched2, 5) == rest

    # Resuming from last_epoch uses the closed form on its first step.
    opt3 = _opt(0.123)
    opt3.param_groups[0]["initial_lr"] = 0.2
    sched3 = CosineAnnealingLR(opt3, T_max=10, eta_min=0.01, last_epoch=6)
    assert sched3.last_epoch == 7
    assert sched3.get_last_lr()[0] == pytest.approx(
        0.01 + 0.19 * (1 + math.cos(math.pi * 7 / 10)) / 2, rel=1e-12
    )


def test_scheduler_validation():
    with pytest.raises(ValueError, match="step_size"):
        StepLR(_opt(0.1), step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(_opt(0.1), T_max=0)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(_opt(0.1), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="optimizer"):
        StepLR(object(), step_size=2)


def test_schedulers_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs, kw in [
        (StepLR, torch.optim.lr_scheduler.StepLR, dict(step_size=3, gamma=0.3)),
        (
            CosineAnnealingLR,
            torch.optim.lr_scheduler.CosineAnnealingLR,
            dict(T_max=5, eta_min=0.001),
        ),
    ]:
        sched = ours(_opt(0.1), **kw)
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        tsched = theirs(topt, **kw)
        for _ in range(17):
            sched.optimizer.step()
            sched.step()
            topt.step()
            tsched.step()
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
