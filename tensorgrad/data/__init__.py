"""Data loading for tensorgrad: mini-batches, the embedded digits, MNIST IDX files, toys.

``DataLoader`` turns numpy arrays (or Tensors), a ``TensorDataset`` or any dataset with
``__len__`` and ``__getitem__`` into shuffled mini-batches of Tensors; the loaders and
helpers return plain numpy arrays.

The embedded ``digits.csv.gz`` is the UCI "Optical Recognition of Handwritten Digits"
test set (E. Alpaydin, C. Kaynak, 1998; UCI Machine Learning Repository; CC BY 4.0);
see ``DIGITS_README.md`` next to it.
"""

from __future__ import annotations

from .dataset import Dataset, TensorDataset
from .datasets import (
    load_digits,
    load_mnist,
    make_regression_toy,
    read_idx,
    standardize,
    train_test_split,
)
from .loader import DataLoader

__all__ = [
    "DataLoader",
    "Dataset",
    "TensorDataset",
    "load_digits",
    "load_mnist",
    "make_regression_toy",
    "read_idx",
    "standardize",
    "train_test_split",
]
