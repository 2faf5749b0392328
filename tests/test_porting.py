"""Forward hooks, gradient clipping and the error messages a user coming from PyTorch meets."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F
from tensorgrad.autograd.op import Op, record


def test_forward_hook_sees_inputs_and_output_and_may_replace_it():
    m = nn.Linear(2, 3)
    seen = []
    h1 = m.register_forward_hook(lambda mod, inputs, out: seen.append((mod, inputs, out)))
    h2 = m.register_forward_hook(lambda mod, inputs, out: out * 0.0)
    x = tg.ones((4, 2))
    y = m(x)
    assert seen[0][0] is m and seen[0][1] == (x,) and seen[0][2].shape == (4, 3)
    assert np.all(y.numpy() == 0)
    h2.remove()
    h2.remove()  # a second remove does nothing
    assert np.any(m(x).numpy() != 0) and len(seen) == 2
    h1.remove()
    assert "_hooks" not in m.__dict__  # no hooks left: __call__ is forward again


def test_forward_pre_hook_may_replace_the_inputs_and_handles_are_context_managers():
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with m[0].register_forward_pre_hook(lambda mod, inputs: (inputs[0] * 0.0,)):
        out = m(tg.ones((1, 2)))
        np.testing.assert_allclose(out.numpy(), np.maximum(m[0].bias.numpy(), 0)[None])
    assert m[0]._hooks is None
    with pytest.raises(TypeError, match="callable"):
        m.register_forward_hook(3)


def test_hooks_collect_activations_and_gradients_still_flow():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    acts = {}
    for name, mod in model.named_children():
        mod.register_forward_hook(lambda mod, i, o, name=name: acts.__setitem__(name, o.shape))
    model(tg.randn(5, 3)).sum().backward()
    assert acts == {"0": (5, 4), "1": (5, 4), "2": (5, 1)}
    assert model[0].weight.grad is not None


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm_before():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    total = nn.utils.clip_grad_norm_([a, b, nn.Parameter(np.zeros(3))], 2.5)
    assert total.item() == 5.0
    np.testing.assert_allclose(np.concatenate([a.grad, b.grad]), [1.5, 0.0, 2.0], rtol=1e-6)
    before = a.grad.copy()
    assert nn.utils.clip_grad_norm_(a, 100.0).item() == pytest.approx(1.5)
    np.testing.assert_array_equal(a.grad, before)  # under max_norm: unchanged
    b.grad = np.array([np.inf])
    with pytest.raises(RuntimeError, match="inf"):
        nn.utils.clip_grad_norm_([b], 1.0, error_if_nonfinite=True)
    with pytest.raises(TypeError, match="parameters"):
        nn.utils.clip_grad_norm_([np.zeros(2)], 1.0)


def test_matmul_error_names_the_shapes_and_the_rule():
    with pytest.raises(ValueError) as e:
        tg.ones((4, 3)) @ tg.ones((5, 2))
    assert str(e.value) == ("matmul: shapes (4, 3) and (5, 2) cannot be multiplied (3 != 5): the "
                            "last dim of the first must equal the second-to-last dim of the "
                            "second")
    with pytest.raises(ValueError, match=r"batch dims \(2,\) and \(3,\) do not broadcast"):
        tg.ones((2, 4, 3)) @ tg.ones((3, 3, 2))
    with pytest.raises(ValueError, match="scalar"):
        tg.matmul(tg.tensor(1.0), tg.ones(2))


@pytest.mark.parametrize("labels", [np.array([0.0, 2.0, 1.0, 1.0]), np.array([1, 0, 1, 1],
                                                                              dtype=bool)])
def test_cross_entropy_with_float_or_bool_labels_says_to_cast_to_int64(labels):
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(tg.zeros((4, 3)), labels)
    with pytest.raises(TypeError, match="int64"):
        F.nll_loss(tg.zeros((4, 3)), labels)


def test_cross_entropy_options_are_checked():
    z = tg.zeros((2, 3))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\).*\(3,\)"):
        F.cross_entropy(z, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(z, np.array([0, 1]), label_smoothing=1.5)
    # an ignored sample may hold any class number; the others are still range-checked
    assert F.cross_entropy(z, np.array([-100, 1])).item() == pytest.approx(np.log(3))
    with pytest.raises(IndexError, match="out of range"):
        F.cross_entropy(z, np.array([-100, 3]))


def test_gradcheck_error_prints_plain_numbers():
    bad = Op("bad_square", lambda g, ans, x: g * x)
    x = tg.tensor(np.array([0.5, -1.5]), requires_grad=True)
    with pytest.raises(tg.GradcheckError) as e:
        tg.gradcheck(lambda t: record(bad, t.data ** 2, (t,)), [x])
    assert "np.float64" not in str(e.value) and "analytic -1.5" in str(e.value)
