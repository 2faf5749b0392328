"""tg.detect_anomaly(): the first NaN/Inf in a forward or backward names its op and the line of
user code that created the op; outside the context nothing is checked."""
from __future__ import annotations

import inspect
import os

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.autograd import op as opmod

HERE = os.path.basename(__file__)


def line_after() -> int:
    """The line number just after the caller's line."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


@pytest.fixture(autouse=True)
def quiet_numpy():
    # log(-1), 1/0 and friends are the point of these tests: numpy need not warn about them.
    with np.errstate(all="ignore"):
        yield
    assert opmod.anomaly_hook is None, "a test left anomaly detection switched on"


def test_nan_in_forward_names_the_op_and_the_line():
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x * 2.0  # fine
        with pytest.raises(RuntimeError) as e:
            line = line_after()
            tg.log(y)
    msg = str(e.value)
    assert "forward of op 'log'" in msg
    assert f"{HERE}:{line} " in msg
    assert "NaN or Inf" in msg


def test_method_call_site_is_the_users_line_not_the_library():
    x = tg.tensor([-4.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(RuntimeError) as e:
        line = line_after()
        x.sqrt()
    assert "'sqrt'" in str(e.value) and f"{HERE}:{line} " in str(e.value)
    assert "tensor.py" not in str(e.value)


def test_inf_in_forward_is_caught_too():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match="forward of op 'div'"):
        1.0 / x


def test_nan_only_in_backward_names_the_op_where_it_was_created():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.detect_anomaly():
        line = line_after()
        y = tg.sqrt(x)  # forward is fine: sqrt(0) = 0
        assert np.all(np.isfinite(y.data))
        loss = (y * 3.0).sum()
        with pytest.raises(RuntimeError) as e:
            loss.backward()  # d sqrt(x)/dx = 1 / (2 sqrt(x)) is inf at 0
    msg = str(e.value)
    assert "backward of op 'sqrt'" in msg
    assert f"{HERE}:{line} " in msg


def test_backward_anomaly_in_a_custom_function_names_the_function():
    class Broken(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * np.nan

    x = tg.tensor([1.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match="backward of op 'Broken'"):
        Broken.apply(x).sum().backward()


def test_outside_the_context_nothing_is_raised():
    x = tg.tensor([-1.0, 0.0], requires_grad=True)
    y = tg.log(x)
    assert np.isnan(y.data[0])
    x2 = tg.tensor([0.0], requires_grad=True)
    tg.sqrt(x2).sum().backward()
    assert np.isinf(x2.grad[0])


def test_finite_values_and_non_float_results_pass():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.detect_anomaly():
        y = (tg.log(x) * x).sum()
        y.backward()
        mask = x > 1.5  # a bool result is never "NaN"
    assert mask.dtype == np.bool_
    np.testing.assert_allclose(x.grad, np.log([1.0, 2.0]) + 1.0, rtol=1e-6)


def test_nested_contexts_restore_the_outer_state():
    x = tg.tensor([-1.0], requires_grad=True)
    with tg.detect_anomaly():
        with tg.detect_anomaly():
            pass
        with pytest.raises(RuntimeError):  # the outer context is still checking
            tg.log(x)
        with tg.detect_anomaly(), tg.detect_anomaly(), pytest.raises(RuntimeError):
            tg.log(x)
        with pytest.raises(RuntimeError):  # and still after an inner one raised
            tg.log(x)
    assert opmod.anomaly_hook is None
    tg.log(x)


def test_an_exception_inside_the_context_still_switches_it_off():
    with pytest.raises(ValueError), tg.detect_anomaly():
        raise ValueError("boom")
    assert opmod.anomaly_hook is None


def test_one_context_object_can_be_reused():
    ctx = tg.detect_anomaly()
    x = tg.tensor([-1.0], requires_grad=True)
    for _ in range(2):
        with ctx, pytest.raises(RuntimeError):
            tg.log(x)
        assert opmod.anomaly_hook is None
