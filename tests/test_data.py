"""Tests for tensorgrad.data: DataLoader, digits, splitting, standardising, IDX, the toy."""

from __future__ import annotations

import gzip
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgrad as tg
from tensorgrad.data import (
    DataLoader,
    Dataset,
    TensorDataset,
    load_digits,
    load_mnist,
    make_regression_toy,
    read_idx,
    standardize,
    train_test_split,
)

# ----------------------------------------------------------------------------- DataLoader


def _ids(loader: DataLoader) -> list[np.ndarray]:
    """The batches of a single-array loader as numpy arrays."""
    return [b.data.copy() for b in loader]


def test_batches_in_order_with_partial_last_batch() -> None:
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.int64)
    loader = DataLoader(X, y, batch_size=3)
    batches = list(loader)
    assert len(loader) == len(batches) == 4
    assert [xb.shape for xb, _ in batches] == [(3, 2), (3, 2), (3, 2), (1, 2)]
    np.testing.assert_array_equal(np.concatenate([xb.data for xb, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([yb.data for _, yb in batches]), y)


def test_drop_last_drops_only_the_partial_batch() -> None:
    y = np.arange(10)
    assert [len(b) for b in _ids(DataLoader(y, batch_size=3, drop_last=True))] == [3, 3, 3]
    assert len(DataLoader(y, batch_size=3, drop_last=True)) == 3
    # Nothing to drop when the batch size divides N.
    assert len(DataLoader(y, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(y, batch_size=5)) == 2
    # A batch larger than the data set: one short batch, or none with drop_last.
    assert [len(b) for b in _ids(DataLoader(y, batch_size=32))] == [10]
    assert _ids(DataLoader(y, batch_size=32, drop_last=True)) == []
    assert len(DataLoader(y, batch_size=32, drop_last=True)) == 0


def test_single_array_yields_tensors_and_several_yield_tuples() -> None:
    X = np.zeros((4, 3), dtype=np.float32)
    single = next(iter(DataLoader(X, batch_size=2)))
    assert isinstance(single, tg.Tensor)
    pair = next(iter(DataLoader(X, np.arange(4), batch_size=2)))
    assert isinstance(pair, tuple) and len(pair) == 2
    assert all(isinstance(t, tg.Tensor) for t in pair)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8])
def test_batches_keep_the_dtype_and_do_not_require_grad(dtype: type) -> None:
    a = np.arange(12).reshape(6, 2).astype(dtype)
    for shuffle in (False, True):
        for b in DataLoader(a, batch_size=4, shuffle=shuffle, seed=0):
            assert b.data.dtype == np.dtype(dtype)
            assert b.requires_grad is False


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_do_not_alias_the_source(shuffle: bool) -> None:
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    for xb in DataLoader(X, batch_size=4, shuffle=shuffle, seed=0):
        xb.data[...] = -1
    np.testing.assert_array_equal(X, np.arange(12, dtype=np.float32).reshape(6, 2))


def test_accepts_tensors() -> None:
    X = tg.tensor(np.arange(8, dtype=np.float64).reshape(4, 2), requires_grad=True)
    y = tg.tensor(np.array([0, 1, 0, 1]))
    xb, yb = next(iter(DataLoader(X, y, batch_size=4)))
    np.testing.assert_array_equal(xb.data, X.data)
    assert xb.data.dtype == np.float64 and yb.data.dtype.kind == "i"
    assert xb.requires_grad is False


def test_shuffle_is_reproducible_and_changes_every_epoch() -> None:
    y = np.arange(50)
    a = DataLoader(y, batch_size=7, shuffle=True, seed=123)
    b = DataLoader(y, batch_size=7, shuffle=True, seed=123)
    epochs_a = [np.concatenate(_ids(a)) for _ in range(3)]
    epochs_b = [np.concatenate(_ids(b)) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    assert not np.array_equal(epochs_a[1], epochs_a[2])
    assert not np.array_equal(epochs_a[0], y)
    other = np.concatenate(_ids(DataLoader(y, batch_size=7, shuffle=True, seed=124)))
    assert not np.array_equal(other, epochs_a[0])


def test_shuffle_keeps_arrays_aligned() -> None:
    ids = np.arange(40)
    X = np.stack([ids * 10.0, -ids], axis=1)
    for xb, yb in DataLoader(X, ids, batch_size=6, shuffle=True, seed=1):
        np.testing.assert_array_equal(xb.data[:, 0], yb.data * 10.0)
        np.testing.assert_array_equal(xb.data[:, 1], -yb.data)


def test_unseeded_shuffle_sees_every_sample() -> None:
    y = np.arange(30)
    seen = np.concatenate(_ids(DataLoader(y, batch_size=4, shuffle=True)))
    np.testing.assert_array_equal(np.sort(seen), y)


def test_unseeded_shuffle_follows_manual_seed() -> None:
    y = np.arange(30)
    loader = DataLoader(y, batch_size=8, shuffle=True)
    tg.manual_seed(7)
    first = np.concatenate(_ids(loader))
    second = np.concatenate(_ids(loader))
    tg.manual_seed(7)
    np.testing.assert_array_equal(np.concatenate(_ids(loader)), first)
    assert not np.array_equal(first, second)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 12),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_sample_seen_exactly_once_per_epoch(
    n: int, batch_size: int, shuffle: bool, drop_last: bool, seed: int
) -> None:
    y = np.arange(n)
    loader = DataLoader(y, batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    for _ in range(2):
        batches = _ids(loader)
        assert len(batches) == len(loader)
        assert all(len(b) == batch_size for b in batches[:-1])
        if batches:
            assert 1 <= len(batches[-1]) <= batch_size
            if drop_last:
                assert len(batches[-1]) == batch_size
        seen = np.concatenate(batches) if batches else np.array([], dtype=y.dtype)
        assert len(np.unique(seen)) == len(seen)
        expected = n - n % batch_size if drop_last else n
        assert len(seen) == expected
        if not shuffle:
            np.testing.assert_array_equal(seen, y[:expected])


def test_mismatched_lengths_raise_with_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(10, 2\).*\(9,\)"):
        DataLoader(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError):
        DataLoader(np.float32(1.0))
    with pytest.raises(ValueError):
        DataLoader()


@pytest.mark.parametrize("bad", [0, -3])
def test_batch_size_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros(4), batch_size=bad)


def test_batch_size_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(np.zeros(4), batch_size=2.5)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- digits


def test_load_digits_shapes_dtypes_and_labels() -> None:
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    counts = np.bincount(y)
    assert counts.sum() == 1797 and counts.min() >= 170 and counts.max() <= 190
    assert load_digits(dtype=np.float64)[0].dtype == np.float64


def test_digit_rows_look_like_digit_images() -> None:
    X, y = load_digits(dtype=np.float64)
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))
    assert (X.max(axis=1) >= 8).all()  # every image has ink
    images = X.reshape(-1, 8, 8)
    # Digits are centred: the middle of the frame carries far more ink than the left and
    # right borders.
    assert images[:, 2:6, 2:6].mean() > 3 * images[:, :, [0, 7]].mean()
    # Images and labels belong together: a nearest-class-mean classifier fitted on one
    # half labels the other half well (chance is 10%).
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, seed=0, stratify=y)
    means = np.stack([Xtr[ytr == c].mean(axis=0) for c in range(10)])
    pred = ((Xte[:, None, :] - means[None]) ** 2).sum(-1).argmin(axis=1)
    assert (pred == yte).mean() > 0.85


