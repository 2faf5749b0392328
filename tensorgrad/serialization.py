"""Checkpoints: `save` / `load` nested dicts, lists and tuples of arrays, Tensors, numbers,
strings and None as one .npz archive, never with pickle.

The archive holds one ``.npy`` member per array plus a member ``__tensorgrad__`` (the
UTF-8 bytes of a JSON document, stored as a uint8 array) describing the structure, so
``np.load(path)`` can still read every array. `load` reads with ``allow_pickle=False``:
opening a checkpoint can never run code. An .npz of plain arrays (what ``Module.save``
wrote before checkpoints could nest, or ``np.savez``) loads as an OrderedDict name ->
array.

The JSON document is ``{"format": "tensorgrad", "version": 1, "root": <value>}`` with
``<value>`` one of: ``null``, ``true``/``false``, a JSON int, a finite JSON float, a
string, a list of values, ``{"$tuple": [...]}``, ``{"$dict": [[key, value], ...]}``
(``"$odict"`` for an OrderedDict; keys keep their types and order),
``{"$float": "nan" | "inf" | "-inf"}``, ``{"$array": member}``, ``{"$scalar": member}``
(a numpy scalar), ``{"$tensor": member, "requires_grad": bool, "parameter": bool}``.
"""
from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import zipfile
from collections import OrderedDict
from typing import IO, Any, Union

import numpy as np

from .tensor import Tensor

__all__ = ["SerializationError", "load", "save"]

PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]

STRUCTURE = "__tensorgrad__"
_FORMAT, _VERSION = "tensorgrad", 1
_DTYPE_KINDS = "biufc"  # numbers only: no objects (pickle), strings or records


class SerializationError(ValueError, TypeError):
    """A checkpoint that cannot be written or read.

    `save` raises it, before touching any file, for a value it cannot store (a lambda, an
    object array, a cycle) or a destination it cannot write (missing or read-only
    directory). `load` raises it, naming the file, for anything that is not a readable
    checkpoint: a pickle, a PyTorch ``.pt``, a text file, a truncated or corrupt archive,
    a member that is not a numeric array, a malformed structure. Both a ValueError and a
    TypeError (what earlier versions raised for unsavable values).
    """


