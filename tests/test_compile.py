"""tg.compile: the replayed step leaves what the eager step leaves, for every optimizer; the
signature guards retrace; value-dependent control flow is refused at trace time."""
import importlib
import re

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F
from tensorgrad.autograd import op as op_mod

tensor_mod = importlib.import_module("tensorgrad.tensor")

OPTIMIZERS = {
    "sgd-momentum": lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9),
    "sgd-nesterov": lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                           weight_decay=1e-3),
    "sgd": lambda p: tg.optim.SGD(p, lr=0.1),
    "adam": lambda p: tg.optim.Adam(p, lr=0.01),
    "adamw": lambda p: tg.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: tg.optim.RMSprop(p, lr=0.01),
    "sgd-dampening": lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.2,
                                            weight_decay=1e-3),
    "adam-decay": lambda p: tg.optim.Adam(p, lr=0.01, weight_decay=1e-2),
    "adam-amsgrad": lambda p: tg.optim.Adam(p, lr=0.01, amsgrad=True),  # runs as itself
    "rmsprop-centered": lambda p: tg.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True,
                                                   weight_decay=1e-3),
}


def mlp(dtype, depth=2, width=16, dropout=0.0):
    tg.manual_seed(0)
    layers = [nn.Linear(6, width), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(width, 3))
    return nn.Sequential(*layers).to(dtype)


def step_fn(model, opt, loss="ce"):
    def step(x, y):
        opt.zero_grad()
        out = model(x)
        if loss == "ce":
            value = F.cross_entropy(out, y)
        else:
            value = F.mse_loss(out, y)
        value.backward()
        opt.step()
        return value
    return step


def batches(dtype, n=50, batch=5, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 6)).astype(dtype), rng.integers(0, 3, batch))
            for _ in range(n)]


