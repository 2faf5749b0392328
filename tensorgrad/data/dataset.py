"""Datasets: the ``__len__`` / ``__getitem__`` protocol `DataLoader` reads, and
`TensorDataset`, aligned arrays seen as a dataset of tuples."""

from __future__ import annotations

from typing import Any

import numpy as np

from .loader import as_array


class Dataset:
    """Base class for map-style datasets, as PyTorch's ``torch.utils.data.Dataset``.

    Subclass it (or write any class) with ``__len__`` (the number of samples) and
    ``__getitem__(i)`` for ``0 <= i < len(self)``, returning an array, a number, or a
    tuple / list / dict of those; `DataLoader` stacks the samples of a batch along a new
    first axis.

    Examples:
        >>> import numpy as np
        >>> from tensorgrad.data import DataLoader, Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 5
        ...     def __getitem__(self, i):
        ...         return np.array([i], dtype=np.float32), i * i
        >>> [(xb.shape, yb.numpy().tolist()) for xb, yb in DataLoader(Squares(), batch_size=3)]
        [((3, 1), [0, 1, 4]), ((2, 1), [9, 16])]
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Aligned arrays (or Tensors) as a dataset: sample ``i`` is ``(a[i] for a in arrays)``.

    Args:
        *tensors: numpy arrays or Tensors (their ``.data`` is used, not copied), all of
            shape ``(N, ...)`` with the same ``N``.

    ``ds[i]`` is a tuple with one array per input (a row of each); ``len(ds)`` is ``N``.
    ``DataLoader(TensorDataset(X, y), batch_size=32)`` yields ``(xb, yb)`` tuples of
    Tensors, like ``DataLoader(X, y, batch_size=32)`` and as fast.

    Examples:
        >>> import numpy as np
        >>> from tensorgrad.data import TensorDataset
        >>> ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
        >>> x, y = ds[1]
        >>> len(ds), x, int(y)
        (3, array([2., 3.]), 1)
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(as_array(t) for t in tensors)
        shapes = [a.shape for a in arrays]
        if any(len(s) == 0 for s in shapes) or len({s[0] for s in shapes}) != 1:
            raise ValueError(
                f"TensorDataset: arrays must share their first dimension (the samples); got "
                f"shapes {shapes}"
            )
        self.tensors: tuple[np.ndarray, ...] = arrays

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(a[index] for a in self.tensors)

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(a.shape) for a in self.tensors)})"
