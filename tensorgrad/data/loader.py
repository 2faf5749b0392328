"""Mini-batch iteration over numpy arrays or tensors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

if TYPE_CHECKING:
    from ..tensor import Tensor


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
    """Iterate over aligned arrays in mini-batches.

    ``DataLoader(X, y, batch_size=32, shuffle=True, seed=0)`` yields ``(xb, yb)`` pairs of
    :class:`tensorgrad.Tensor`; with a single array it yields single Tensors.

    Args:
        *arrays: numpy arrays or Tensors (their ``.data`` is used), all with the same first
            dimension ``N`` (the sample axis). Each batch of an array of shape ``(N, ...)``
            has shape ``(B, ...)`` and the array's dtype: float arrays keep their precision,
            integer labels stay integer. Batches never require grad.
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
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.arrays: tuple[np.ndarray, ...] = tuple(as_array(a) for a in arrays)
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

    def __iter__(self) -> Iterator[Tensor | tuple[Tensor, ...]]:
        from ..tensor import as_tensor, tensor

        order = None
        if self.shuffle:
            rng = self._rng if self._rng is not None else _global_rng()
            order = rng.permutation(self.n_samples)
        for b in range(len(self)):
            start = b * self.batch_size
            stop = min(start + self.batch_size, self.n_samples)
            if order is None:
                # A slice is a view; tensor() copies it once, so the batch never aliases
                # the caller's array.
                batch = tuple(tensor(a[start:stop]) for a in self.arrays)
            else:
                # Fancy indexing already made a fresh array: wrap it without a second copy.
                idx = order[start:stop]
                batch = tuple(as_tensor(a[idx]) for a in self.arrays)
            yield batch[0] if len(batch) == 1 else batch

    def __repr__(self) -> str:
        return (
            f"DataLoader(n_samples={self.n_samples}, arrays={len(self.arrays)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, seed={self.seed}, "
            f"drop_last={self.drop_last})"
        )