def assert_same(m1, m2, tol):
    for (name, p), q in zip(m1.named_parameters(), m2.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=tol, atol=tol, err_msg=name)
        np.testing.assert_allclose(p.grad, q.grad, rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_compiled_training_matches_eager(opt, dtype, tol):
    eager_model, compiled_model = mlp(dtype), mlp(dtype)
    eager_opt = OPTIMIZERS[opt](eager_model.parameters())
    compiled_opt = OPTIMIZERS[opt](compiled_model.parameters())
    eager = step_fn(eager_model, eager_opt)
    compiled = tg.compile(step_fn(compiled_model, compiled_opt))
    for x, y in batches(dtype):
        l1 = eager(tg.tensor(x), tg.tensor(y))
        l2 = compiled(tg.tensor(x), tg.tensor(y))
        np.testing.assert_allclose(l1.data, l2.data, rtol=tol, atol=tol)
    assert len(compiled.programs) == 1
    assert written_out(compiled) == (opt != "adam-amsgrad")
    assert_same(eager_model, compiled_model, tol)
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        s1, s2 = eager_opt.state[p], compiled_opt.state[q]
        assert s1.keys() == s2.keys()
        for k in s1:
            np.testing.assert_allclose(s1[k], s2[k], rtol=tol, atol=tol)


def test_mse_regression_and_plain_arrays():
    m1, m2 = mlp(np.float64), mlp(np.float64)
    s1 = step_fn(m1, tg.optim.SGD(m1.parameters(), lr=0.05), "mse")
    s2 = tg.compile(step_fn(m2, tg.optim.SGD(m2.parameters(), lr=0.05), "mse"))
    rng = np.random.default_rng(1)
    for _ in range(10):
        x, y = rng.standard_normal((4, 6)), rng.standard_normal((4, 3))
        s1(tg.tensor(x), tg.tensor(y))
        s2(x, y)  # arrays work as inputs too
    assert_same(m1, m2, 1e-12)


def test_batch_size_change_retraces_and_stays_correct():
    m1, m2 = mlp(np.float64), mlp(np.float64)
    s1 = step_fn(m1, tg.optim.SGD(m1.parameters(), lr=0.1, momentum=0.9))
    s2 = tg.compile(step_fn(m2, tg.optim.SGD(m2.parameters(), lr=0.1, momentum=0.9)))
    data = batches(np.float64, 4, 5) + batches(np.float64, 4, 7, 1) + batches(np.float64, 4, 5, 2)
    for x, y in data:
        s1(tg.tensor(x), tg.tensor(y))
        s2(tg.tensor(x), tg.tensor(y))
    assert len(s2.programs) == 2  # batch 5 and batch 7; the third run reused the first
    assert_same(m1, m2, 1e-12)


def test_the_fast_entry_checks_argument_kinds_shapes_dtypes_and_grad_mode():
    """The entry of the last signature is tried first: any other signature must miss it."""
    m1, m2 = mlp(np.float64), mlp(np.float64)
    s1 = step_fn(m1, tg.optim.SGD(m1.parameters(), lr=0.1))
    s2 = tg.compile(step_fn(m2, tg.optim.SGD(m2.parameters(), lr=0.1)))
    (x, y), (x7, y7) = batches(np.float64, 1, 5)[0], batches(np.float64, 1, 7)[0]
    calls = [(tg.tensor(x), tg.tensor(y)), (x, y), (tg.tensor(x7), tg.tensor(y7)),
             (tg.tensor(x), tg.tensor(y)), (tg.tensor(x), y), (x, y.astype(np.int32))]
    for a, b in calls * 2:
        np.testing.assert_allclose(float(s2(a, b)), float(s1(a, b)), rtol=1e-12)
    assert len(s2.programs) == 5  # the two calls with plain x and y share one
    assert_same(m1, m2, 1e-12)
    with tg.no_grad():  # another grad mode: a trace of its own, nothing backpropagated
        m2.zero_grad()
        with pytest.raises(RuntimeError):
            s2(tg.tensor(x), tg.tensor(y))  # backward() under no_grad, as eager
    with pytest.raises(TypeError):
        s2(tg.tensor(x))


def test_an_argument_that_requires_grad_is_refused_before_anything_runs():
    model = mlp(np.float64)
    step = tg.compile(step_fn(model, tg.optim.SGD(model.parameters(), lr=0.1)))
    before = [p.data.copy() for p in model.parameters()]
    x, y = batches(np.float64, 1)[0]
    with pytest.raises(RuntimeError, match="argument 'x' .* requires grad"):
        step(tg.tensor(x, requires_grad=True), tg.tensor(y))
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    step(tg.tensor(x, requires_grad=True).detach(), tg.tensor(y))  # the fix the message names


def test_source_names_parameters_and_gradients():
    model = mlp(np.float32)
    step = tg.compile(step_fn(model, tg.optim.SGD(model.parameters(), lr=0.1)))
    x, y = batches(np.float32, 1)[0]
    step(tg.tensor(x), tg.tensor(y))
    src = step.source
    assert "model_0_weight = p_model_0_weight.data" in src
    assert "d_model_0_weight = np.matmul(" in src
    assert "p_model_0_weight.grad = d_model_0_weight" in src
    assert "lr = float(opt.param_groups[0]['lr'])" in src  # the update, written out
    assert "model_0_weight -= _step_model_0_weight" in src


def test_replay_creates_a_constant_number_of_tensors(monkeypatch):
    counts = []
    for depth in (2, 6):
        model = mlp(np.float32, depth=depth)
        step = tg.compile(step_fn(model, tg.optim.SGD(model.parameters(), lr=0.1)))
        x, y = batches(np.float32, 1)[0]
        xt, yt = tg.tensor(x), tg.tensor(y)
        step(xt, yt)
        made = [0]

        def counting(cls, real=object.__new__, made=made):
            made[0] += 1
            return real(cls)
        with monkeypatch.context() as m:
            m.setattr(tensor_mod, "_new", counting)
            m.setattr(op_mod, "_new", counting)
            step(xt, yt)
            step(xt, yt)
        counts.append(made[0])
        if depth == 6:  # the eager step makes a Tensor per op: the counter does see them
            eager = step_fn(model, tg.optim.SGD(model.parameters(), lr=0.1))
            with monkeypatch.context() as m:
                m.setattr(tensor_mod, "_new", counting)
                m.setattr(op_mod, "_new", counting)
                before = made[0]
                eager(xt, yt)
            assert made[0] - before > 10
    assert counts[0] == counts[1] <= 4


def test_results_are_never_overwritten():
    model = mlp(np.float64)
    step = tg.compile(step_fn(model, tg.optim.SGD(model.parameters(), lr=0.1)))
    (x1, y1), (x2, y2) = batches(np.float64, 2)
    first = step(tg.tensor(x1), tg.tensor(y1))
    second = step(tg.tensor(x1), tg.tensor(y1))
    kept = second.data.copy()
    third = step(tg.tensor(x2), tg.tensor(y2))
    assert second.data == kept and third.data is not second.data
    assert first.data != second.data  # the parameters moved in between

    @tg.compile
    def forward(x):
        with tg.no_grad():
            return model(x)
    a = forward(tg.tensor(x1))
    b = forward(tg.tensor(x1))
    a_copy = a.data.copy()
    forward(tg.tensor(x2))
    np.testing.assert_array_equal(a.data, a_copy)
    np.testing.assert_array_equal(a.data, b.data)


def test_learning_rate_changes_take_effect():
    m1, m2 = mlp(np.float64), mlp(np.float64)
    o1, o2 = (tg.optim.SGD(m.parameters(), lr=0.1, momentum=0.5) for m in (m1, m2))
    sch1, sch2 = (tg.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5) for o in (o1, o2))
    s1, s2 = step_fn(m1, o1), tg.compile(step_fn(m2, o2))
    for x, y in batches(np.float64, 12):
        s1(tg.tensor(x), tg.tensor(y))
        s2(tg.tensor(x), tg.tensor(y))
        sch1.step()
        sch2.step()
    assert_same(m1, m2, 1e-12)
    o2.param_groups[0]["lr"] = 0.0
    before = [p.data.copy() for p in m2.parameters()]
    s2(*(tg.tensor(a) for a in batches(np.float64, 1)[0]))
    assert momentum_only_moved(before, m2, o2)


