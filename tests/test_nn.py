"""nn: Module registration and naming, modes, Linear/Dropout/Sequential, init, and a
gradcheck of every layer with respect to its input and its parameters."""
from __future__ import annotations

import copy
import math
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.scale = 2.0  # a plain attribute: not registered

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


# ----------------------------------------------------------------------------- Parameter
def test_parameter_is_a_float_leaf_that_requires_grad():
    p = nn.Parameter([1, 2, 3])
    assert isinstance(p, tg.Tensor) and p.is_leaf and p.requires_grad
    assert p.dtype == tg.get_default_dtype()
    assert nn.Parameter(np.zeros(2, np.float64)).dtype == np.float64
    assert nn.Parameter(tg.ones(2), requires_grad=False).requires_grad is False
    assert repr(nn.Parameter([1.0])).startswith("Parameter containing:\ntensor(")


def test_parameter_copies_its_data():
    a = np.zeros(3, np.float64)
    p = nn.Parameter(a)
    p.data[0] = 1
    assert a[0] == 0


# ----------------------------------------------------------------------------- registration
def test_attributes_register_parameters_and_modules_in_order():
    m = MLP()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert list(m.children()) == [m.fc1, m.act, m.fc2]
    assert [type(x).__name__ for x in m.modules()] == ["MLP", "Linear", "ReLU", "Linear"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(m.parameters())) == 4
    assert "scale" not in m._parameters and m.scale == 2.0


def test_sequential_names_are_positions_and_nest():
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Sequential(nn.Linear(3, 3), nn.ReLU()))
    assert [n for n, _ in net.named_parameters()] == [
        "0.weight", "0.bias", "2.0.weight", "2.0.bias"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.0.weight", "2.0.bias"]


def test_reassignment_and_deletion_update_the_registry():
    m = MLP()
    m.fc1 = nn.Linear(3, 4, bias=False)
    assert [n for n, _ in m.named_parameters()][:2] == ["fc1.weight", "fc2.weight"]
    m.fc2 = None
    assert m.fc2 is None and [n for n, _ in m.named_parameters()] == ["fc1.weight"]
    del m.fc1
    assert not hasattr(m, "fc1") and list(m.parameters()) == []
    m.w = nn.Parameter(np.ones(2))
    m.w = None  # an empty parameter slot
    assert m.w is None and list(m.parameters()) == []


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        lin.weight = tg.ones(2, 2)
    with pytest.raises(TypeError, match="nn.Module"):
        MLP().fc1 = 3


def test_forgetting_super_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()


def test_shared_parameters_are_listed_once():
    a = nn.Linear(2, 2)
    net = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(net.parameters())) == 2
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    tg.optim.SGD(net.parameters(), lr=0.1)  # no "appears more than once" error


def test_deepcopy_gives_an_independent_model():
    m = MLP()
    c = copy.deepcopy(m)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in m.named_parameters()]
    c.fc1.weight.data[...] = 0
    assert np.any(m.fc1.weight.data != 0)
    assert isinstance(c.fc1.weight, nn.Parameter)


def test_missing_attribute_error():
    with pytest.raises(AttributeError, match="nope"):
        MLP().nope  # noqa: B018


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# ----------------------------------------------------------------------------- modes, grads
def test_train_eval_is_recursive():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_none():
    m = MLP()
    m(tg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_to_converts_dtype_in_place():
    m = MLP()
    w = m.fc1.weight
    m.double()
    assert m.fc1.weight is w and w.dtype == np.float64
    assert m(tg.randn(2, 3, dtype=np.float64)).dtype == np.float64
    with pytest.raises(TypeError):
        m.to(np.int32)


def test_repr_like_pytorch():
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1),
                        nn.Sequential(nn.Softmax(axis=1)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=64, out_features=128, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1)\n"
        "  (3): Sequential(\n"
        "    (0): Softmax(axis=1)\n"
        "  )\n"
        ")")