def test_load_digits_returns_copies_of_the_cache() -> None:
    X, y = load_digits()
    X[:] = -1
    y[:] = 42
    X2, y2 = load_digits()
    assert X2.min() == 0 and y2.max() == 9


def test_digits_file_and_attribution_are_package_resources() -> None:
    root = resources.files("tensorgrad.data")
    assert root.joinpath("digits.csv.gz").is_file()
    readme = root.joinpath("DIGITS_README.md").read_text(encoding="utf-8")
    assert "Alpaydin" in readme and "CC BY 4.0" in readme


# ----------------------------------------------------------------------------- split


def test_split_sizes_alignment_and_disjointness() -> None:
    ids = np.arange(100)
    X = np.stack([ids, ids * 2], axis=1)
    Xtr, Xte, ytr, yte = train_test_split(X, ids, test_size=0.2, seed=0)
    assert Xtr.shape == (80, 2) and Xte.shape == (20, 2)
    assert ytr.shape == (80,) and yte.shape == (20,)
    np.testing.assert_array_equal(Xtr[:, 0], ytr)
    np.testing.assert_array_equal(Xte[:, 1], 2 * yte)
    assert not set(ytr) & set(yte)
    np.testing.assert_array_equal(np.sort(np.concatenate([ytr, yte])), ids)
    assert not np.array_equal(ytr, np.sort(ytr))  # shuffled
    assert len(train_test_split(ids, test_size=30)[1]) == 30
    assert len(train_test_split(ids, test_size=0.25)[1]) == 25


