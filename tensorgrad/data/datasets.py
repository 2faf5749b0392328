"""Data sets and small preprocessing helpers.

* :func:`load_digits`: the embedded UCI handwritten digits (8x8 images, 10 classes).
* :func:`load_mnist` / :func:`read_idx`: MNIST or Fashion-MNIST from IDX files on disk.
* :func:`make_regression_toy`: the two-input, three-output regression toy.
* :func:`train_test_split` and :func:`standardize`.

Everything here returns plain numpy arrays; wrap them in a :class:`DataLoader` (or
``tg.tensor``) to train on them.
"""

from __future__ import annotations

import gzip
import io
import math
import os
from importlib import resources
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import DTypeLike

from .loader import as_array

_PACKAGE = __name__.rpartition(".")[0]
_DIGITS_FILE = "digits.csv.gz"
_digits_cache: tuple[np.ndarray, np.ndarray] | None = None


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    global _digits_cache
    if _digits_cache is None:
        # importlib.resources rather than a path next to __file__: it also works when the
        # package is installed as a zip or wheel.
        raw = resources.files(_PACKAGE).joinpath(_DIGITS_FILE).read_bytes()
        text = gzip.decompress(raw).decode("ascii")
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
        if table.shape[1] != 65:
            raise ValueError(f"{_DIGITS_FILE}: expected 65 columns, got shape {table.shape}")
        _digits_cache = (table[:, :64], table[:, 64].copy())
    return _digits_cache


def load_digits(dtype: DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Load the embedded handwritten digits data set.

    The UCI "Optical Recognition of Handwritten Digits" test set (Alpaydin and Kaynak,
    1998, CC BY 4.0; see ``DIGITS_README.md`` in this package): 1797 grey-level 8x8
    images, about 180 per digit.

    Args:
        dtype: dtype of ``X``.

    Returns:
        ``(X, y)``: ``X`` of shape ``(1797, 64)`` and dtype ``dtype``, each row an image
        flattened row-major with integer values in 0..16; ``y`` of shape ``(1797,)``,
        int64 labels 0..9. The file is parsed once; every call returns fresh copies.

    Examples:
        >>> from tensorgrad.data import load_digits
        >>> X, y = load_digits()
        >>> X.shape, X.dtype, float(X.min()), float(X.max())
        ((1797, 64), dtype('float32'), 0.0, 16.0)
        >>> y.shape, y.dtype, sorted(set(y.tolist()))
        ((1797,), dtype('int64'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    X, y = _digits_arrays()
    return X.astype(dtype), y.copy()


def make_regression_toy(
    n: int = 1000, seed: int | None = 0, dtype: DTypeLike = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The regression toy of the original "neural net from scratch" write-up.

    Inputs ``a, b`` are drawn uniformly from ``[0, 100)``; the targets are their sum,
    difference and absolute difference.

    Returns:
        ``(X, Y)``: ``X = [a, b]`` of shape ``(n, 2)`` and ``Y = [a + b, a - b, |a - b|]``
        of shape ``(n, 3)``, both of the floating dtype ``dtype``. The targets are
        computed from the already-cast inputs, so they hold exactly in that dtype.

    Examples:
        >>> import numpy as np
        >>> from tensorgrad.data import make_regression_toy
        >>> X, Y = make_regression_toy(100, seed=0)
        >>> X.shape, Y.shape, Y.dtype
        ((100, 2), (100, 3), dtype('float32'))
        >>> bool((Y[:, 0] == X[:, 0] + X[:, 1]).all() and (Y[:, 2] == abs(Y[:, 1])).all())
        True
    """
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"make_regression_toy: dtype must be floating, got {dt}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"make_regression_toy: n must be a non-negative int, got {n!r}")
    X = np.random.default_rng(seed).uniform(0.0, 100.0, size=(n, 2)).astype(dt)
    # Rounding to a narrower dtype can turn 99.99999... into 100; keep the interval open.
    np.minimum(X, np.nextafter(dt.type(100), dt.type(0)), out=X)
    a, b = X[:, 0], X[:, 1]
    Y = np.stack([a + b, a - b, np.abs(a - b)], axis=1)
    return X, Y


def train_test_split(
    *arrays: Any,
    test_size: float | int = 0.2,
    seed: int | None = 0,
    stratify: Any = None,
) -> list[np.ndarray]:
    """Split aligned arrays into random train and test parts.

    Args:
        *arrays: numpy arrays or Tensors (their ``.data`` is used) sharing the first
            dimension ``N``.
        test_size: a float in ``(0, 1)`` is the fraction of samples in the test set
            (rounded up); an int is the number of test samples. Both parts must be
            non-empty.
        seed: seed of the ``np.random.default_rng`` that draws the split.
        stratify: optional class labels of shape ``(N,)`` (or ``(N, k)``, one class per
            distinct row). Each class is then split in the same proportion as the whole,
            up to rounding, so both parts keep the class balance.

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]``: two numpy arrays (copies) per input,
        in sklearn's order. Each part is in random order.

    Examples:
        >>> import numpy as np
        >>> from tensorgrad.data import train_test_split
        >>> X, y = np.zeros((100, 3)), np.repeat([0, 1], [80, 20])
        >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y)
        >>> X_tr.shape, X_te.shape, np.bincount(y_te)         # 25 test samples, 80:20 kept
        ((75, 3), (25, 3), array([20,  5]))
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrs = [as_array(a) for a in arrays]
    shapes = [a.shape for a in arrs]
    if any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) != 1:
        raise ValueError(f"train_test_split: arrays must share their first dimension; {shapes}")
    n = int(shapes[0][0])
    n_test = _test_count(test_size, n)
    rng = np.random.default_rng(seed)
    if stratify is None:
        perm = rng.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    else:
        test_idx, train_idx = _stratified_indices(as_array(stratify), n, n_test, rng)
    out: list[np.ndarray] = []
    for a in arrs:
        out += [a[train_idx], a[test_idx]]
    return out


def _test_count(test_size: float | int, n: int) -> int:
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)) and 0.0 < test_size < 1.0:
        n_test = int(np.ceil(test_size * n))
    else:
        raise ValueError(
            f"train_test_split: test_size must be a float in (0, 1) or an int, got {test_size!r}"
        )
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} leaves an empty part "
            f"({n_test} test of {n} samples)"
        )
    return n_test


