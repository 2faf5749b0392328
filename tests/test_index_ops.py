"""gather, masked_fill, embedding and one_hot: PyTorch's semantics (values, first and second
derivatives against PyTorch in float64), repeated indices accumulating, and bad input raising
before anything is recorded."""
import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn.functional as F

RNG = np.random.default_rng(0)


def test_gather_picks_along_the_axis_and_accumulates_repeats():
    x = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    idx = np.array([[0, 0, 2], [1, 1, 1]])
    y = tg.gather(x, 0, idx)
    np.testing.assert_array_equal(y.data, [[0, 1, 10], [4, 5, 6]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 0]])
    np.testing.assert_array_equal(x.gather(dim=1, index=np.array([[3], [0], [1]])).data,
                                  [[3], [4], [9]])


def test_masked_fill_and_one_hot():
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    y = x.masked_fill(np.array([[True], [False]]), 5.0)
    np.testing.assert_array_equal(y.data, [[5, 5, 5], [1, 1, 1]])
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [2, 2, 2]])
    v = tg.tensor(np.array(3.0), requires_grad=True)
    x.masked_fill(np.array([True, False, True]), v).sum().backward()
    assert v.grad == 4.0
    oh = F.one_hot(np.array([[1, 0], [2, 2]]), 4)
    assert oh.dtype == np.int64 and oh.shape == (2, 2, 4) and not oh.requires_grad
    np.testing.assert_array_equal(oh.data.argmax(-1), [[1, 0], [2, 2]])
    assert F.one_hot(tg.tensor(np.array([4, 1]))).shape == (2, 5)


def test_embedding_accumulates_repeated_rows():
    w = tg.tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    out = F.embedding(np.array([[1, 1], [4, 1]]), w)
    assert out.shape == (2, 2, 3)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad[:, 0], [0, 3, 0, 0, 1])


@pytest.mark.parametrize("call, exc, words", [
    (lambda x: tg.gather(x, 1, np.array([[0.0]])), TypeError, "integers"),
    (lambda x: tg.gather(x, 1, np.array([0])), ValueError, "dimensions"),
    (lambda x: tg.gather(x, 1, np.array([[0], [1], [2], [0]])), ValueError, "larger"),
    (lambda x: tg.gather(x, 1, np.array([[4]])), IndexError, r"\[0, 4\)"),
    (lambda x: tg.gather(x, 2, np.array([[0]])), ValueError, "out of range"),
    (lambda x: x.masked_fill(np.array([1, 0, 1, 0]), 0.0), TypeError, "boolean"),
    (lambda x: x.masked_fill(np.ones((2, 3, 4), bool), 0.0), ValueError, r"\(2, 3, 4\)"),
    (lambda x: F.embedding(np.array([0.0]), x), TypeError, "integers"),
    (lambda x: F.embedding(np.array([3]), x), IndexError, r"\[0, 3\)"),
    (lambda x: F.embedding(np.array([-1]), x), IndexError, r"\[0, 3\)"),
    (lambda x: F.embedding(np.array([0]), x[0]), ValueError, "2-D"),
    (lambda x: F.one_hot(np.array([0.5])), TypeError, "integers"),
    (lambda x: F.one_hot(np.array([3]), 3), IndexError, r"\[0, 3\)"),
    (lambda x: F.one_hot(np.array([], np.int64)), ValueError, "infer"),
])
def test_bad_input_raises_before_recording(call, exc, words):
    x = tg.tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(exc, match=words):
        call(x)
    assert x.grad is None


def test_against_torch():
    torch = pytest.importorskip("torch")
    from torch_check import compare

    tf = torch.nn.functional
    x = RNG.standard_normal((3, 4, 2))
    idx = RNG.integers(0, 4, (2, 5, 2))
    compare(lambda a: tg.gather(a, 1, idx) ** 2, lambda a: torch.gather(a, 1, torch.tensor(idx))
            ** 2, [x])
    mask = RNG.random((4, 1)) > 0.5
    compare(lambda a: a.masked_fill(mask, -2.5) ** 3,
            lambda a: a.masked_fill(torch.tensor(mask), -2.5) ** 3, [x])
    w = RNG.standard_normal((6, 3))
    ids = np.array([[0, 5, 5, 2], [2, 2, 1, 0]])
    compare(lambda a: F.embedding(ids, a) ** 2, lambda a: tf.embedding(torch.tensor(ids), a) ** 2,
            [w])
    compare(lambda a: F.embedding(ids, a, padding_idx=2).tanh(),
            lambda a: tf.embedding(torch.tensor(ids), a, padding_idx=2).tanh(), [w])
    labels = np.array([[0, 3], [2, 2]])
    for n in (-1, 6):
        np.testing.assert_array_equal(F.one_hot(labels, n).data,
                                      tf.one_hot(torch.tensor(labels), n).numpy())
