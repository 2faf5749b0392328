"""In-place operations, version counters and the saved-value check (issue 8, item 1)."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F

RNG = np.random.default_rng(0)


def t64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------ the reproductions
def _model_and_data():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    return model, tg.randn(5, 3), tg.tensor([0, 1, 1, 0, 1])


def test_optimizer_step_between_forward_and_backward_raises_naming_the_op():
    model, x, y = _model_and_data()
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(x), y).backward()  # gradients from an earlier step
    loss = F.cross_entropy(model(x), y)
    versions = [p._version for p in model.parameters()]
    opt.step()  # the everyday mistake: step between this forward and its backward
    assert all(p._version == v + 1 for p, v in zip(model.parameters(), versions))
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*'(linear|matmul)'"):
        loss.backward()


def test_hand_written_sgd_under_no_grad_updates_the_parameters_in_place():
    model, x, y = _model_and_data()
    F.cross_entropy(model(x), y).backward()
    params = list(model.parameters())
    before = [(p, p.data, p.data.copy(), p.grad.copy()) for p in params]
    with tg.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for (p, arr, old, g), q in zip(before, model.parameters()):
        assert q is p and q.data is arr and q.is_leaf
        np.testing.assert_allclose(q.data, old - 0.1 * g, rtol=1e-6)
        assert q._version == 1


def test_in_place_on_a_leaf_that_requires_grad_raises_in_grad_mode():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.mul_(2.0), lambda: w.zero_(),
                   lambda: w.__isub__(1.0), lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*no_grad"):
            change()
    assert w._version == 0 and w.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="view of a leaf"):
        w.reshape(2, 1).add_(1)
    with tg.no_grad():
        w.reshape(2, 1).add_(1)
    assert w.tolist() == [2.0, 3.0] and w._version == 1


def test_setitem_message_no_longer_recommends_data():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        w[0] = 3.0
    assert ".data" not in str(e.value)


def test_saved_input_changed_in_place_raises_but_unsaved_is_fine():
    x, w = t64([1.0, 2.0]), t64([3.0, 4.0], requires_grad=False)
    y = (x * w).sum()
    w.add_(1)  # mul saved w for x's gradient
    with pytest.raises(RuntimeError, match=r"input 1 of 'mul'.*at version 1; expected version 0"):
        y.backward()
    a = x * 2
    z = (a + 1).sum()  # add reads neither input
    a.add_(1)
    z.backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


def test_output_saved_by_its_rule_changed_in_place_raises():
    x = t64([0.5, 1.0])
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="output of 'exp'"):
        y.sum().backward()
    y = x + 1  # add does not read its output
    y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


def test_data_writes_bypass_the_check_as_documented():
    x, w = t64([1.0, 2.0, 3.0]), t64([1.0, 1.0, 1.0])
    y = (x * w).sum()
    w.data[:] = 5  # raw numpy write: not seen, as in PyTorch
    y.backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0, 5.0])
    assert w._version == 0


# ------------------------------------------------------------------ recorded in-place ops
def test_in_place_ops_on_a_non_leaf_are_the_same_object_and_array():
    x = t64([1.0, 2.0])
    y = x * 2
    arr = y.data
    for r in (y.add_(1), y.sub_(0.5), y.mul_(3.0), y.div_(2.0), y.clamp_(0.0, 10.0),
              y.fill_(1.0), y.zero_(), y.copy_(x)):
        assert r is y and y.data is arr
    y += 1
    y -= 1
    y *= 2
    y /= 2
    assert y.data is arr and y._version == 12 and not y.is_leaf


SCENARIOS = {
    "add_tensor": lambda y, w: y.add_(w),
    "sub_tensor": lambda y, w: y.sub_(w),
    "mul_tensor": lambda y, w: y.mul_(w),
    "div_tensor": lambda y, w: y.div_(w * w + 1),
    "add_scalar": lambda y, w: y.add_(2.0),
    "mul_scalar": lambda y, w: y.mul_(-3.0),
    "div_scalar": lambda y, w: y.div_(4.0),
    "iadd": lambda y, w: y.__iadd__(w),
    "isub": lambda y, w: y.__isub__(w * 2),
    "imul": lambda y, w: y.__imul__(w),
    "itruediv": lambda y, w: y.__itruediv__(w * w + 1),
    "mul_self": lambda y, w: y.mul_(y),
    "clamp": lambda y, w: y.clamp_(-0.5, 1.5),
    "clamp_min": lambda y, w: y.clamp_(min=0.0),
    "copy": lambda y, w: y.copy_(w),
    "copy_broadcast": lambda y, w: y.copy_(w[0]),
    "fill": lambda y, w: y.fill_(3.0),
    "fill_tensor": lambda y, w: y.fill_(w[1, 2]),
    "zero": lambda y, w: y.zero_(),
    "setitem_int": lambda y, w: y.__setitem__(1, w[0]),
    "setitem_slice": lambda y, w: y.__setitem__((slice(None), slice(0, 2)), w[:, 1:]),
    "setitem_scalar": lambda y, w: y.__setitem__(0, 7.0),
    "setitem_mask": lambda y, w: y.__setitem__(y > 0.3, 0.0),
    "setitem_mask_tensor": lambda y, w: y.__setitem__(w > 0, (w * 10)[w > 0]),
    "setitem_array": lambda y, w: y.__setitem__(([0, 1], [2, 0]), w[0, :2]),
    "twice": lambda y, w: y.mul_(w).add_(y.exp()),
}


def _run(lib, name, xs, ws):
    x = lib.tensor(np.array(xs), requires_grad=True)
    w = lib.tensor(np.array(ws), requires_grad=True)
    y = x.tanh() * 1.5  # a non-leaf; tanh saves its output, not y
    z = y * 1.0
    SCENARIOS[name](z, w)
    loss = (z * z).sum() + (y * 0.5).sum()  # y itself is still used: the old value
    loss.backward()
    return z, x.grad, w.grad


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_in_place_op_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    xs, ws = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    z, gx, gw = _run(tg, name, xs, ws)
    if name == "mul_self":  # PyTorch saves self and then overwrites it: it raises
        with pytest.raises(RuntimeError, match="inplace"):
            _run(torch, name, xs, ws)
        return
    zt, gxt, gwt = _run(torch, name, xs, ws)
    np.testing.assert_allclose(z.data, zt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx, gxt.numpy(), rtol=1e-10, atol=1e-12)
    if gwt is None:
        assert gw is None or not np.any(gw)
    else:
        np.testing.assert_allclose(gw, gwt.numpy(), rtol=1e-10, atol=1e-12)
    assert z._version == zt._version


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_in_place_op_gradient_matches_finite_differences(name):
    xs, ws = RNG.uniform(-1, 1, (2, 3)), RNG.uniform(0.2, 1, (2, 3))

    def f(x, w):
        y = x.tanh() * 1.5
        z = y * 1.0
        SCENARIOS[name](z, w)
        return (z * z).sum() + (y * 0.5).sum()

    assert tg.gradcheck(f, [t64(xs), t64(ws)])


def test_in_place_ops_second_derivative():
    x = t64([0.3, -0.7])

    def f(x):
        y = x * x
        y.mul_(x)  # x^3
        y[0] = y[0] * 2.0
        return y

    assert tg.gradgradcheck(lambda x: f(x).sum(), [x])


def test_a_constant_becomes_a_non_leaf_when_a_tensor_that_requires_grad_is_written_in():
    w = t64([1.0, 2.0])
    buf = tg.zeros(2, dtype=np.float64)
    buf.add_(w * w)
    buf[0] = w[1] * 3
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_allclose(w.grad, [0.0, 4.0 + 3.0])


def test_consumers_recorded_before_the_change_get_the_old_value_gradient():
    x = t64([1.0, 2.0])
    y = x * 2
    before = y * 4.0  # uses old y = 2x: d/dx = 8 (mul by a number does not save y)
    y.mul_(3.0)
    after = y.sum()  # new y = 6x: d/dx = 6
    (before.sum() + after).backward()
    np.testing.assert_allclose(x.grad, [14.0, 14.0])


def test_engine_switch_changes_no_in_place_gradient(monkeypatch):
    from tensorgrad.autograd import engine

    def grads():
        x, w = t64([[0.5, -1.0, 2.0]]), t64([[1.0, 2.0, 3.0]])
        h = (x * w).relu()
        h += x.tanh()
        h[0, 1] = (w * x).sigmoid()[0, 0]
        h.mul_(w)
        h.sum().backward()
        return x.grad, w.grad

    on = grads()
    monkeypatch.setattr(engine, "INPLACE_RULES", False)
    for a, b in zip(on, grads()):
        np.testing.assert_allclose(a, b)


# ------------------------------------------------------------------ views
def test_in_place_through_a_view_then_using_the_view_is_differentiated():
    x = t64([1.0, 2.0, 3.0])
    y = x * 2
    v = y[1:]
    v.mul_(3.0)
    assert y._version == 1 and v._version == 1
    v.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 6.0, 6.0])
    np.testing.assert_allclose(y.data, [2.0, 12.0, 18.0])


def test_the_base_of_a_view_changed_in_place_is_differentiated_as_pytorch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), requires_grad=True)
        w = lib.tensor(np.array([0.5, -1.0]), requires_grad=True)
        y = x * 2
        y[1:, 1:].mul_(3.0)
        y.reshape(6)[:2].add_(w)  # through two views
        y.T[0].mul_(w)  # a transposed view, by a tensor that requires grad
        y[:, 2:].zero_()
        (y * y).sum().backward()
        return y, x.grad, w.grad

    for a, b in zip(run(tg), run(torch)):
        np.testing.assert_allclose(getattr(a, "data", a), b.detach().numpy(), rtol=1e-12)


def test_other_views_of_a_changed_base_raise_not_a_wrong_gradient():
    x = t64([1.0, 2.0, 3.0])
    y = x * 2
    other = y[1:]  # made before the change: its node still describes the old values
    y[:2].mul_(3.0)
    with pytest.raises(RuntimeError, match="changed in place through another tensor"):
        other.sum().backward()


def test_view_made_under_no_grad_cannot_take_a_value_that_requires_grad():
    x = t64([1.0, 2.0, 3.0])
    y = x * 2
    with tg.no_grad():
        v = y[1:]
    with pytest.raises(RuntimeError, match="shares memory"):
        v.add_(x[1:])


def test_read_only_broadcast_view_cannot_be_changed():
    x = tg.tensor([1.0, 2.0]).broadcast_to((3, 2))
    with pytest.raises(RuntimeError, match="read-only"):
        x.add_(1)


# ------------------------------------------------------------------ errors
def test_in_place_errors():
    x = tg.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="add_"):
        x.add_(1.5)  # int tensor: the float result cannot be kept (PyTorch's rule)
    y = tg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="add_.*broadcast"):
        y.add_(tg.ones(3, 2))
    with pytest.raises(ValueError, match="clip"):
        y.clamp_(2.0, 1.0)
    with pytest.raises(IndexError, match="setitem"):
        y[5] = 1.0
    assert y._version == 0 and y.tolist() == [1.0, 2.0]


def test_no_grad_in_place_on_a_non_leaf_is_not_recorded():
    x = t64([1.0, 2.0])
    y = x * 2
    with tg.no_grad():
        y.add_(10.0)
    assert y.grad_fn == "mul" and y._version == 1
    (y * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])


def test_a_node_that_saved_the_old_value_raises_after_the_recorded_change():
    x = t64([1.0, 2.0])
    y = x * 2
    before = y * y  # saves y
    y.mul_(3.0)
    with pytest.raises(RuntimeError, match=r"input 0 of 'mul'.*at version 1; expected version 0"):
        before.sum().backward()


def test_a_long_loop_of_in_place_changes_with_consumers_in_between():
    x = t64([0.5, -0.25])
    acc = x * 1
    side = []
    for i in range(150):  # more changes than any short history of writes would hold
        acc += x * 0.01
        if i % 10 == 0:
            side.append(acc * 2.0)  # consumers of intermediate values
    (acc.sum() + sum(s.sum() for s in side)).backward()
    expected = (1 + 150 * 0.01) + sum(2 * (1 + (i + 1) * 0.01) for i in range(0, 150, 10))
    np.testing.assert_allclose(x.grad, [expected, expected])


@pytest.mark.parametrize("case", ["getitem", "getitem-tensor", "embedding", "gather",
                                  "masked_fill", "where", "attention-mask", "class-weight"])
def test_reusing_an_index_or_mask_array_after_forward_leaves_the_gradient_alone(case):
    """Ops keep their own copy of the index arrays and masks backward reads: changing the
    caller's array between forward and backward (a reused batch buffer) changes nothing."""
    import tensorgrad.nn.functional as F

    def run(mutate):
        x = tg.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
        if case in ("getitem", "getitem-tensor"):
            held = np.array([1, 0])
            y = x[tg.tensor(held) if case == "getitem-tensor" else held] * tg.tensor([[1.0], [2.0]])
            arr = held
        elif case == "embedding":
            arr = np.array([1, 1, 0])
            y = F.embedding(arr, x) * tg.tensor(np.arange(9.0).reshape(3, 3))
        elif case == "gather":
            arr = np.array([[0], [2]])
            y = tg.gather(x, 1, arr) * tg.tensor([[1.0], [3.0]])
        elif case in ("masked_fill", "where"):
            arr = np.array([[True, False, True], [False, False, True]])
            y = x.masked_fill(arr, 0.0) if case == "masked_fill" else tg.where(arr, x * x, x)
        elif case == "attention-mask":
            arr = np.array([[True, False], [True, True]])
            q = x[:, :2].reshape(1, 2, 2)
            y = F.scaled_dot_product_attention(q, q, q, attn_mask=arr) * tg.tensor([[1.0, 2.0]])
        else:
            arr = np.array([1.0, 2.0, 3.0])
            y = F.cross_entropy(x, np.array([0, 2]), weight=arr)
        out = y.sum()
        if mutate:
            arr[...] = np.roll(arr, 1, axis=-1) if arr.dtype != bool else ~arr
        out.backward()
        return x.grad

    np.testing.assert_array_equal(run(True), run(False))