def _stratified_indices(
    labels: np.ndarray, n: int, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if labels.ndim == 0 or labels.shape[0] != n:
        raise ValueError(
            f"train_test_split: stratify has shape {labels.shape}, expected ({n}, ...)"
        )
    flat = labels.reshape(n, -1)
    _, classes = np.unique(flat, axis=0, return_inverse=True)
    classes = classes.reshape(-1)  # numpy 2.0 returned it with an extra axis
    counts = np.bincount(classes)
    # Largest-remainder allocation: per-class test counts sum to exactly n_test and each
    # is within one of its proportional share; random tie-breaks avoid favouring class 0.
    share = counts * (n_test / n)
    per_class = np.floor(share).astype(np.int64)
    leftover = n_test - int(per_class.sum())
    if leftover:
        frac = share - per_class
        by_frac = np.lexsort((rng.random(len(counts)), -frac))
        per_class[by_frac[:leftover]] += 1
    test_parts, train_parts = [], []
    for c, k in enumerate(per_class):
        members = rng.permutation(np.flatnonzero(classes == c))
        test_parts.append(members[:k])
        train_parts.append(members[k:])
    test_idx = rng.permutation(np.concatenate(test_parts))
    train_idx = rng.permutation(np.concatenate(train_parts))
    return test_idx, train_idx


def standardize(train: Any, *others: Any, eps: float = 1e-8) -> tuple[np.ndarray, ...]:
    """Standardise features with statistics of the training set only.

    Each array becomes ``(a - mean) / scale`` with ``scale = std`` (population std, ``ddof=0``)
    where ``std > eps`` and 1 elsewhere; ``mean`` and ``std`` are taken over axis 0 of
    ``train``. The test data must not leak into these statistics, hence ``others`` are only
    transformed. Constant features are only centred (as scikit-learn does), so a test value
    that differs from the constant is not blown up by a tiny divisor.

    Args:
        train: array of shape ``(N, *F)``, ``N >= 1``.
        *others: arrays of shape ``(M, *F)`` with the same feature shape ``F``.
        eps: a ``std`` at or below this counts as a constant feature.

    Returns:
        ``(train_std, *others_std, mean, std)``: the transformed arrays, then ``mean`` and
        ``std`` of shape ``F``. Floating inputs keep the dtype of ``train`` (statistics
        are accumulated in float64), other inputs become float64. Undo with
        ``x * np.where(std > eps, std, 1) + mean``.

    Examples:
        ``X_train, X_test, mean, std = standardize(X_train, X_test)``

        >>> import numpy as np
        >>> from tensorgrad.data import standardize
        >>> train, test = np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 5.0]])
        >>> train_s, test_s, mean, std = standardize(train, test)
        >>> mean, std
        (array([2., 5.]), array([1., 0.]))
        >>> train_s.round(6)                                  # the constant feature maps to 0
        array([[-1.,  0.],
               [ 1.,  0.]])
        >>> test_s.round(6)                                   # scaled with the train statistics
        array([[3., 0.]])
    """
    tr = as_array(train)
    if tr.ndim == 0 or tr.shape[0] == 0:
        raise ValueError(f"standardize: train needs at least one sample, got shape {tr.shape}")
    rest = [as_array(o) for o in others]
    for o in rest:
        if o.shape[1:] != tr.shape[1:]:
            raise ValueError(
                f"standardize: feature shapes differ: train {tr.shape} vs other {o.shape}"
            )
    dt = tr.dtype if np.issubdtype(tr.dtype, np.floating) else np.dtype(np.float64)
    mean = tr.mean(axis=0, dtype=np.float64)
    std = tr.std(axis=0, dtype=np.float64)
    scale = np.where(std > eps, std, 1.0)
    out = [((a - mean) / scale).astype(dt) for a in (tr, *rest)]
    return (*out, mean.astype(dt), std.astype(dt))


# IDX format: 2 zero bytes, a dtype code, the number of dimensions, then one big-endian
# uint32 per dimension, then the big-endian payload.
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_MAX_DIMS = 64  # numpy's limit (32 before numpy 2; reshape then raises, naming the file)


def read_idx(file: str | os.PathLike[str] | IO[bytes]) -> np.ndarray:
    """Read one IDX file (the MNIST format), plain or gzip-compressed.

    Args:
        file: a path, or a binary file object. Compression is detected from the content,
            not the name.

    Returns:
        An array in native byte order, with the shape from the header and the dtype from
        the magic number: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
        0x0E float64.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: naming the file, for a bad magic number, an unknown dtype code, a header
            claiming more than 64 dimensions, or a payload whose size does not match the
            header (truncated file).
    """
    if hasattr(file, "read"):
        name = str(getattr(file, "name", "<stream>"))
        raw = file.read()  # type: ignore[union-attr]
    else:
        name = os.fspath(file)  # type: ignore[arg-type]
        raw = Path(name).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"{name}: corrupt or truncated gzip data ({e})") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise ValueError(
            f"{name}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'}; expected "
            "00 00, a dtype code in 08 09 0b 0c 0d 0e, and the number of dimensions)"
        )
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    if ndim > _IDX_MAX_DIMS:
        raise ValueError(f"{name}: IDX header claims {ndim} dimensions; at most "
                         f"{_IDX_MAX_DIMS} are supported (a corrupt file?)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: IDX file {what}: header says shape {shape} ({expected} payload bytes), "
            f"found {got}"
        )
    try:
        data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    except ValueError as e:  # e.g. more dimensions than this numpy supports
        raise ValueError(f"{name}: cannot make an array of shape {shape}: {e}") from e
    # astype copies into a writable, native-endian array (frombuffer is read-only).
    return data.astype(dtype.newbyteorder("="))