def momentum_only_moved(before, model, opt):
    # with lr 0 nothing moves, whatever the momentum buffers hold
    return all(np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))


def test_parameters_changed_outside_are_seen():
    m1, m2 = mlp(np.float64), mlp(np.float64)
    s1 = step_fn(m1, tg.optim.SGD(m1.parameters(), lr=0.1))
    s2 = tg.compile(step_fn(m2, tg.optim.SGD(m2.parameters(), lr=0.1)))
    data = batches(np.float64, 4)
    for i, (x, y) in enumerate(data):
        if i == 2:
            for m in (m1, m2):
                m[0].weight.data[...] = 0.5  # in place
                m[2].bias.data = np.full(16, 0.25)  # a new array
        s1(tg.tensor(x), tg.tensor(y))
        s2(tg.tensor(x), tg.tensor(y))
    assert_same(m1, m2, 1e-12)


def test_dropout_draws_fresh_numbers_and_training_flag_retraces():
    m1, m2 = mlp(np.float64, depth=3, dropout=0.5), mlp(np.float64, depth=3, dropout=0.5)
    s1 = step_fn(m1, tg.optim.SGD(m1.parameters(), lr=0.1))
    s2 = tg.compile(step_fn(m2, tg.optim.SGD(m2.parameters(), lr=0.1)))
    x, y = batches(np.float64, 1)[0]
    losses = []
    for _ in range(4):
        tg.manual_seed(7)
        l1 = s1(tg.tensor(x), tg.tensor(y))
        tg.manual_seed(7)
        l2 = s2(tg.tensor(x), tg.tensor(y))
        np.testing.assert_allclose(l1.data, l2.data, rtol=1e-12)
        losses.append(float(l2))
    assert_same(m1, m2, 1e-12)
    # same input, same seed... but the parameters moved; with a fixed model, new masks:
    with tg.no_grad():
        pass

    @tg.compile
    def forward(x):
        with tg.no_grad():
            return m2(x)
    xt = tg.tensor(x)
    a, b = forward(xt), forward(xt)
    assert not np.array_equal(a.data, b.data)  # dropout masks differ between calls
    m2.eval()
    c, d = forward(xt), forward(xt)
    np.testing.assert_array_equal(c.data, d.data)
    assert len(forward.programs) == 2


@pytest.mark.parametrize("body,what", [
    ("loss.item()", ".item()"),
    ("float(loss)", "float()"),
    ("bool(loss > 0)", "bool()"),
    ("1 if loss > 0 else 0", "bool()"),
])
def test_value_dependent_python_raises_naming_the_line(body, what):
    model = mlp(np.float64)
    namespace = {"model": model, "F": F}
    src = ("def step(x, y):\n"
           "    loss = F.cross_entropy(model(x), y)\n"
           f"    v = {body}\n"
           "    return loss\n")
    code = compile(src, "user_step.py", "exec")
    exec(code, namespace)
    step = tg.compile(namespace["step"])
    x, y = batches(np.float64, 1)[0]
    with pytest.raises(RuntimeError, match=re.escape(what) + r".*user_step\.py:3"):
        step(tg.tensor(x), tg.tensor(y))
    assert isinstance(model[0].weight.data, np.ndarray)
    assert type(model[0].weight.data) is np.ndarray  # the trace left nothing behind