def test_split_is_reproducible_per_seed() -> None:
    ids = np.arange(60)
    a = train_test_split(ids, seed=5)
    b = train_test_split(ids, seed=5)
    c = train_test_split(ids, seed=6)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_stratified_split_keeps_class_proportions() -> None:
    y = np.repeat([0, 1, 2], [70, 20, 10])
    ids = np.arange(100)
    for seed in range(5):
        itr, ite, ytr, yte = train_test_split(ids, y, test_size=0.2, seed=seed, stratify=y)
        np.testing.assert_array_equal(np.bincount(yte), [14, 4, 2])
        np.testing.assert_array_equal(np.bincount(ytr), [56, 16, 8])
        np.testing.assert_array_equal(y[ite], yte)
        assert not set(itr) & set(ite)
        # Both parts come out shuffled, not grouped by class.
        assert not np.array_equal(ytr, np.sort(ytr))
        assert not np.array_equal(yte, np.sort(yte))
    # Which members of a class go to the test set depends on the seed.
    picks = [set(train_test_split(ids, seed=s, stratify=y)[1]) for s in range(3)]
    assert picks[0] != picks[1] != picks[2]
    # Without stratification the small class drifts for some seed.
    drift = [
        np.bincount(train_test_split(y, test_size=0.2, seed=s)[1], minlength=3)[2]
        for s in range(20)
    ]
    assert any(d != 2 for d in drift)


def test_stratified_split_on_digits() -> None:
    X, y = load_digits()
    _, _, ytr, yte = train_test_split(X, y, test_size=0.3, seed=0, stratify=y)
    assert len(yte) == int(np.ceil(0.3 * len(y)))
    expected = np.bincount(y) * len(yte) / len(y)
    assert np.abs(np.bincount(yte) - expected).max() < 1


@pytest.mark.parametrize("bad", [0, 0.0, 1.0, 1.5, 100, -1, "0.2"])
def test_split_rejects_bad_test_sizes(bad: object) -> None:
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.arange(100), test_size=bad)  # type: ignore[arg-type]


def test_split_rejects_misaligned_inputs() -> None:
    with pytest.raises(ValueError):
        train_test_split(np.zeros(10), np.zeros(11))
    with pytest.raises(ValueError, match="stratify"):
        train_test_split(np.zeros(10), stratify=np.zeros(9))


# ----------------------------------------------------------------------------- standardize