def _find_idx(directory: Path, stem: str, what: str) -> Path:
    # The official names, gzipped or not, and the "images.idx3" spelling some mirrors use.
    dotted = stem.replace("-idx", ".idx")
    names = [stem, stem + ".gz", dotted, dotted + ".gz"]
    for candidate in names:
        if (directory / candidate).is_file():
            return directory / candidate
    raise FileNotFoundError(
        f"{what} file {stem!r} not found in {str(directory)!r}: expected one of {names}"
    )


def load_mnist(path: str | os.PathLike[str], kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST or Fashion-MNIST from the standard IDX files in a directory.

    Nothing is downloaded. ``path`` must hold ``train-images-idx3-ubyte`` and
    ``train-labels-idx1-ubyte`` (``kind="train"``) or ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (``kind="test"``), each optionally gzipped (``.gz``).

    Returns:
        ``(X, y)``: ``X`` of shape ``(N, rows, cols)`` from the header, ``(N, 28, 28)``
        uint8 for the real files (pixel values 0..255); ``y`` of shape ``(N,)``, int64.

    Raises:
        FileNotFoundError: a file is missing (the message lists the accepted names).
        ValueError: a malformed file (see :func:`read_idx`), images that are not 3-d,
            labels that are not 1-d integers, or differing image and label counts.
    """
    prefixes = {"train": "train", "test": "t10k", "t10k": "t10k"}
    if kind not in prefixes:
        raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    directory = Path(path)
    if not directory.is_dir():
        raise FileNotFoundError(f"load_mnist: {str(directory)!r} is not a directory")
    prefix = prefixes[kind]
    images_file = _find_idx(directory, f"{prefix}-images-idx3-ubyte", "MNIST images")
    labels_file = _find_idx(directory, f"{prefix}-labels-idx1-ubyte", "MNIST labels")
    X = read_idx(images_file)
    y = read_idx(labels_file)
    if X.ndim != 3:
        raise ValueError(f"{images_file}: expected 3-d images (N, rows, cols), got {X.shape}")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{labels_file}: expected 1-d integer labels, got {y.shape} {y.dtype}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{images_file} has {X.shape[0]} images but {labels_file} has {y.shape[0]} labels"
        )
    return X, y.astype(np.int64)