# ----------------------------------------------------------------------------- save
class _Encoder:
    """Turns a Python object into the JSON structure and the list of arrays it refers to."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._active: set[int] = set()

    def _member(self, path: list[str], arr: np.ndarray, where: str) -> str:
        if arr.dtype.kind not in _DTYPE_KINDS or arr.dtype.fields is not None:
            raise SerializationError(
                f"save: {where} is an array of dtype {arr.dtype}; only arrays of numbers "
                "(bool, int, float, complex) can be saved without pickle")
        # Readable member names (the dotted path) where they are unique, for np.load users.
        name = "/".join(path) or "root"
        if name == STRUCTURE or name in self.arrays:
            name = f"{name}#{len(self.arrays)}"
        self.arrays[name] = arr
        return name

    def encode(self, obj: Any, path: list[str]) -> Any:
        where = "the object" if not path else "[" + "][".join(map(repr, path)) + "]"
        if obj is None or isinstance(obj, (bool, str)):
            return str(obj) if isinstance(obj, str) else obj
        if isinstance(obj, Tensor):
            from .nn.module import Parameter

            return {"$tensor": self._member(path, obj.data, where),
                    "requires_grad": obj.requires_grad,
                    "parameter": isinstance(obj, Parameter)}
        if isinstance(obj, np.ndarray) and not isinstance(obj, np.ma.MaskedArray):
            return {"$array": self._member(path, np.asarray(obj), where)}
        if isinstance(obj, np.generic):  # before float: np.float64 is a float subclass
            return {"$scalar": self._member(path, np.asarray(obj), where)}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"$float": "nan" if obj != obj else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self._active:
                raise SerializationError(f"save: {where} contains itself (a cycle)")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    tag = "$odict" if isinstance(obj, OrderedDict) else "$dict"
                    return {tag: [[self._key(k, where), self.encode(v, [*path, str(k)])]
                                  for k, v in obj.items()]}
                items = [self.encode(v, [*path, str(i)]) for i, v in enumerate(obj)]
                return {"$tuple": items} if isinstance(obj, tuple) else items
            finally:
                self._active.discard(id(obj))
        what = getattr(obj, "__qualname__", None) or type(obj).__name__
        hint = (" (pass its state_dict())" if hasattr(obj, "state_dict") else
                "; save its data (arrays, numbers, strings) instead")
        raise SerializationError(
            f"save: {where} is {what!r} of type {type(obj).__name__}, which cannot be saved "
            f"without pickle{hint}. Savable: dicts, lists, tuples, numpy arrays and scalars, "
            "Tensors, int, float, bool, str, None")

    def _key(self, key: Any, where: str) -> Any:
        if isinstance(key, np.generic) and key.dtype.kind in "biuf":
            key = key.item()  # a numpy scalar key comes back as the equal Python number
        if key is None or isinstance(key, (bool, int, float, str)):
            return self.encode(key, [])
        if isinstance(key, tuple):
            return {"$tuple": [self._key(k, where) for k in key]}
        raise SerializationError(f"save: {where} has a key {key!r} of type "
                                 f"{type(key).__name__}; keys must be str, int, float, bool, "
                                 "None or tuples of those")


def save(obj: Any, path: PathOrFile) -> None:
    """Write `obj` to `path` as an .npz checkpoint, without pickle.

    `obj` is any nesting of dicts (any str/int/float/bool/None/tuple keys), lists and tuples
    whose leaves are numpy arrays of numbers, numpy scalars, Tensors, int, float, bool,
    str or None, e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(),
    "epoch": 3}``. `load` gives back the same structure: same containers, key order and
    types, arrays with their dtypes and shapes bit for bit, Tensors as Tensors.

    `path` is a binary file object or a file name, written at exactly that name (no
    ".npz" appended) and atomically: the archive goes to a new, uniquely named temporary
    file in the same directory, is flushed to disk, and then replaces the target, so a
    failed or interrupted save leaves any existing file as it was. An existing file keeps
    its permission bits; a symbolic link keeps pointing where it did and its target gets
    the new content.

    Raises:
        SerializationError: before any file is touched, for a value that cannot be saved
            or a directory that does not exist or cannot be written.
    """
    enc = _Encoder()
    doc = {"format": _FORMAT, "version": _VERSION, "root": enc.encode(obj, [])}
    text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    arrays = {STRUCTURE: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **enc.arrays}
    if hasattr(path, "write"):
        _write(path, arrays)
        return
    _atomic_write(os.fspath(path), arrays)  # type: ignore[arg-type]


def _umask() -> int:
    try:  # Linux shows it without the race of setting it
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_write(target: str, arrays: dict[str, np.ndarray]) -> None:
    # Through a symlink, update the file it points to (as open(path, "w") would).
    real = os.path.realpath(target) if os.path.islink(target) else target
    directory = os.path.dirname(os.path.abspath(real))
    if not os.path.isdir(directory):
        raise SerializationError(f"save: cannot write {target!r}: the directory {directory!r} "
                                 "does not exist; create it first (os.makedirs)")
    if os.path.isdir(real):
        raise SerializationError(f"save: {target!r} is a directory; give a file name")
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # what open() would create; mkstemp's is 0600
    except OSError as e:
        raise SerializationError(f"save: cannot write {target!r} ({e.strerror})") from e
    else:
        if not os.access(real, os.W_OK):
            # Replacing would succeed (the directory is writable) but the file says no.
            raise SerializationError(f"save: {target!r} is read-only; not replacing it")
    # mkstemp creates the file exclusively under a random name (O_CREAT | O_EXCL), so a
    # file or symlink planted at a guessable name is never written through.
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(real) + ".",
                                   suffix=".tmp")
    except OSError as e:
        raise SerializationError(f"save: cannot write {target!r}: cannot create a file in "
                                 f"{directory!r} ({e.strerror})") from e
    try:
        with os.fdopen(fd, "wb") as f:
            _write(f, arrays)
            f.flush()
            if hasattr(os, "fchmod"):  # not on Windows
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not possible everywhere
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _write(f: Any, arrays: dict[str, np.ndarray]) -> None:
    # The archive np.savez writes. np.savez itself takes the names as keyword arguments
    # (a parameter named "file" would clash) and appends ".npz" to file names.
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


# ----------------------------------------------------------------------------- load
def _head(path: PathOrFile) -> bytes:
    if hasattr(path, "read"):
        pos = path.tell()  # type: ignore[union-attr]
        head = path.read(8)  # type: ignore[union-attr]
        path.seek(pos)  # type: ignore[union-attr]
        return bytes(head)
    with open(path, "rb") as f:  # type: ignore[arg-type]
        return f.read(8)


def load(path: PathOrFile) -> Any:
    """Read a checkpoint written by `save` (or ``Module.save``, or ``np.savez`` of arrays).

    Returns the saved structure exactly (see `save`); a plain .npz of arrays gives an
    OrderedDict name -> array in the saved order. Everything is read and checked before
    returning, so a failure never yields a partial result.

    Raises:
        FileNotFoundError: the file does not exist.
        SerializationError: naming the file, for anything that is not a readable
            checkpoint: pickled data (never unpickled), a PyTorch ``.pt`` file, a text
            file, a single ``.npy``, a truncated or corrupt archive, a member that is not
            an array of numbers, or a malformed structure.
    """
    where = repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else "the file"
    head = _head(path)
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise SerializationError(f"load: {where} is not a tensorgrad checkpoint: "
                                 f"{_describe(head)}")
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as e:
        raise SerializationError(f"load: {where} is not a readable .npz archive: "
                                 f"{type(e).__name__}: {e}") from e
    with npz:
        names = list(npz.files)
        if any(n.endswith(".pkl") for n in names):
            raise SerializationError(
                f"load: {where} looks like a PyTorch checkpoint (torch.save), which holds "
                "pickled data; load it with torch.load and save its tensors as numpy arrays "
                "with tg.save")
        arrays: dict[str, np.ndarray] = {}
        for name in names:
            try:
                value = npz[name]
            except Exception as e:
                if "pickle" in str(e).lower():
                    raise SerializationError(
                        f"load: member {name!r} of {where} is an object array (pickled data), "
                        "which tensorgrad never loads; not a tensorgrad checkpoint") from e
                raise SerializationError(f"load: {where} is corrupt or truncated (member "
                                         f"{name!r}: {type(e).__name__}: {e})") from e
            if not isinstance(value, np.ndarray):
                raise SerializationError(f"load: member {name!r} of {where} is not a .npy "
                                         "array; not a tensorgrad checkpoint")
            if value.dtype.kind not in _DTYPE_KINDS or value.dtype.fields is not None:
                raise SerializationError(f"load: {name!r} in {where} has dtype {value.dtype}, "
                                         "not a number type")
            arrays[name] = value
    if STRUCTURE not in arrays:
        return OrderedDict(arrays)
    return _Decoder(arrays, where).document(arrays[STRUCTURE])


def _describe(head: bytes) -> str:
    if not head:
        return "the file is empty"
    if head.startswith(b"\x93NUMPY"):
        return "it holds a single array (.npy); tg.load reads .npz checkpoints (tg.save)"
    if head[:1] == b"\x80":
        return ("it holds pickled data, which tensorgrad never loads (unpickling can run "
                "arbitrary code); save with tg.save or Module.save")
    return (f"it is not an .npz archive (it starts with {head!r}); tg.load reads files "
            "written by tg.save or Module.save")


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], where: str) -> None:
        self.arrays, self.where = arrays, where

    def fail(self, what: str) -> SerializationError:
        return SerializationError(f"load: {self.where} has a malformed structure: {what}")

    def document(self, raw: np.ndarray) -> Any:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise self.fail(f"{STRUCTURE!r} is {raw.dtype} of shape {raw.shape}, not bytes")
        try:
            doc = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise self.fail(f"{STRUCTURE!r} is not JSON ({e})") from e
        if not (isinstance(doc, dict) and doc.get("format") == _FORMAT and "root" in doc):
            raise self.fail(f"{STRUCTURE!r} is not a tensorgrad structure")
        if doc.get("version") != _VERSION:
            raise SerializationError(
                f"load: {self.where} is a tensorgrad checkpoint of version "
                f"{doc.get('version')!r}; this tensorgrad reads version {_VERSION}")
        try:
            return self.decode(doc["root"])
        except RecursionError as e:
            raise self.fail("nested too deeply") from e

    def array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name == STRUCTURE or name not in self.arrays:
            raise self.fail(f"it refers to a missing array {name!r}")
        return self.arrays[name]

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if isinstance(node, float):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or len(node) not in (1, 3):
            raise self.fail(f"unexpected node {str(node)[:80]}")
        tag, value = next(iter(node.items()))
        if tag in ("$dict", "$odict"):
            if not (isinstance(value, list) and all(
                    isinstance(kv, list) and len(kv) == 2 for kv in value)):
                raise self.fail(f"{tag} is not a list of [key, value] pairs")
            out = OrderedDict() if tag == "$odict" else {}
            for k, v in value:
                key = self.decode(k)
                try:
                    out[key] = self.decode(v)
                except TypeError as e:
                    raise self.fail(f"unhashable key {key!r}") from e
            return out
        if tag == "$tuple" and isinstance(value, list):
            return tuple(self.decode(v) for v in value)
        if tag == "$float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "$array":
            return self.array(value)
        if tag == "$scalar":
            arr = self.array(value)
            if arr.ndim != 0:
                raise self.fail(f"scalar {value!r} has shape {arr.shape}")
            return arr[()]
        if tag == "$tensor" and isinstance(node.get("requires_grad"), bool):
            arr = self.array(value)
            if node.get("parameter") is True:
                from .nn.module import Parameter

                return Parameter(arr, requires_grad=node["requires_grad"])
            if node["requires_grad"] and arr.dtype.kind != "f":
                raise self.fail(f"tensor {value!r} of dtype {arr.dtype} requires grad")
            return Tensor(arr, requires_grad=node["requires_grad"], dtype=arr.dtype)
        raise self.fail(f"unexpected node {str(node)[:80]}")