def test_standardize_uses_train_statistics_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal([5.0, -3.0], [2.0, 0.5], size=(500, 2)).astype(np.float32)
    test = rng.normal(100.0, 1.0, size=(50, 2)).astype(np.float32)
    tr, te, mean, std = standardize(train, test)
    assert tr.dtype == te.dtype == mean.dtype == std.dtype == np.float32
    assert mean.shape == std.shape == (2,)
    np.testing.assert_allclose(mean, train.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(std, train.astype(np.float64).std(0), rtol=1e-6)
    np.testing.assert_allclose(tr.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(tr.std(0), 1, atol=1e-5)
    np.testing.assert_allclose(te, (test - mean) / (std + 1e-8), rtol=1e-5)
    # The test set is far from the train set and must stay so.
    assert te.mean() > 20


def test_standardize_constant_features_and_integer_input() -> None:
    train = np.array([[1, 7], [3, 7], [5, 7]])
    (tr, mean, std) = standardize(train)
    assert tr.dtype == np.float64 and np.isfinite(tr).all()
    np.testing.assert_array_equal(tr[:, 1], 0)
    np.testing.assert_allclose(tr[:, 0], [-np.sqrt(1.5), 0, np.sqrt(1.5)])
    with pytest.raises(ValueError, match="shape"):
        standardize(np.zeros((3, 2)), np.zeros((3, 3)))


# ----------------------------------------------------------------------------- datasets


def test_tensor_dataset_items_length_and_checks() -> None:
    X = np.arange(12.0).reshape(6, 2)
    y = tg.tensor(np.arange(6))
    ds = TensorDataset(X, y)
    assert len(ds) == 6 and isinstance(ds[2], tuple) and len(ds[2]) == 2
    np.testing.assert_array_equal(ds[2][0], [4.0, 5.0])
    assert ds[2][1] == 2
    np.testing.assert_array_equal(ds[1:3][1], [1, 2])  # slices index every array
    assert len(TensorDataset(X)[0]) == 1
    with pytest.raises(ValueError, match=r"first dimension.*\(6, 2\).*\(5,\)"):
        TensorDataset(X, np.arange(5))
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


@pytest.mark.parametrize("shuffle", [False, True])
def test_tensor_dataset_loader_matches_the_array_loader(shuffle: bool) -> None:
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    fast = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=shuffle, seed=1)
    plain = DataLoader(X, y, batch_size=3, shuffle=shuffle, seed=1)
    assert len(fast) == len(plain) == 4
    for (xa, ya), (xb, yb) in zip(fast, plain):
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ya.data, yb.data)
        assert xa.dtype == np.float32 and ya.dtype == y.dtype
    # one array: PyTorch yields 1-tuples from a TensorDataset; the bare array loader, Tensors
    (only,) = next(iter(DataLoader(TensorDataset(X), batch_size=4)))
    assert isinstance(only, tg.Tensor) and only.shape == (4, 2)