def test_apply_visits_every_module():
    seen = []
    MLP().apply(lambda m: seen.append(type(m).__name__))
    assert sorted(seen) == ["Linear", "Linear", "MLP", "ReLU"]


# ----------------------------------------------------------------------------- containers
def test_sequential_indexing_len_iter_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    net = nn.Sequential(*layers)
    assert len(net) == 3 and list(net) == layers
    assert net[0] is layers[0] and net[-1] is layers[2]
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = tg.randn(4, 2)
    np.testing.assert_array_equal(net(x).data, layers[2](layers[1](layers[0](x))).data)
    net.append(nn.Sigmoid())
    assert len(net) == 4 and isinstance(net[3], nn.Sigmoid)
    with pytest.raises(IndexError):
        net[4]  # noqa: B018
    with pytest.raises(TypeError):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_from_ordered_dict_keeps_names():
    net = nn.Sequential(OrderedDict(hidden=nn.Linear(2, 2), out=nn.Linear(2, 1)))
    assert [n for n, _ in net.named_parameters()] == [
        "hidden.weight", "hidden.bias", "out.weight", "out.bias"]


def test_module_list_registers():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    s = Stack()
    assert len(s.layers) == 3 and len(list(s.parameters())) == 6
    assert [n for n, _ in s.named_parameters()][-1] == "layers.2.bias"
    s.layers[0] = nn.Linear(2, 2, bias=False)
    assert len(list(s.parameters())) == 5
    assert s(tg.randn(1, 2)).shape == (1, 2)


# ----------------------------------------------------------------------------- Linear
def test_linear_shapes_and_forward():
    lin = nn.Linear(5, 3)
    assert lin.weight.shape == (5, 3) and lin.bias.shape == (3,)
    assert nn.Dense is nn.Linear
    x = tg.randn(7, 5)
    np.testing.assert_allclose(lin(x).data, x.data @ lin.weight.data + lin.bias.data,
                               rtol=1e-6)
    assert lin(tg.randn(2, 4, 5)).shape == (2, 4, 3)
    assert lin(tg.randn(5)).shape == (3,)
    nob = nn.Linear(5, 3, bias=False)
    assert nob.bias is None and [n for n, _ in nob.named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match="linear"):
        lin(tg.randn(7, 4))
    with pytest.raises(ValueError):
        nn.Linear(0, 3)


def test_linear_dtype():
    assert nn.Linear(2, 2).weight.dtype == tg.get_default_dtype()
    lin = nn.Linear(2, 2, dtype=np.float64)
    assert lin.weight.dtype == lin.bias.dtype == np.float64
    with pytest.raises(TypeError):
        nn.Linear(2, 2, dtype=np.int64)


def test_linear_init_is_kaiming_uniform_with_zero_bias():
    tg.manual_seed(0)
    lin = nn.Linear(400, 300)
    w = lin.weight.data.astype(np.float64)
    bound = math.sqrt(6 / 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.mean()) < 0.005
    np.testing.assert_allclose(w.var(), 2 / 400, rtol=0.02)
    np.testing.assert_array_equal(lin.bias.data, 0)


def test_linear_init_is_seeded_by_manual_seed():
    tg.manual_seed(3)
    a = nn.Linear(4, 4).weight.data.copy()
    tg.manual_seed(3)
    b = nn.Linear(4, 4).weight.data
    c = nn.Linear(4, 4).weight.data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


# ----------------------------------------------------------------------------- Dropout
def test_dropout_is_identity_in_eval_and_at_p0():
    x = tg.randn(10, 10)
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert F.dropout(x, 0.9, training=False) is x


def test_dropout_drops_and_rescales():
    tg.manual_seed(0)
    x = tg.ones(200, 500, dtype=np.float64)
    y = nn.Dropout(0.3)(x).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.01
    assert abs(y.mean() - 1.0) < 0.015  # inverted dropout keeps the mean
    assert y.dtype == np.float64
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0)


