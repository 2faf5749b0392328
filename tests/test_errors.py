"""Bad input fails fast, names the op, shapes and dtypes, and records nothing."""
import gc

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn.functional as F


def _live_tensors():
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is tg.Tensor)  # type(): no proxies


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_broadcast_mismatch_names_op_shapes_and_dtypes(op):
    a = tg.tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.tensor(np.ones((4,), np.float32))
    with pytest.raises(ValueError) as e:
        getattr(tg.ops, op)(a, b)
    msg = str(e.value)
    assert msg.startswith(op) and "(2, 3)" in msg and "(4,)" in msg
    assert "float64" in msg and "float32" in msg


def test_operator_plus_mismatch():
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        tg.tensor(np.ones((2, 3))) + tg.tensor(np.ones(4))


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        tg.tensor(np.ones((2, 3))) @ tg.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match="matmul"):
        tg.matmul(tg.tensor(1.0), tg.tensor(np.ones(2)))


def test_linear_mismatch():
    with pytest.raises(ValueError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        tg.ops.linear(np.ones((2, 3)), np.ones((4, 5)))


@pytest.mark.parametrize("call", [
    lambda x: x.sum(axis=2), lambda x: x.mean(axis=(0, -3)), lambda x: x.max(axis=5),
    lambda x: x.softmax(axis=2), lambda x: x.unsqueeze(4), lambda x: x.squeeze(3),
    lambda x: tg.concatenate([x, x], axis=2), lambda x: x.logsumexp(axis=-3),
])
def test_bad_axis(call):
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises((ValueError, IndexError)) as e:
        call(x)
    assert "(2, 3)" in str(e.value) and "axis" in str(e.value)


def test_bad_axis_type():
    with pytest.raises(TypeError, match="sum: axis"):
        tg.tensor(np.ones(2)).sum(axis=1.5)


def test_out_of_range_index():
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    for index in [5, (0, 7), [0, 3], (slice(None), [4])]:
        with pytest.raises(IndexError, match=r"getitem.*\(2, 3\)"):
            x[index]


def test_reshape_and_broadcast_errors():
    x = tg.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="broadcast_to"):
        x.broadcast_to((3, 3))
    with pytest.raises(ValueError, match="permute"):
        x.permute(0, 0)


def test_cross_entropy_bad_targets():
    z = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(IndexError, match="cross_entropy.*out of range"):
        tg.ops.cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match="cross_entropy"):
        tg.ops.cross_entropy(z, np.array([0, 1, 2]))


def test_integer_requires_grad():
    with pytest.raises(TypeError, match="requires_grad"):
        tg.tensor([1, 2], requires_grad=True)


def test_unsupported_data():
    with pytest.raises(TypeError, match="tensor"):
        tg.tensor(["a", "b"])


def test_failed_op_records_nothing():
    a = tg.tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.tensor(np.ones(4), requires_grad=True)
    y = (a * 2).sum()
    before = _live_tensors()
    for bad in (lambda: a + b, lambda: a @ b, lambda: a[9], lambda: a.sum(axis=3),
                lambda: a.reshape(5)):
        with pytest.raises((ValueError, IndexError)):
            bad()
    assert _live_tensors() == before
    y.backward()
    np.testing.assert_allclose(a.grad, 2 * np.ones((2, 3)))
    assert b.grad is None


