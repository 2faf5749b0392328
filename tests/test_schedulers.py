"""Learning-rate schedulers: PyTorch's values over many steps (rates and cycled momentum),
validation, and exact resumption through state_dict and a tg.save checkpoint."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.optim import (
    SGD,
    Adam,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)

LRS = (0.1, 0.03)  # two param groups, each with its own rate


def _tg_opt(kind="sgd", **kw):
    groups = [{"params": [tg.tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in LRS]
    return Adam(groups, lr=LRS[0], **kw) if kind == "adam" else SGD(groups, lr=LRS[0], **kw)


def _torch_opt(torch, kind="sgd", **kw):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    cls = torch.optim.Adam if kind == "adam" else torch.optim.SGD
    return cls(groups, lr=LRS[0], **kw)


def _halving(epoch):
    return 0.5 ** (epoch // 3)


# (name, our class, kwargs, optimizer kind, steps); the same kwargs go to PyTorch's class.
CASES = [
    ("linear-warmup", LinearLR, dict(), "sgd", 12),
    ("linear-custom", LinearLR, dict(start_factor=0.1, end_factor=0.5, total_iters=7), "sgd", 15),
    ("linear-decay", LinearLR, dict(start_factor=1.0, end_factor=0.0, total_iters=4), "sgd", 8),
    ("onecycle", OneCycleLR, dict(max_lr=1.0, total_steps=100), "sgd", 99),
    ("onecycle-groups", OneCycleLR, dict(max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=13,
                                         pct_start=0.25, div_factor=10.0), "sgd", 52),
    ("onecycle-3phase", OneCycleLR, dict(max_lr=0.3, total_steps=37, three_phase=True), "sgd", 37),
    ("onecycle-linear", OneCycleLR, dict(max_lr=0.3, total_steps=20, anneal_strategy="linear",
                                         final_div_factor=100.0), "sgd", 20),
    ("onecycle-adam", OneCycleLR, dict(max_lr=0.01, total_steps=40, base_momentum=0.8,
                                       max_momentum=0.9), "adam", 40),
    ("onecycle-no-momentum", OneCycleLR, dict(max_lr=0.01, total_steps=30, cycle_momentum=False),
     "adam", 30),
    ("lambda", LambdaLR, dict(lr_lambda=_halving), "sgd", 20),
    ("lambda-per-group", LambdaLR, dict(lr_lambda=[_halving, lambda e: 1 / (1 + e)]), "sgd", 20),
    ("multistep", MultiStepLR, dict(milestones=[3, 7, 7, 12], gamma=0.3), "sgd", 20),
    ("exponential", ExponentialLR, dict(gamma=0.9), "sgd", 25),
]


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


@pytest.mark.parametrize("name, cls, kw, kind, steps", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_over_many_steps(name, cls, kw, kind, steps):
    torch = pytest.importorskip("torch")
    ours = cls(_tg_opt(kind), **kw)
    theirs = getattr(torch.optim.lr_scheduler, cls.__name__)(_torch_opt(torch, kind), **kw)
    for step in range(steps + 1):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15), step
        assert [g["lr"] for g in ours.optimizer.param_groups] == ours.get_last_lr()
        assert _momenta(ours.optimizer) == pytest.approx(_momenta(theirs.optimizer), rel=1e-12)
        if step < steps:
            ours.optimizer.step()
            ours.step()
            theirs.optimizer.step()
            theirs.step()


def test_chained_warmup_then_exponential_matches_torch():
    torch = pytest.importorskip("torch")
    opt, topt = _tg_opt(), _torch_opt(torch)
    ours = [LinearLR(opt, start_factor=0.25, total_iters=4), ExponentialLR(opt, gamma=0.8)]
    theirs = [torch.optim.lr_scheduler.LinearLR(topt, start_factor=0.25, total_iters=4),
              torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.8)]
    for _ in range(12):
        opt.step()
        topt.step()
        for s in ours + theirs:
            s.step()
        assert ours[-1].get_last_lr() == pytest.approx(theirs[-1].get_last_lr(), rel=1e-12)


def _metrics(n, seed):
    # falls, then plateaus and noise, so every branch (better, bad, cooldown, floor) is hit
    rng = np.random.default_rng(seed)
    base = np.concatenate([np.linspace(5, 1, n // 3), np.full(n - n // 3, 1.0)])
    return (base + rng.normal(0, 0.05, n) * (rng.random(n) < 0.5)).tolist()


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(mode="max", patience=0, threshold_mode="abs", threshold=0.0, min_lr=[0.01, 0.001]),
    dict(factor=0.2, patience=3, cooldown=1, min_lr=0.002, eps=1e-3),
], ids=["defaults", "max", "abs-cooldown", "max-floor", "eps"])
def test_reduce_on_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    ours = ReduceLROnPlateau(_tg_opt(), **kw)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(_torch_opt(torch), **kw)
    metrics = _metrics(80, seed=len(kw))
    if kw.get("mode") == "max":
        metrics = [-m for m in metrics]
    changes = 0
    for m in metrics:
        before = ours.get_last_lr()
        ours.step(m)
        theirs.step(m)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        assert ours.num_bad_epochs == theirs.num_bad_epochs
        assert ours.cooldown_counter == theirs.cooldown_counter
        changes += ours.get_last_lr() != before
    assert changes >= 2  # the sequence really exercised the reductions


def test_reduce_on_plateau_takes_a_tensor_and_rules_by_hand():
    opt = _tg_opt()
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)
    lrs = []
    for v in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
        sched.step(tg.tensor(v))
        lrs.append(opt.param_groups[0]["lr"])
    # bad epochs 1, 2 -> halve; cooldown swallows one; then 1, 2 -> halve again
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_linear_warmup_closed_form():
    opt = _tg_opt()
    sched = LinearLR(opt, start_factor=0.2, end_factor=1.0, total_iters=4)
    for epoch in range(8):
        f = 0.2 + 0.8 * min(epoch, 4) / 4
        assert sched.get_last_lr() == pytest.approx([lr * f for lr in LRS], rel=1e-12)
        sched.step()


def test_onecycle_shape_and_end():
    opt = _tg_opt()
    sched = OneCycleLR(opt, max_lr=1.0, total_steps=50)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(49):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    peak = int(np.argmax(lrs))
    assert lrs[0] == pytest.approx(1 / 25) and lrs[peak] == pytest.approx(1.0)
    assert peak == 14 and lrs[-1] == pytest.approx(1 / 25 / 1e4)
    assert all(np.diff(lrs[:peak + 1]) > 0) and all(np.diff(lrs[peak:]) < 0)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)  # back up at the end
    with pytest.raises(ValueError, match="total_steps=50"):
        sched.step()
        sched.step()


@pytest.mark.parametrize("make, words", [
    (lambda o: LinearLR(o, start_factor=0.0), "start_factor"),
    (lambda o: LinearLR(o, end_factor=1.5), "end_factor"),
    (lambda o: LinearLR(o, total_iters=0), "total_iters"),
    (lambda o: OneCycleLR(o, max_lr=1.0), "total_steps"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=0), "total_steps"),
    (lambda o: OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=0), "steps_per_epoch"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1.5), "pct_start"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="exp"), "cos"),
    (lambda o: OneCycleLR(o, max_lr=[1.0], total_steps=9), "one per param group"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), "factor"),
    (lambda o: ReduceLROnPlateau(o, mode="lower"), "mode"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="pct"), "threshold_mode"),
    (lambda o: ReduceLROnPlateau(o, min_lr=[0.1, 0.2, 0.3]), "one per param group"),
    (lambda o: LambdaLR(o, lr_lambda=[_halving]), "one per param group"),
])
def test_bad_arguments_raise_value_error(make, words):
    with pytest.raises(ValueError, match=words):
        make(_tg_opt())


def test_lambda_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        LambdaLR(_tg_opt(), lr_lambda=0.5)


class _Warmup:
    """A callable object: its attributes are state that state_dict keeps."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