def test_decorator_and_gradient_accumulation():
    w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)

    @tg.compile
    def accumulate(x):
        loss = ((w * x).sum()) ** 2
        loss.backward()
        return loss
    x = np.array([0.5, 1.0])
    for _ in range(3):
        accumulate(x)
    np.testing.assert_allclose(w.grad, 3 * 2 * (-1.5) * x)
    w.grad = None
    accumulate(x)
    np.testing.assert_allclose(w.grad, 2 * (-1.5) * x)
    assert len(accumulate.programs) == 2  # .grad None and .grad set are two signatures


@pytest.mark.parametrize("kind", ["norms-dropout", "embedding"])
def test_norm_dropout_and_embedding_layers_match_eager(kind):
    def build():
        tg.manual_seed(0)
        if kind == "embedding":
            model = nn.Sequential(nn.Embedding(10, 6), nn.Flatten(), nn.Linear(18, 3))
        else:
            model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(),
                                  nn.Dropout(0.3), nn.Linear(16, 8), nn.LayerNorm(8),
                                  nn.Linear(8, 3))
        model.to(np.float64)
        return model, step_fn(model, tg.optim.Adam(model.parameters(), lr=0.01))
    (m1, s1), (m2, s2) = build(), build()
    s2 = tg.compile(s2)
    rng = np.random.default_rng(0)
    for i in range(20):
        x = rng.integers(0, 10, (5, 3)) if kind == "embedding" else rng.standard_normal((5, 6))
        y = rng.integers(0, 3, 5)
        tg.manual_seed(i)
        l1 = s1(tg.tensor(x), tg.tensor(y))
        tg.manual_seed(i)
        l2 = s2(tg.tensor(x), tg.tensor(y))
        np.testing.assert_allclose(l1.data, l2.data, rtol=1e-12)
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=k)  # buffers too
    assert len(s2.programs) == 1


def test_library_reading_a_parameter_dependent_value_raises():
    # BatchNorm with momentum=None averages with 1 / num_batches_tracked, a Python number
    # the replay could not recompute: refused rather than frozen.
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4, momentum=None)).to(np.float64)
    step = tg.compile(lambda x: model(x).sum())
    with pytest.raises(RuntimeError, match="tensor values"):
        step(tg.tensor(np.ones((3, 6))))


def test_digits_demo_compiled_matches_eager():
    from tensorgrad.examples import digits

    def quiet(_):
        return None
    eager = digits.train(epochs=2, optimizer="sgd", progress=False, log=quiet)
    compiled = digits.train(epochs=2, optimizer="sgd", progress=False, log=quiet, compile=True)
    for a, b in zip(eager.history, compiled.history):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["test_accuracy"] == b["test_accuracy"]


def test_docs_page_quotes_the_generated_source():
    # docs/compile.md prints part of the program next to the equations: it must be verbatim.
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "compile.md").read_text()
    quoted = page.split("```text\n", 1)[1].split("```", 1)[0]
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 3))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)

    @tg.compile
    def train_step(x, labels):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return loss
    rng = np.random.default_rng(0)
    train_step(rng.standard_normal((16, 4)).astype(np.float32), rng.integers(0, 3, 16))
    source = train_step.source.splitlines()
    for line in quoted.splitlines():
        code = line.split("#")[0].rstrip()
        if code.strip() and code.strip() != "...":
            assert code in source, code