class _Squares(Dataset):
    """Samples built on the fly, with a structure of every supported kind."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls: list[int] = []

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.calls.append(i)
        return {"x": np.full((2, 3), i, dtype=np.float32), "pair": (i, float(i) ** 2),
                "name": f"s{i}", "t": tg.tensor([i, -i])}


@pytest.mark.parametrize("shuffle", [False, True])
def test_any_dataset_is_batched_by_stacking(shuffle: bool) -> None:
    ds = _Squares(7)
    loader = DataLoader(ds, batch_size=3, shuffle=shuffle, seed=0, drop_last=False)
    assert len(loader) == 3 and "dataset=_Squares" in repr(loader)
    seen = []
    for batch in loader:
        assert set(batch) == {"x", "pair", "name", "t"}
        x, (i, sq), names, t = batch["x"], batch["pair"], batch["name"], batch["t"]
        assert isinstance(x, tg.Tensor) and x.dtype == np.float32 and x.shape[1:] == (2, 3)
        assert not x.requires_grad
        assert i.dtype.kind == "i" and sq.dtype == np.float64
        np.testing.assert_array_equal(x.data[:, 0, 0], i.data)
        np.testing.assert_array_equal(sq.data, i.data.astype(float) ** 2)
        assert names == [f"s{k}" for k in i.data]
        np.testing.assert_array_equal(t.data[:, 1], -i.data)
        seen += i.data.tolist()
    assert sorted(seen) == list(range(7))
    assert (seen != sorted(seen)) == shuffle
    assert sorted(ds.calls) == list(range(7))  # each sample read once per epoch


def test_plain_classes_work_without_subclassing_dataset() -> None:
    class Pairs:
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int):
            return np.array([i, i]), i % 2

    batches = list(DataLoader(Pairs(), batch_size=2, drop_last=True))
    assert len(batches) == 2 and isinstance(batches[0], tuple)
    np.testing.assert_array_equal(batches[1][0].data, [[2, 2], [3, 3]])
    np.testing.assert_array_equal(batches[1][1].data, [0, 1])
    # lists stay arrays (as before), not datasets
    assert isinstance(next(iter(DataLoader([1.0, 2.0], batch_size=2))), tg.Tensor)


def test_pytorch_positional_options_say_to_use_keywords() -> None:
    ds = TensorDataset(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="batch_size=32"):
        DataLoader(ds, 32)
    with pytest.raises(TypeError, match="by keyword"):
        DataLoader(np.zeros((4, 2)), np.zeros(4), 2, True)
    with pytest.raises(TypeError, match="not both"):
        DataLoader(ds, np.zeros(4))


def test_unbatchable_samples_name_the_indices() -> None:
    class Ragged(Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int):
            return np.zeros(i + 1)

    with pytest.raises(ValueError, match=r"dataset\[1\] has shape \(2,\).*dataset\[0\]"):
        list(DataLoader(Ragged(), batch_size=3))

    class Mixed(Dataset):
        def __len__(self) -> int:
            return 2

        def __getitem__(self, i: int):
            return (1, 2) if i == 0 else (1,)

    with pytest.raises(ValueError, match="same structure"):
        list(DataLoader(Mixed(), batch_size=2))

    class Objects(Dataset):
        def __len__(self) -> int:
            return 2

        def __getitem__(self, i: int):
            return None

    with pytest.raises(TypeError, match="not numbers"):
        list(DataLoader(Objects(), batch_size=2))


# ----------------------------------------------------------------------------- IDX / MNIST

_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode ``arr`` as an IDX file, written independently of the reader under test."""
    header = bytes([0, 0, _CODES[arr.dtype], arr.ndim])
    for d in arr.shape:
        header += int(d).to_bytes(4, "big")
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, arr: np.ndarray, gz: bool = False) -> Path:
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _mnist_like(n: int, rows: int = 28, cols: int = 28, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8),
        rng.integers(0, 10, size=n).astype(np.uint8),
    )


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from(sorted(_CODES, key=str)),
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple),
    gz=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_read_idx_round_trips_every_dtype(dtype: np.dtype, shape: tuple, gz: bool, seed: int):
    rng = np.random.default_rng(seed)
    arr = (rng.standard_normal(shape) * 100).astype(dtype)
    data = idx_bytes(arr)
    out = read_idx(io.BytesIO(gzip.compress(data) if gz else data))
    assert out.shape == arr.shape and out.dtype == arr.dtype
    assert out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, arr)


def test_read_idx_reads_big_endian_values(tmp_path: Path) -> None:
    # 0x0B = int16, one dimension of 2: the values 0x0102 = 258 and -2.
    raw = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])
    (tmp_path / "x.idx").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.idx"), [258, -2])
    np.testing.assert_array_equal(read_idx(str(tmp_path / "x.idx")), [258, -2])


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_train_and_test(tmp_path: Path, gz: bool) -> None:
    suffix = ".gz" if gz else ""
    Xtr, ytr = _mnist_like(5, seed=1)
    Xte, yte = _mnist_like(3, seed=2)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", Xtr, gz)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", ytr, gz)
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", Xte, gz)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", yte, gz)
    X, y = load_mnist(tmp_path)
    assert X.shape == (5, 28, 28) and X.dtype == np.uint8
    assert y.shape == (5,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, Xtr)
    np.testing.assert_array_equal(y, ytr)
    X, y = load_mnist(str(tmp_path), kind="test")
    np.testing.assert_array_equal(X, Xte)
    np.testing.assert_array_equal(y, yte)