RESUME = [
    lambda o: LinearLR(o, start_factor=0.1, total_iters=6),
    lambda o: OneCycleLR(o, max_lr=0.5, total_steps=20, three_phase=True),
    lambda o: MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5),
    lambda o: ExponentialLR(o, gamma=0.7),
    lambda o: LambdaLR(o, lr_lambda=_Warmup(5)),
    lambda o: StepLR(o, step_size=3, gamma=0.5),
]


@pytest.mark.parametrize("make", RESUME, ids=["linear", "onecycle", "multistep", "exponential",
                                             "lambda", "step"])
def test_resume_from_a_checkpoint_file_is_exact(tmp_path, make):
    opt = _tg_opt("adam")
    sched = make(opt)
    for _ in range(4):
        opt.step()
        sched.step()
    path = tmp_path / "ckpt.npz"
    tg.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    expected = []
    for _ in range(8):
        opt.step()
        sched.step()
        expected.append((sched.get_last_lr(), _momenta(opt)))

    ckpt = tg.load(path)
    opt2 = _tg_opt("adam")
    sched2 = make(opt2)            # as PyTorch: build the scheduler, then load both
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    got = []
    for _ in range(8):
        opt2.step()
        sched2.step()
        got.append((sched2.get_last_lr(), _momenta(opt2)))
    assert got == expected


def test_lambda_state_dict_skips_functions_and_keeps_callable_objects():
    sched = LambdaLR(_tg_opt(), lr_lambda=[_halving, _Warmup(4)])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"n": 4}]
    other = LambdaLR(_tg_opt(), lr_lambda=[_halving, _Warmup(9)])
    other.load_state_dict(sd)
    assert other.lr_lambdas[1].n == 4 and other.lr_lambdas[0] is _halving


def test_plateau_state_survives_a_checkpoint(tmp_path):
    opt = _tg_opt()
    sched = ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1)
    for m in [3.0, 2.0, 2.5, 2.5]:
        sched.step(m)
    tg.save({"s": sched.state_dict(), "o": opt.state_dict()}, tmp_path / "c.npz")
    ckpt = tg.load(tmp_path / "c.npz")
    opt2 = _tg_opt()
    sched2 = ReduceLROnPlateau(opt2)
    opt2.load_state_dict(ckpt["o"])
    sched2.load_state_dict(ckpt["s"])
    assert sched2.best == 2.0 and sched2.patience == 1 and sched2.cooldown_counter == 1
    for m in [2.5, 2.5, 2.5, 1.0]:
        sched.step(m)
        sched2.step(m)
        assert sched2.get_last_lr() == sched.get_last_lr()
    # an infinite best (before any step) survives too
    tg.save(ReduceLROnPlateau(_tg_opt(), mode="max").state_dict(), tmp_path / "p.npz")
    assert tg.load(tmp_path / "p.npz")["best"] == -math.inf