def test_attention_and_gradient_clipping_match_eager():
    def build():
        tg.manual_seed(0)
        emb, att, head = nn.Embedding(10, 8), nn.MultiheadAttention(8, 2), nn.Linear(8, 10)
        mods = nn.ModuleList([emb, att, head]).to(np.float64)
        opt = tg.optim.AdamW(mods.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            h = emb(x)
            a = att(h, h, h)
            a = a[0] if isinstance(a, tuple) else a
            loss = F.cross_entropy(head(a).reshape(-1, 10), y.reshape(-1))
            loss.backward()
            norm = nn.utils.clip_grad_norm_(mods.parameters(), 0.5)
            opt.step()
            return loss, norm
        return mods, step
    (m1, s1), (m2, s2) = build(), build()
    s2 = tg.compile(s2)
    rng = np.random.default_rng(0)
    norms = []
    for _ in range(15):
        x, y = rng.integers(0, 10, (4, 5)), rng.integers(0, 10, (4, 5))
        (l1, n1), (l2, n2) = s1(tg.tensor(x), tg.tensor(y)), s2(tg.tensor(x), tg.tensor(y))
        np.testing.assert_allclose([l1.data, n1.data], [l2.data, n2.data], rtol=1e-12)
        norms.append(float(n2))
    assert len(s2.programs) == 1 and len(set(norms)) == len(norms)  # norms read live
    assert_same(m1, m2, 1e-12)


# ------------------------------------------------------------ the generated optimizer update
def written_out(step):
    """The optimizer's update is generated numpy code, not a call of opt.step()."""
    return "\n    opt.step()\n" not in step.source and "_note_writes(" in step.source


@pytest.mark.parametrize("make", [
    lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: tg.optim.Adam(p, lr=0.05, weight_decay=1e-3),
    lambda p: tg.optim.AdamW(p, lr=0.05),
    lambda p: tg.optim.RMSprop(p, lr=0.01, momentum=0.9)],
    ids=["sgd-momentum", "adam", "adamw", "rmsprop"])
def test_scheduler_changes_lr_and_momentum_between_calls(make):
    # OneCycleLR moves lr and momentum / beta1 at every step: both are read at every call,
    # Adam's bias correction follows its step count.
    m1, m2 = mlp(np.float64), mlp(np.float64)
    o1, o2 = make(m1.parameters()), make(m2.parameters())
    sch1, sch2 = (tg.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=30)
                  for o in (o1, o2))
    s1, s2 = step_fn(m1, o1), tg.compile(step_fn(m2, o2))
    for x, y in batches(np.float64, 30):
        s1(tg.tensor(x), tg.tensor(y))
        s2(tg.tensor(x), tg.tensor(y))
        sch1.step()
        sch2.step()
    assert written_out(s2) and len(s2.programs) == 1
    assert_same(m1, m2, 1e-12)
    for p, q in zip(m1.parameters(), m2.parameters()):
        st1, st2 = o1.state[p], o2.state[q]
        assert st1.keys() == st2.keys() and st1.get("step") == st2.get("step")
        for k in st1:
            np.testing.assert_allclose(st1[k], st2[k], rtol=1e-12, atol=1e-12)


def test_adam_bias_correction_over_steps():
    # One parameter, constant gradient: the generated step's moves are Adam's, step by step
    # (m/(1-b1^t) / sqrt(v/(1-b2^t)) = 1 for a constant gradient: each step moves by lr).
    w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1)

    @tg.compile
    def step(x):
        opt.zero_grad()
        (w * x).sum().backward()
        opt.step()
        return w * 1.0

    moves = []
    for _ in range(5):
        before = w.data.copy()
        step(np.array([3.0, -0.5]))
        moves.append(before - w.data)
    assert written_out(step) and opt.state[w]["step"] == 5
    np.testing.assert_allclose(moves, [[0.1, -0.1]] * 5, rtol=1e-7)


def test_momentum_first_step_after_the_state_is_cleared():
    # With no momentum buffer (a fresh state) the step runs as the optimizer itself, which
    # starts the buffer at the gradient (PyTorch's first step); later calls use the code.
    m1, m2 = mlp(np.float64), mlp(np.float64)
    o1, o2 = (tg.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True)
              for m in (m1, m2))
    s1, s2 = step_fn(m1, o1), tg.compile(step_fn(m2, o2))
    for i, (x, y) in enumerate(batches(np.float64, 8)):
        if i == 4:
            for o, m in ((o1, m1), (o2, m2)):
                for p in m.parameters():
                    o.state[p].clear()
        s1(tg.tensor(x), tg.tensor(y))
        s2(tg.tensor(x), tg.tensor(y))
    assert written_out(s2) and len(s2.programs) == 1
    assert_same(m1, m2, 1e-12)
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(o1.state[p]["momentum_buffer"],
                                      o2.state[q]["momentum_buffer"])


def test_param_groups_and_switching_momentum_on():
    # Two groups with their own lr; turning momentum on changes the code: it retraces.
    m1, m2 = mlp(np.float64), mlp(np.float64)
    o1, o2 = (tg.optim.SGD([{"params": list(m)[0].parameters(), "lr": 0.01},
                            {"params": list(m.parameters())[2:]}], lr=0.1) for m in (m1, m2))
    s1, s2 = step_fn(m1, o1), tg.compile(step_fn(m2, o2))
    for i, (x, y) in enumerate(batches(np.float64, 8)):
        if i == 4:
            o1.param_groups[1]["momentum"] = o2.param_groups[1]["momentum"] = 0.5
        s1(tg.tensor(x), tg.tensor(y))
        s2(tg.tensor(x), tg.tensor(y))
    assert len(s2.programs) == 2 and written_out(s2)
    assert_same(m1, m2, 1e-12)


