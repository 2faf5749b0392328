"""Grad mode is per thread, and set_grad_enabled also works as a plain call (as in PyTorch)."""
import threading

import tensorgrad as tg


def test_no_grad_in_one_thread_leaves_the_other_recording():
    x = tg.tensor([1.0], requires_grad=True)
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tg.no_grad():
            seen["worker_enabled"] = tg.is_grad_enabled()
            seen["worker_records"] = (x * 2).requires_grad
            inside.set()
            release.wait(5)

    th = threading.Thread(target=worker)
    th.start()
    inside.wait(5)
    # While the other thread sits inside no_grad, this one still records.
    assert tg.is_grad_enabled() and (x * 2).requires_grad
    release.set()
    th.join()
    assert seen == {"worker_enabled": False, "worker_records": False}
    assert tg.is_grad_enabled()


def test_overlapping_no_grad_blocks_in_two_threads_restore_both():
    # Enter A, enter B, leave A, leave B: with one global flag this left recording off.
    steps = [threading.Event() for _ in range(3)]

    def a():
        with tg.no_grad():
            steps[0].set()
            steps[1].wait(5)
        steps[2].set()

    def b():
        steps[0].wait(5)
        with tg.no_grad():
            steps[1].set()
            steps[2].wait(5)

    ts = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert tg.is_grad_enabled()
    assert (tg.tensor([1.0], requires_grad=True) * 2).requires_grad


def test_a_new_thread_starts_with_grad_enabled():
    out = []
    with tg.no_grad():
        th = threading.Thread(target=lambda: out.append(tg.is_grad_enabled()))
        th.start()
        th.join()
    assert out == [True]


def test_set_grad_enabled_as_a_call_takes_effect_at_once():
    x = tg.tensor([1.0], requires_grad=True)
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled() and not (x * 2).requires_grad
        tg.set_grad_enabled(True)
        assert tg.is_grad_enabled() and (x * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)


def test_set_grad_enabled_as_context_and_decorator():
    x = tg.tensor([1.0], requires_grad=True)
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with tg.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert tg.is_grad_enabled()  # decorating changes nothing by itself
    assert not f(x).requires_grad and tg.is_grad_enabled()
