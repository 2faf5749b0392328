"""Mini-batch iteration over numpy arrays, tensors, or any dataset with ``__len__`` and
``__getitem__``."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np


def as_array(x: Any) -> np.ndarray:
    """Return the numpy array behind ``x``: a Tensor's ``.data``, or ``np.asarray(x)``."""
    if isinstance(x, np.ndarray):
        return x
    # Duck-typed so this module never has to import the Tensor class; note that a bare
    # ndarray also has a ``.data`` attribute (a memoryview), hence the check above.
    data = getattr(x, "data", None)
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(x)


def _global_rng() -> np.random.Generator:
    """tensorgrad's global generator (reseeded by ``tg.manual_seed``), else a fresh one."""
    try:
        from ..random import get_rng
    except ImportError:
        return np.random.default_rng()
    # Looked up on every epoch: manual_seed replaces the generator object.
    return get_rng()


class DataLoader:
    """Iterate over aligned arrays, or over a dataset, in mini-batches.

    ``DataLoader(X, y, batch_size=32, shuffle=True, seed=0)`` yields ``(xb, yb)`` pairs of
    :class:`tensorgrad.Tensor`; with a single array it yields single Tensors.
    ``DataLoader(dataset, batch_size=32)`` takes a dataset as PyTorch's does: anything with
    ``__len__`` and ``__getitem__(i)`` (a `TensorDataset`, a `Dataset` subclass ...) whose
    samples are arrays, numbers or Tensors, or tuples / lists / dicts of them. The samples
    of a batch are stacked along a new first axis and keep the sample's structure: a
    tuple of arrays gives a tuple of Tensors, a single array a single Tensor (strings are
    gathered into a list).

    Args:
        *arrays: numpy arrays or Tensors (their ``.data`` is used), all with the same first
            dimension ``N`` (the sample axis); or a single dataset. Each batch of an array
            of shape ``(N, ...)`` has shape ``(B, ...)`` and the array's dtype: float arrays
            keep their precision, integer labels stay integer. Batches never require grad.
        batch_size: samples per batch, ``>= 1``.
        shuffle: visit the samples in a fresh random order every epoch (every ``iter()``).
        seed: seeds a generator owned by the loader, so the sequence of epoch orders is
            reproducible. ``None`` draws from tensorgrad's global generator when the package
            has one (``tg.manual_seed`` then makes it reproducible), else from fresh entropy.
        drop_last: drop the final batch when it is smaller than ``batch_size``.

    ``len(loader)`` is the number of batches per epoch.

    Examples:
        >>> import numpy as np
        >>> from tensorgrad.data import DataLoader
        >>> X, y = np.zeros((5, 2), dtype=np.float32), np.arange(5)
        >>> loader = DataLoader(X, y, batch_size=2)
        >>> len(loader), [(xb.shape, yb.dtype) for xb, yb in loader]     # the last batch is short
        (3, [((2, 2), dtype('int64')), ((2, 2), dtype('int64')), ((1, 2), dtype('int64'))])
        >>> [yb.numpy().tolist() for _, yb in DataLoader(X, y, batch_size=2, shuffle=True, seed=0)]
        [[2, 4], [3, 0], [1]]
    """

    def __init__(
        self,
        *arrays: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        from .dataset import TensorDataset

        if not arrays:
            raise ValueError("DataLoader needs at least one array or a dataset")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if len(arrays) > 1 and isinstance(arrays[-1], (bool, int, np.integer)):
            # PyTorch's DataLoader(dataset, 32, True): here the options are keywords only.
            raise TypeError(
                f"DataLoader: got the number {arrays[-1]!r} where arrays or one dataset are "
                "expected; pass the options by keyword: DataLoader(dataset, batch_size=32, "
                "shuffle=True)"
            )
        if len(arrays) > 1 and any(_is_dataset(a) for a in arrays):
            raise TypeError("DataLoader: takes one dataset, or arrays, not both")
        # A dataset: one argument that indexes like one but is not array-like.
        self.dataset: Any = arrays[0] if len(arrays) == 1 and _is_dataset(arrays[0]) else None
        # Batches are tuples when the samples are (always for a TensorDataset, as PyTorch).
        self._tuples = isinstance(self.dataset, TensorDataset) or len(arrays) > 1
        if isinstance(self.dataset, TensorDataset):
            arrays = self.dataset.tensors  # the fast path: slice the arrays, no per-sample calls
        if self.dataset is not None and not isinstance(self.dataset, TensorDataset):
            self.arrays: tuple[np.ndarray, ...] = ()
            n = len(self.dataset)
            if not isinstance(n, (int, np.integer)) or n < 0:
                raise TypeError(f"DataLoader: len(dataset) must be an int >= 0, got {n!r}")
            self.n_samples = int(n)
        else:
            self.arrays = tuple(as_array(a) for a in arrays)
            shapes = [a.shape for a in self.arrays]
            if any(len(s) == 0 for s in shapes):
                raise ValueError(f"DataLoader: arrays need a sample axis; got shapes {shapes}")
            if len({s[0] for s in shapes}) != 1:
                raise ValueError(
                    f"DataLoader: arrays must share their first dimension; got shapes {shapes}"
                )
            self.n_samples = int(shapes[0][0])
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        # Created once so that every epoch continues the same stream: a new order per
        # epoch, yet the whole sequence of orders is fixed by the seed.
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self) -> int:
        if self.drop_last:
            return self.n_samples // self.batch_size
        return -(-self.n_samples // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        from ..tensor import as_tensor, tensor

        order = None
        if self.shuffle:
            rng = self._rng if self._rng is not None else _global_rng()
            order = rng.permutation(self.n_samples)
        for b in range(len(self)):
            start = b * self.batch_size
            stop = min(start + self.batch_size, self.n_samples)
            if not self.arrays:
                indices = range(start, stop) if order is None else order[start:stop].tolist()
                yield _collate([self.dataset[i] for i in indices], indices)
                continue
            if order is None:
                # A slice is a view; tensor() copies it once, so the batch never aliases
                # the caller's array.
                batch = tuple(tensor(a[start:stop]) for a in self.arrays)
            else:
                # Fancy indexing already made a fresh array: wrap it without a second copy.
                idx = order[start:stop]
                batch = tuple(as_tensor(a[idx]) for a in self.arrays)
            yield batch if self._tuples else batch[0]

    def __repr__(self) -> str:
        source = (f"dataset={type(self.dataset).__name__}" if self.dataset is not None
                  else f"arrays={len(self.arrays)}")
        return (
            f"DataLoader(n_samples={self.n_samples}, {source}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, seed={self.seed}, "
            f"drop_last={self.drop_last})"
        )


def _is_dataset(obj: Any) -> bool:
    """Indexable with a length, but not something numpy reads as an array."""
    if isinstance(obj, (np.ndarray, list, tuple)) or hasattr(obj, "__array__"):
        return False
    if isinstance(getattr(obj, "data", None), np.ndarray):  # a Tensor
        return False
    return hasattr(obj, "__len__") and hasattr(obj, "__getitem__")


def _collate(samples: list[Any], indices: Sequence[int]) -> Any:
    """Stack the samples of one batch, keeping their structure (tuple, list, dict)."""
    from ..tensor import as_tensor

    first = samples[0]
    if isinstance(first, (tuple, list, dict)):
        for s, i in zip(samples, indices):
            same = type(s) is type(first) and (
                list(s) == list(first) if isinstance(s, dict) else len(s) == len(first))
            if not same:
                raise ValueError(
                    f"DataLoader: dataset[{i}] is {_describe(s)} but dataset[{indices[0]}] is "
                    f"{_describe(first)}; every sample needs the same structure to be batched"
                )
        if isinstance(first, dict):
            return {k: _collate([s[k] for s in samples], indices) for k in first}
        parts = [_collate([s[k] for s in samples], indices) for k in range(len(first))]
        if isinstance(first, list):
            return parts
        return type(first)(*parts) if hasattr(first, "_fields") else tuple(parts)
    if isinstance(first, str):
        return list(samples)
    arrays = [as_array(s) for s in samples]
    for a, i in zip(arrays, indices):
        if a.dtype.kind not in "biufc":
            raise TypeError(
                f"DataLoader: dataset[{i}] holds {type(samples[0]).__name__} values that are "
                f"not numbers (dtype {a.dtype}); return arrays, numbers or Tensors"
            )
        if a.shape != arrays[0].shape:
            raise ValueError(
                f"DataLoader: cannot stack a batch: dataset[{i}] has shape {a.shape}, "
                f"dataset[{indices[0]}] has shape {arrays[0].shape}; samples need the same shape"
            )
    return as_tensor(np.stack(arrays))


def _describe(sample: Any) -> str:
    if isinstance(sample, dict):
        return f"a dict with keys {list(sample)}"
    if isinstance(sample, (tuple, list)):
        return f"a {type(sample).__name__} of {len(sample)}"
    return f"a {type(sample).__name__}"