def test_a_new_parameter_list_retraces():
    # The update is written for the parameters the optimizer held: others retrace.
    m1, m2 = mlp(np.float64), mlp(np.float64)
    o1, o2 = (tg.optim.SGD(m.parameters(), lr=0.1) for m in (m1, m2))
    s1, s2 = step_fn(m1, o1), tg.compile(step_fn(m2, o2))
    for i, (x, y) in enumerate(batches(np.float64, 6)):
        if i == 3:  # the first weight swapped for another tensor: it no longer moves
            for o, m in ((o1, m1), (o2, m2)):
                o.param_groups[0]["params"] = [tg.tensor(np.zeros(3), requires_grad=True),
                                               *list(m.parameters())[1:]]
        s1(tg.tensor(x), tg.tensor(y))
        s2(tg.tensor(x), tg.tensor(y))
    assert len(s2.programs) == 2
    assert_same(m1, m2, 1e-12)


@pytest.mark.parametrize("opt", ["sgd-momentum", "adam"])
def test_compiled_cnn_training_matches_eager(opt):
    # Issue 11's acceptance for a CNN: same init, 50 steps, float64 to 1e-12.
    def cnn():
        tg.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 4, 3), nn.Tanh(), nn.Flatten(),
                             nn.Linear(16, 3)).to(np.float64)
    m1, m2 = cnn(), cnn()
    o1, o2 = OPTIMIZERS[opt](m1.parameters()), OPTIMIZERS[opt](m2.parameters())
    s1, s2 = step_fn(m1, o1), tg.compile(step_fn(m2, o2))
    rng = np.random.default_rng(3)
    for _ in range(50):
        x, y = rng.standard_normal((4, 1, 8, 8)), rng.integers(0, 3, 4)
        l1, l2 = s1(tg.tensor(x), tg.tensor(y)), s2(tg.tensor(x), tg.tensor(y))
        np.testing.assert_allclose(l1.data, l2.data, rtol=1e-12, atol=1e-12)
    assert len(s2.programs) == 1 and written_out(s2)
    assert_same(m1, m2, 1e-12)


def test_a_trace_leaves_no_recording_array_in_module_caches():
    """Caches of constant arrays (the ones of ops/_util.sum_axis, the 0-d numbers of x op c)
    must hold plain read-only arrays after a trace, or a later trace would read a stale var."""
    from tensorgrad.compile.trace import Traced
    from tensorgrad.ops import _util

    _util._ONES.clear()
    model = mlp(np.float32)
    step = tg.compile(step_fn(model, tg.optim.SGD(model.parameters(), lr=0.1)))
    x, y = batches(np.float32, 1, 9)[0]
    step(tg.tensor(x), tg.tensor(y))
    assert _util._ONES
    assert all(type(v) is np.ndarray and not v.flags.writeable for v in _util._ONES.values())
    cached = [t.data for t in tensor_mod._scalars.values()] if hasattr(tensor_mod, "_scalars") \
        else []
    assert not any(isinstance(a, Traced) for a in cached)