# Every bad input of issue 8: the right exception type, the op named, the offending value or
# shapes/dtypes named, a fix suggested, and nothing recorded.
_X = tg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
_Y = tg.tensor([1.0, 0.0, 1.0])
BAD_INPUTS = {
    'x + "abc"': (lambda: _X + "abc", TypeError, r"^add: .*\(3, 2\).*'abc'.*; pass"),
    '"abc" * x': (lambda: "abc" * _X, TypeError, r"^mul: .*float64.*'abc'"),
    "x.reshape(3.9, 2.1)": (lambda: _X.reshape(3.9, 2.1), TypeError,
                            r"^reshape: sizes must be integers, got \(3.9, 2.1\).*pass ints"),
    'x.reshape("a")': (lambda: _X.reshape("a"), TypeError, r"^reshape: sizes must be integers"),
    'x.transpose("a")': (lambda: _X.transpose("a"), TypeError, r"^transpose: axes must be"),
    'F.mse_loss(x, "a")': (lambda: F.mse_loss(_X, "a"), TypeError,
                           r"^mse_loss: target must be numbers.*'a'"),
    'x.clip("a", 1.0)': (lambda: _X.clip("a", 1.0), TypeError, r"^clip: a bound .*'a'"),
    "x.astype(str)": (lambda: _X.astype(str), TypeError, r"^astype: only numeric dtypes"),
    "x.astype(object)": (lambda: _X.astype(object), TypeError, r"^astype: only numeric"),
    "ragged list": (lambda: tg.tensor([[1, 2], [3]]), ValueError,
                    r"^tensor: .*\[\[1, 2\], \[3\]\].*ragged.*same length"),
    "tg.zeros(-1)": (lambda: tg.zeros(-1), ValueError, r"^zeros: negative size.*\(-1,\)"),
    "tg.ones(2.5)": (lambda: tg.ones(2.5), TypeError, r"^ones: sizes must be integers"),
    'tg.full((2,), "a")': (lambda: tg.full((2,), "a"), TypeError,
                           r"^full: fill_value must be numbers.*'a'"),
    "tg.full((2,), [1, 2])": (lambda: tg.full((2,), [1.0, 2.0]), ValueError,
                              r"^full: fill_value must be a single number"),
    "tg.eye(-1)": (lambda: tg.eye(-1), ValueError, r"^eye: negative size"),
    "tg.eye(2.5)": (lambda: tg.eye(2.5), TypeError, r"^eye: sizes must be integers"),
    'tg.zeros(2, dtype="U")': (lambda: tg.zeros(2, dtype=str), TypeError,
                               r"^zeros: only numeric dtypes"),
    'var(ddof="a")': (lambda: _X.var(ddof="a"), TypeError, r"^var: ddof must be a number"),
    'std(ddof="a")': (lambda: _X.std(ddof=None), TypeError, r"^std: ddof must be a number"),
    'backward("abc")': (lambda: (_X * 2).backward("abc"), TypeError,
                        r"^backward: grad must be numbers.*'abc'"),
    "cross_entropy str target": (lambda: F.cross_entropy(_X, ["a", "b", "c"]), TypeError,
                                 r"^cross_entropy: target must be numbers"),
    "nll_loss str target": (lambda: F.nll_loss(_X, "a"), TypeError,
                            r"^nll_loss: target must be numbers"),
    "bce str target": (lambda: F.binary_cross_entropy(_X.sigmoid(), "a"), TypeError,
                       r"^binary_cross_entropy: target must be numbers"),
    "bce logits str target": (lambda: F.binary_cross_entropy_with_logits(_X, "a"), TypeError,
                              r"^binary_cross_entropy_with_logits: target must be numbers"),
    "l1 str array target": (lambda: F.l1_loss(_X, np.array(["a"])), TypeError,
                            r"^l1_loss: target must be numbers.*<U1"),
    'tg.maximum(x, "a")': (lambda: tg.maximum(_X, "a"), TypeError, r"^maximum: .*\(3, 2\)"),
    "x @ None": (lambda: _X @ None, TypeError, r"^matmul: operand must be numbers.*None"),
    'tg.where(c, x, "a")': (lambda: tg.where(np.ones((3, 2), bool), _X, "a"), TypeError,
                            r"^where: "),
    'tg.stack([x, "a"])': (lambda: tg.stack([_X, "a"]), TypeError, r"^stack: element 1"),
    'y.add_("a")': (lambda: _Y.add_("a"), TypeError, r"^add_: .*\(3,\).*'a'"),
    'y[0] = "a"': (lambda: _Y.__setitem__(0, "a"), TypeError, r"^setitem: .*'a'"),
    'y.fill_(None)': (lambda: _Y.fill_(None), TypeError, r"^copy_: .*None"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_names_the_op_and_records_nothing(name):
    call, exc, pattern = BAD_INPUTS[name]
    before = _live_tensors()
    with pytest.raises(exc, match=pattern) as info:
        call()
    del info  # its traceback keeps the call's frames (and any tensors in them) alive
    assert _live_tensors() == before


def test_integer_sizes_still_accepted():
    n = np.int64(3)
    assert _X.reshape(n, -1).shape == (3, 2) and tg.zeros(n, 2).shape == (3, 2)
    assert _X.reshape(tg.tensor(2), 3).shape == (2, 3)  # a 0-d int tensor is an index
    assert tg.zeros(0).shape == (0,)
    assert _X.clip(np.zeros(2), 1.0).shape == (3, 2)  # array bounds are fine