def test_dropout_gradient_is_the_mask():
    tg.manual_seed(1)
    x = tg.randn(50, 20, dtype=np.float64, requires_grad=True)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, (y.data != 0) / 0.75)


def test_dropout_is_reproducible_with_manual_seed():
    x = tg.ones(8, 8)
    tg.manual_seed(5)
    a = nn.Dropout(0.5)(x).data
    tg.manual_seed(5)
    b = nn.Dropout(0.5)(x).data
    c = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_p_out_of_range(p):
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(p)


def test_dropout_p_not_a_number():
    with pytest.raises(TypeError):
        nn.Dropout("0.5")
    with pytest.raises(TypeError):
        F.dropout(tg.ones(2), True)


# ----------------------------------------------------------------------------- other layers
def test_identity_and_flatten():
    x = tg.randn(2, 3, 4)
    assert nn.Identity()(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0)(x).shape == (24,)
    assert nn.Flatten(1, 1)(x).shape == (2, 3, 4)


def test_activation_modules_match_functions():
    x = tg.randn(3, 4, dtype=np.float64)
    pairs = [(nn.ReLU(), F.relu(x)), (nn.Sigmoid(), F.sigmoid(x)), (nn.Tanh(), F.tanh(x)),
             (nn.Softmax(), F.softmax(x, -1)), (nn.Softmax(axis=0), F.softmax(x, 0)),
             (nn.LogSoftmax(), F.log_softmax(x, -1)), (nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2)),
             (nn.GELU(), F.gelu(x)), (nn.GELU("tanh"), F.gelu(x, "tanh"))]
    for module, expected in pairs:
        np.testing.assert_array_equal(module(x).data, expected.data)
    np.testing.assert_allclose(nn.Softmax(axis=0)(x).data.sum(axis=0), 1.0)
    with pytest.raises(ValueError):
        nn.GELU("exact")


# ----------------------------------------------------------------------------- gradcheck
@contextmanager
def _using(module, params):
    """Run `module` with `params` (name -> Tensor) in place of its parameters."""
    owners = {}
    for name in params:
        *path, leaf = name.split(".")
        owner = module
        for part in path:
            owner = owner._modules[part]
        owners[name] = (owner, leaf, owner._parameters[leaf])
        owner._parameters[leaf] = params[name]
    try:
        yield
    finally:
        for owner, leaf, p in owners.values():
            owner._parameters[leaf] = p


def _gradcheck_layer(module, x, seed=None):
    """tg.gradcheck of module(x) with respect to x and every parameter (float64)."""
    module.double()
    names = [n for n, _ in module.named_parameters()]
    inputs = [x] + [tg.tensor(p.data, requires_grad=True) for _, p in module.named_parameters()]

    def fn(x, *ps):
        if seed is not None:
            tg.manual_seed(seed)  # the same dropout mask on every call
        with _using(module, dict(zip(names, ps))):
            return module(x)

    assert tg.gradcheck(fn, inputs)


LAYERS = [
    lambda: nn.Linear(3, 2), lambda: nn.Linear(3, 2, bias=False), nn.ReLU, nn.Sigmoid, nn.Tanh,
    nn.Softmax, lambda: nn.Softmax(axis=0), nn.LogSoftmax, lambda: nn.LeakyReLU(0.1), nn.GELU,
    nn.Identity, nn.Flatten, lambda: nn.Dropout(0.0),
    lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.LogSoftmax()),
]


@pytest.mark.parametrize("make", LAYERS)
def test_every_layer_passes_gradcheck(make):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(4, 3))
    x[np.abs(x) < 0.05] = 0.5  # keep ReLU's kink out of reach of the finite differences
    _gradcheck_layer(make(), tg.tensor(x, requires_grad=True))


def test_dropout_in_training_passes_gradcheck_with_a_fixed_mask():
    x = tg.tensor(np.random.default_rng(1).normal(size=(5, 4)), requires_grad=True)
    _gradcheck_layer(nn.Dropout(0.4), x, seed=7)
    _gradcheck_layer(nn.Dropout(0.4).eval(), x)