def test_an_array_kept_from_another_trace_is_refused():
    kept = []
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)

    @tg.compile
    def first(x):
        y = w * x
        kept.append(y)  # a side effect: the traced value escapes
        return y.sum()

    @tg.compile
    def second(x):
        return (kept[0] * x).sum()

    with tg.no_grad():
        first(np.ones(2))
        with pytest.raises(RuntimeError, match="recorded while tracing another call"):
            second(np.ones(2))


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_the_library_input_checks_are_made_again_at_every_call():
    """A class target out of range (or a probability outside [0, 1]) raises at replay as it
    does eagerly, before any parameter changes: a label of -1 would otherwise pick the last
    score of the row before."""
    model = mlp(np.float64)
    step = tg.compile(step_fn(model, tg.optim.SGD(model.parameters(), lr=0.1)))
    x, y = batches(np.float64, 1)[0]
    step(tg.tensor(x), tg.tensor(y))
    step(tg.tensor(x), tg.tensor(y))
    before = [p.data.copy() for p in model.parameters()]
    for bad in (-1, 3):
        y_bad = y.copy()
        y_bad[1] = bad
        with pytest.raises(RuntimeError, match="check the library makes of its input"):
            step(tg.tensor(x), tg.tensor(y_bad))
        with pytest.raises(IndexError):  # eagerly: the library's own error
            F.cross_entropy(model(tg.tensor(x)), y_bad)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))

    w = tg.tensor(np.array([0.5, -0.5]), requires_grad=True)

    @tg.compile
    def bce(p, t):
        return F.binary_cross_entropy(p * w.sum() + 0.5, t)  # probabilities from a parameter

    p, t = np.array([0.2, 0.7]), np.array([1.0, 0.0])
    expected = float(F.binary_cross_entropy(np.full(2, 0.5), t))  # w.sum() is 0
    assert float(bce(p, t)) == pytest.approx(expected)
    assert float(bce(p, t)) == pytest.approx(expected)  # replayed
    w.data[0] = 5.0  # p * 4.5 + 0.5 leaves [0, 1]
    with pytest.raises(RuntimeError, match="check the library makes of its input"):
        bce(p, t)


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_an_array_argument_on_the_left_of_a_tensor_stays_an_input():
    """``p * tensor`` with p a numpy argument: the Tensor's override takes the call and p stays
    the argument (it was frozen into a constant); arguments named t or np keep working."""
    w = tg.tensor(np.array([0.5, -0.5]), requires_grad=True)

    @tg.compile
    def f(t, np_arg, np):
        return (t * w).sum() + (np_arg @ w) + (np + w).sum()

    rng = np.random.default_rng(0)
    for _ in range(3):
        a, b, c = rng.standard_normal(2), rng.standard_normal((3, 2)), rng.standard_normal(2)
        with tg.no_grad():
            expected = (a * w.data).sum() + b @ w.data + (c + w.data).sum()
            np.testing.assert_allclose(f(a, b, c).data, expected, rtol=1e-12)


def test_a_result_sized_by_values_is_checked_at_every_call():
    """x[mask] has as many elements as the mask has True: a replay whose mask counts
    differently raises (the buffers after it would broadcast a smaller result silently)."""
    w = tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)

    @tg.compile
    def f(x):
        opt.zero_grad()
        loss = ((w * x)[x > 0].exp() * 2).sum()
        loss.backward()
        opt.step()
        return loss

    a, b = np.array([1.0, 1.0, -1.0]), np.array([-1.0, 1.0, 1.0])
    f(a)
    f(b)  # another mask with the same count: fine
    before = w.data.copy()
    with pytest.raises(RuntimeError, match="another size"):
        f(np.array([1.0, -1.0, -1.0]))
    np.testing.assert_array_equal(w.data, before)
    src = f.source
    assert "_shape_changed(" in src and "nonzero" not in src


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_a_number_the_library_reads_from_an_argument_is_checked_at_every_call():
    """one_hot(y) infers its class count from y.max(): the program is written for the traced
    count, so a call whose labels imply another one raises instead of a wider one-hot."""
    w = tg.tensor(np.ones(5), requires_grad=True)

    @tg.compile
    def f(y):
        oh = F.one_hot(y)
        return (oh.sum(0) * w[:oh.shape[1]]).sum()

    assert float(f(np.array([0, 4]))) == 2.0
    assert float(f(np.array([1, 4]))) == 2.0
    with pytest.raises(RuntimeError, match="one_hot"):
        f(np.array([0, 2]))


SCALE = 1.0


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_python_values_the_step_reads_are_guarded():
    """A global, a closure variable, a dict item or an attribute the step reads is baked
    into the program: another value retraces (as PyTorch's compile does); one that changes
    at every call ends up running eagerly, with a warning, never with a stale value."""
    import types

    global SCALE
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    cfg = {"beta": 1.0}
    args = types.SimpleNamespace(gamma=1.0)
    k = 1.0

    @tg.compile
    def f(x):
        return (w * x).sum() * SCALE * cfg["beta"] * args.gamma * k

    x = np.ones(2)
    assert float(f(x)) == 3.0
    SCALE = 2.0
    assert float(f(x)) == 6.0
    cfg["beta"] = 3.0
    assert float(f(x)) == 18.0
    args.gamma = 0.5
    assert float(f(x)) == 9.0
    k = 2.0
    assert float(f(x)) == 18.0
    assert len(f.programs) == 5
    SCALE = 1.0
    with pytest.warns(RuntimeWarning, match="run eagerly"):
        for i in range(10):
            k = float(i)
            assert float(f(x)) == 3.0 * 3.0 * 0.5 * i
    assert len(f.programs) == 8


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_module_hyperparameters_changed_between_calls_retrace():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.1))
    step = tg.compile(lambda x: model(x).sum())
    x = -np.ones((2, 3), dtype=np.float32)
    for slope in (0.1, 0.5, 0.1):
        model[1].negative_slope = slope
        np.testing.assert_allclose(step(x).data, model(tg.tensor(x)).sum().data, rtol=1e-6)
    assert len(step.programs) == 2