def test_load_mnist_generic_image_size_and_mixed_compression(tmp_path: Path) -> None:
    X0, y0 = _mnist_like(4, rows=5, cols=3)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", X0, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y0)
    X, y = load_mnist(tmp_path)
    assert X.shape == (4, 5, 3)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_missing_files_name_what_was_expected(tmp_path: Path) -> None:
    X0, _ = _mnist_like(2)
    write_idx(tmp_path / "train-images-idx3-ubyte", X0)
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, kind="test")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent-idx1-ubyte")
    with pytest.raises(ValueError, match="kind"):
        load_mnist(tmp_path, kind="validation")


@pytest.mark.parametrize(
    "magic",
    [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00", b"PK\x03\x04", b"\x00"],
)
def test_bad_magic_is_a_value_error_naming_the_file(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(magic + b"\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*magic"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_is_a_value_error_naming_the_file(tmp_path: Path, gz: bool) -> None:
    X0, y0 = _mnist_like(3)
    full = idx_bytes(X0)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(full[:-10])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*truncated"):
        read_idx(path)
    path.write_bytes(full[:9])  # cut inside the header
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)
    # A gzip stream cut short is reported the same way through load_mnist.
    path.unlink()
    gz_path = tmp_path / "train-images-idx3-ubyte.gz"
    data = gzip.compress(full) if gz else full
    gz_path.write_bytes(data[: len(data) // 2])
    write_idx(tmp_path / "train-labels-idx1-ubyte", y0)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("ndim", [65, 255])
def test_too_many_dimensions_is_a_value_error_naming_the_file(tmp_path: Path, ndim: int) -> None:
    path = tmp_path / "evil-idx-ubyte"
    # every dimension 1, so the payload size agrees with the header: only the count is wrong
    path.write_bytes(bytes([0, 0, 0x08, ndim]) + (1).to_bytes(4, "big") * ndim + b"\x07")
    with pytest.raises(ValueError, match=f"evil-idx-ubyte.*{ndim} dimensions"):
        read_idx(path)
    # dims whose product overflows what the file holds: named as a size mismatch
    path.write_bytes(bytes([0, 0, 0x08, 3]) + (2**32 - 1).to_bytes(4, "big") * 3 + b"\x07")
    with pytest.raises(ValueError, match="evil-idx-ubyte.*truncated"):
        read_idx(path)


def test_image_label_count_mismatch(tmp_path: Path) -> None:
    X0, _ = _mnist_like(4)
    _, y0 = _mnist_like(5)
    write_idx(tmp_path / "train-images-idx3-ubyte", X0)
    write_idx(tmp_path / "train-labels-idx1-ubyte", y0)
    with pytest.raises(ValueError, match=r"4 images.*5 labels"):
        load_mnist(tmp_path)


def test_swapped_image_and_label_files_are_rejected(tmp_path: Path) -> None:
    X0, y0 = _mnist_like(4)
    write_idx(tmp_path / "train-images-idx3-ubyte", y0)
    write_idx(tmp_path / "train-labels-idx1-ubyte", X0)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


# ----------------------------------------------------------------------------- regression toy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regression_toy_targets(dtype: type) -> None:
    X, Y = make_regression_toy(n=500, seed=0, dtype=dtype)
    assert X.shape == (500, 2) and Y.shape == (500, 3)
    assert X.dtype == Y.dtype == np.dtype(dtype)
    assert X.min() >= 0 and X.max() < 100
    a, b = X[:, 0], X[:, 1]
    np.testing.assert_array_equal(Y[:, 0], a + b)
    np.testing.assert_array_equal(Y[:, 1], a - b)
    np.testing.assert_array_equal(Y[:, 2], np.abs(a - b))
    # Uniform on [0, 100): both inputs spread over the interval.
    assert 40 < a.mean() < 60 and 40 < b.mean() < 60
    assert a.min() < 5 and a.max() > 95


def test_regression_toy_is_seeded() -> None:
    X3, _ = make_regression_toy(50, seed=3)
    np.testing.assert_array_equal(X3, make_regression_toy(50, seed=3)[0])
    assert not np.array_equal(X3, make_regression_toy(50, seed=4)[0])
    assert make_regression_toy()[0].shape == (1000, 2)
    with pytest.raises(TypeError):
        make_regression_toy(10, dtype=np.int64)