def test_gradcheck_helper_fails_on_a_wrong_gradient():
    class WrongGrad(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.data * 3 if isinstance(x, tg.Tensor) else x * 3

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Bad(nn.Module):
        def forward(self, x):
            return WrongGrad.apply(x)

    with pytest.raises(tg.GradcheckError):
        _gradcheck_layer(Bad(), tg.tensor(np.ones((2, 2)), requires_grad=True))


# ----------------------------------------------------------------------------- init
def _big(dtype=np.float64):
    return nn.Parameter(np.zeros((300, 200), dtype))


@pytest.mark.parametrize("fn, var", [
    (lambda t: nn.init.xavier_uniform_(t), 2 / 500),
    (lambda t: nn.init.xavier_normal_(t), 2 / 500),
    (lambda t: nn.init.xavier_uniform_(t, gain=2.0), 4 * 2 / 500),
    (lambda t: nn.init.kaiming_uniform_(t), 2 / 300),
    (lambda t: nn.init.kaiming_normal_(t), 2 / 300),
    (lambda t: nn.init.kaiming_normal_(t, mode="fan_out"), 2 / 200),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="tanh"), (5 / 3) ** 2 / 300),
    (lambda t: nn.init.kaiming_uniform_(t, a=1.0), 1 / 300),
    (lambda t: nn.init.normal_(t, 1.0, 0.5), 0.25),
    (lambda t: nn.init.uniform_(t, -3, 3), 3.0),
])
def test_init_variances(fn, var):
    tg.manual_seed(0)
    t = _big()
    data = t.data
    assert fn(t) is t
    assert t.data is data  # in place
    np.testing.assert_allclose(t.data.var(), var, rtol=0.03)


def test_init_bounds_constants_and_dtype():
    tg.manual_seed(0)
    t = _big(np.float32)
    nn.init.kaiming_uniform_(t, nonlinearity="relu")
    assert t.dtype == np.float32 and np.abs(t.data).max() <= math.sqrt(6 / 300)
    nn.init.xavier_uniform_(t)
    assert np.abs(t.data).max() <= math.sqrt(6 / 500)
    for fn, value in [(nn.init.zeros_, 0.0), (nn.init.ones_, 1.0),
                      (lambda t: nn.init.constant_(t, 0.25), 0.25)]:
        fn(t)
        np.testing.assert_array_equal(t.data, value)
    np.testing.assert_allclose(nn.init.normal_(t, 1.0, 0.1).data.mean(), 1.0, atol=0.01)


def test_init_reproducible_and_no_graph():
    t = _big()
    tg.manual_seed(2)
    a = nn.init.kaiming_normal_(t).data.copy()
    tg.manual_seed(2)
    np.testing.assert_array_equal(nn.init.kaiming_normal_(t).data, a)
    assert t.is_leaf and t.grad is None


def test_init_errors():
    with pytest.raises(ValueError, match="2 dims"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_uniform_(_big(), mode="fan_avg")
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(TypeError):
        nn.init.zeros_(tg.tensor([1, 2]))


def test_calculate_gain():
    g = nn.init.calculate_gain
    assert g("linear") == g("sigmoid") == 1.0
    assert g("tanh") == pytest.approx(5 / 3)
    assert g("relu") == pytest.approx(math.sqrt(2))
    assert g("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert g("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert g("selu") == 0.75


# ----------------------------------------------------------------------------- training
def test_a_small_network_learns_xor():
    tg.manual_seed(0)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
    y = np.array([0, 1, 1, 0])
    net = nn.Sequential(nn.Linear(2, 8, dtype=np.float64), nn.Tanh(),
                        nn.Linear(8, 2, dtype=np.float64))
    opt = tg.optim.Adam(net.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn(net(tg.tensor(X)), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    np.testing.assert_array_equal(net(tg.tensor(X)).data.argmax(axis=1), y)