def test_compiling_a_model_for_training_warns_that_results_carry_no_graph():
    model = nn.Linear(3, 2)
    forward = tg.compile(model)
    x = np.ones((4, 3), np.float32)
    with pytest.warns(RuntimeWarning, match="without a graph"):
        out = forward(x)
    np.testing.assert_allclose(out.data, model(tg.tensor(x)).data, rtol=1e-6)
    with tg.no_grad():
        forward(x)  # inference: no warning, no graph wanted


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_arrays_passed_by_keyword_are_inputs_and_new_numbers_do_not_trace_forever():
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)

    @tg.compile
    def f(x, scale=1.0):
        return (w * x).sum() * scale

    for i in range(5):
        assert float(f(x=np.full(2, float(i)))) == 3.0 * i
    assert len(f.programs) == 1  # x by keyword is the same input as x by position
    assert float(f(np.ones(2), scale=2.0)) == 6.0
    with pytest.warns(RuntimeWarning, match="run eagerly"):
        for i in range(80):  # a new number at every call: traced 64 times, then eager
            assert float(f(np.ones(2), float(i))) == 3.0 * i
    assert len(f.programs) == 64


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_numpy_global_draws_in_the_step_are_fresh_at_every_call():
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)

    @tg.compile
    def f(x):
        return (w * (x + np.random.randn(2))).sum()

    np.random.seed(0)
    values = [float(f(np.ones(2))) for _ in range(4)]
    np.random.seed(0)
    expected = [3.0 + float(np.random.randn(2) @ w.data) for _ in range(4)]
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    assert "np.random.randn(2)" in f.source
    assert type(np.random.randn).__name__ != "function"  # numpy's own again after the trace


def test_a_mode_switch_inside_the_step_is_replayed():
    """model.eval() inside the step: the replay switches too (the model ends each call in the
    mode eager leaves it in), and the next call's program is the one for that mode."""
    def build():
        tg.manual_seed(0)
        m = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1)).to(np.float64)
        opt = tg.optim.SGD(m.parameters(), lr=0.05)

        def step(x, xv):
            m.train()
            opt.zero_grad()
            loss = m(x).sum()
            loss.backward()
            opt.step()
            m.eval()
            return loss, m(xv).sum()
        return m, step

    (m1, s1), (m2, s2) = build(), build()
    s2 = tg.compile(s2)
    rng = np.random.default_rng(0)
    for i in range(4):
        x, xv = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
        tg.manual_seed(i)
        a = s1(tg.tensor(x), tg.tensor(xv))
        tg.manual_seed(i)
        b = s2(tg.tensor(x), tg.tensor(xv))
        assert float(a[0]) == float(b[0]) and float(a[1]) == float(b[1])
        assert m2.training is False and m2[1].training is False
    assert len(s2.programs) == 1  # the step sets the mode itself: no guard on it
    assert_same(m1, m2, 0)


def test_an_array_the_step_makes_itself_warns_that_it_is_replayed_as_a_constant():
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    rng = np.random.default_rng(0)
    offset = np.array([0.5, 0.5])  # held outside: read at every call, no warning

    @tg.compile
    def f(x):
        return (w * (x + rng.normal(size=2) + offset)).sum()

    with tg.no_grad():
        with pytest.warns(RuntimeWarning, match="replayed as the constant"):
            f(np.ones(2))
        offset[:] = 1.5
        first = float(f(np.ones(2)))
        assert float(f(np.ones(2))) == first  # the draw is stale, as the warning says


CFG = {"beta": 1.0}


@pytest.mark.filterwarnings("ignore:tg.compile. the function returns a tensor")
def test_a_guarded_global_rebound_to_another_kind_retraces():
    global CFG
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)

    @tg.compile
    def f(x):
        return (w * x).sum() * (CFG["beta"] if isinstance(CFG, dict) else CFG)

    assert float(f(np.ones(2))) == 3.0
    CFG = 2.0  # the guard read CFG["beta"]: it must retrace, not raise
    assert float(f(np.ones(2))) == 6.0
    CFG = {"beta": 1.0}
