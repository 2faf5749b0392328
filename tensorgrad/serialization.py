"""Saving and loading state dicts (name -> array) as .npz archives, never with pickle.

An .npz is numpy's zip of one ``.npy`` file per array. `load` reads it with
``allow_pickle=False``, so opening a model file can never run code: a pickle, an object
array, a truncated or corrupt archive all raise `SerializationError` instead.
"""
from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from typing import IO, Any, Mapping, Union

import numpy as np

from .tensor import Tensor

PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]


class SerializationError(ValueError):
    """A file that is not a readable .npz state dict (pickled, truncated, corrupt ...)."""


def save(state_dict: Mapping[str, Any], path: PathOrFile) -> None:
    """Write `state_dict` (str name -> numpy array or Tensor) to `path` as an .npz archive.

    `path` is a file name (written exactly as given, without adding ".npz", and replaced
    only once the whole archive is written) or a binary file object. Arrays keep their
    shapes and dtypes bit for bit. Raises TypeError for a non-string name or a value that
    is not a numeric array.
    """
    if not isinstance(state_dict, Mapping):
        hint = " (pass model.state_dict())" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(f"save: expected a dict of name -> array{hint}, got "
                        f"{type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save: names must be non-empty strings, got {name!r}")
        arr = value.data if isinstance(value, Tensor) else np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"save: {name!r} has dtype {arr.dtype}; only arrays of numbers can "
                            "be saved")
        arrays[name] = arr
    if hasattr(path, "write"):
        _write(path, arrays)
        return
    target = os.fspath(path)  # type: ignore[arg-type]
    # Write next to the target, then rename: a failed save never leaves half a file behind.
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            _write(f, arrays)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write(f: Any, arrays: Mapping[str, np.ndarray]) -> None:
    # The same archive np.savez writes. np.savez itself takes the names as keyword
    # arguments, so a parameter named "file" or "allow_pickle" would clash with its own.
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def load(path: PathOrFile) -> OrderedDict[str, np.ndarray]:
    """Read a state dict written by `save` (or any ``np.savez`` archive of numeric arrays).

    Returns an OrderedDict name -> array in the saved order. A missing file raises
    FileNotFoundError; anything that is not a readable .npz of numeric arrays (a pickle, a
    single .npy, a truncated or corrupted archive, object arrays) raises
    `SerializationError`, whose message says what was wrong. Everything is read before
    returning, so a failure never yields a partial dict.
    """
    where = repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else "the file"
    try:
        obj = np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as e:
        if "pickle" in str(e).lower():
            raise SerializationError(
                f"load: {where} holds pickled data, which tensorgrad never loads (unpickling "
                "can run arbitrary code); save models with Module.save or tg.save") from e
        raise SerializationError(f"load: {where} is not a .npz state dict: {e}") from e
    if not isinstance(obj, np.lib.npyio.NpzFile):
        raise SerializationError(f"load: {where} holds a single array of shape "
                                 f"{getattr(obj, 'shape', '?')}, not a .npz state dict")
    with obj:
        try:
            out = OrderedDict((name, obj[name]) for name in obj.files)
        except Exception as e:
            raise SerializationError(f"load: {where} is corrupt or truncated: "
                                     f"{type(e).__name__}: {e}") from e
    for name, arr in out.items():
        if arr.dtype.kind not in "biuf":
            raise SerializationError(f"load: {name!r} in {where} has dtype {arr.dtype}, "
                                     "not a number type")
    return out
