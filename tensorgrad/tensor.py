"""The Tensor: a numpy array, its gradient, and its link into the computation graph.

Operations live in `tensorgrad.ops` (one module per family); the methods and operators here
are thin sugar over them, so every op is defined, and differentiated, in exactly one place.
This module imports nothing above it but through the one late-bound edge at its bottom.
"""
from __future__ import annotations

import builtins
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np

from . import dtypes
from .spellings import spellings, to_args  # a leaf module (stdlib only), like dtypes

ArrayLike = Union["Tensor", np.ndarray, float, int, bool, Sequence[Any]]
Axis = Union[int, Sequence[int], None]


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: Python floats (and lists of them) become
    ``tg.get_default_dtype()`` (float32 unless changed); numpy arrays keep their dtype; ints
    and bools stay integer/bool and cannot require grad. The data is copied.

    Graph slots: ``_op`` is the `Op` that produced this tensor (None for a leaf), ``_inputs``
    the tensors it was computed from and ``_params`` the op's non-tensor arguments (axis,
    shape, index ...). A backward pass without ``retain_graph`` drops ``_inputs`` and
    ``_params`` (a recorded tensor with ``_inputs`` None is "freed"), so intermediate arrays
    die as soon as the user lets go of them.
    """

    __slots__ = ("data", "grad", "requires_grad", "_op", "_inputs", "_params", "_seq", "_prev",
                 "__weakref__")

    # numpy defers to our operators (ndarray + Tensor -> Tensor) and to __array_ufunc__.
    __array_priority__ = 1000

    data: np.ndarray
    grad: Optional[np.ndarray]
    requires_grad: bool
    _op: Any
    _inputs: Optional[tuple]
    _params: Optional[dict]
    _seq: int  # creation number of a recorded tensor (see autograd/engine.py)
    _prev: Optional[tuple]  # (stamp, the tensor's graph before an in-place op): versions.py

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        arr = dtypes.to_array(data.data if isinstance(data, Tensor) else data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"tensor: requires_grad=True needs a floating dtype, got {arr.dtype}: only "
                "floating point tensors can have gradients (pass dtype=np.float32 or float data)"
            )
        init_slots(self, arr, bool(requires_grad))

    # ---------------------------------------------------------------- array attributes
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> Size:
        """The number of elements, as numpy's ``size`` (an int); called, PyTorch's ``size()``:
        ``x.size()`` is the shape and ``x.size(d)`` the length of axis d."""
        return Size(self.data.size, self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (not the output of a recorded op)."""
        return self._op is None

    @property
    def grad_fn(self) -> Optional[str]:
        """Name of the op that produced this tensor, or None for a leaf."""
        return None if self._op is None else self._op.name

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D)."""
        return _ops.transpose(self)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape "
                             f"{self.data.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return _const(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; returns self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: only floating point tensors can require "
                            f"gradients, got {self.data.dtype}")
        if not requires_grad and self._op is not None:
            raise RuntimeError("requires_grad_: cannot turn off grad on a non-leaf tensor; "
                               "use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor during backward (leaves always keep it)."""
        _ops.engine.retain(self)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    # ---------------------------------------------------------------- core: hooks, versions
    def register_hook(self, fn: Any) -> Any:
        """Call ``fn(grad)`` with this tensor's gradient whenever backward computes it (for a
        leaf: the total of this pass, before it is added to ``.grad``). ``fn`` may return a
        replacement gradient of the same shape, or None. Returns a handle whose
        ``.remove()`` takes the hook off."""
        return _ops.engine.register_hook(self, fn)

    # In place (tensorgrad/ops/inplace.py): the tensor's own array changes and its version
    # goes up; recorded and differentiated in grad mode, refused on a leaf that requires grad.
    def add_(self, other: Any) -> Tensor: return _ops.inplace.add_(self, other)
    def sub_(self, other: Any) -> Tensor: return _ops.inplace.sub_(self, other)
    def mul_(self, other: Any) -> Tensor: return _ops.inplace.mul_(self, other)
    def div_(self, other: Any) -> Tensor: return _ops.inplace.div_(self, other)
    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return _ops.inplace.clamp_(self, min, max)
    def copy_(self, src: Any) -> Tensor: return _ops.inplace.copy_(self, src)
    def fill_(self, value: Any) -> Tensor: return _ops.inplace.fill_(self, value)
    def zero_(self) -> Tensor: return _ops.inplace.zero_(self)
    def __iadd__(self, other: Any) -> Tensor: return _ops.inplace.add_(self, other)
    def __isub__(self, other: Any) -> Tensor: return _ops.inplace.sub_(self, other)
    def __imul__(self, other: Any) -> Tensor: return _ops.inplace.mul_(self, other)
    def __itruediv__(self, other: Any) -> Tensor: return _ops.inplace.div_(self, other)
    def __setitem__(self, index: Any, value: Any) -> None: _ops.inplace.setitem(self, index, value)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (shared with its views)."""
        return _ops.engine.versions.version(self.data)

    def backward(self, grad: Any = None, retain_graph: Optional[bool] = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        `grad` is dL/d(self) with self's shape; it may be omitted only for a one-element tensor.
        The graph is freed afterwards unless ``retain_graph=True`` (which is the default
        when ``create_graph=True``).
        """
        _ops.engine.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ---------------------------------------------------------------- conversions
    def astype(self, dtype: Any) -> Tensor:
        """Cast to `dtype` (differentiable between float dtypes)."""
        return _ops.astype(self, dtype)

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Tensor:
        """PyTorch's ``to``: ``x.to(np.float64)``, ``x.to(dtype=...)``; the device ``'cpu'`` is
        accepted (tensorgrad computes on the CPU), any other device raises."""
        return _ops.astype(self, to_args("Tensor.to", args, dtype, device, self.dtype))

    def float(self) -> Tensor:
        return _ops.astype(self, np.float32)

    def double(self) -> Tensor:
        return _ops.astype(self, np.float64)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _ops.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _ops.array_function(func, args, kwargs)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> builtins.float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != dtypes.get_default_dtype() and self.data.dtype.kind == "f" \
                or self.data.dtype.kind not in "fib":
            extra += f", dtype={self.data.dtype}"
        if self._op is not None:
            extra += f", grad_fn=<{self._op.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---------------------------------------------------------------- operators
    # (__add__, __sub__, __mul__, __truediv__ and __matmul__ are replaced by the op functions
    # themselves at import: see `_bind_operators` in ops/__init__.py.)
    def __add__(self, other: Any) -> Tensor: return _ops.add(self, other)
    def __radd__(self, other: Any) -> Tensor: return _ops.add(other, self)
    def __sub__(self, other: Any) -> Tensor: return _ops.sub(self, other)
    def __rsub__(self, other: Any) -> Tensor: return _ops.sub(other, self)
    def __mul__(self, other: Any) -> Tensor: return _ops.mul(self, other)
    def __rmul__(self, other: Any) -> Tensor: return _ops.mul(other, self)
    def __truediv__(self, other: Any) -> Tensor: return _ops.div(self, other)
    def __rtruediv__(self, other: Any) -> Tensor: return _ops.div(other, self)
    def __pow__(self, other: Any) -> Tensor: return _ops.pow(self, other)
    def __rpow__(self, other: Any) -> Tensor: return _ops.pow(other, self)
    def __matmul__(self, other: Any) -> Tensor: return _ops.matmul(self, other)
    def __rmatmul__(self, other: Any) -> Tensor: return _ops.matmul(other, self)
    def __neg__(self) -> Tensor: return _ops.neg(self)
    def __pos__(self) -> Tensor: return self
    def __abs__(self) -> Tensor: return _ops.abs(self)
    def __lt__(self, other: Any) -> Tensor: return _ops.lt(self, other)
    def __le__(self, other: Any) -> Tensor: return _ops.le(self, other)
    def __gt__(self, other: Any) -> Tensor: return _ops.gt(self, other)
    def __ge__(self, other: Any) -> Tensor: return _ops.ge(self, other)
    def __eq__(self, other: Any) -> Tensor: return _ops.eq(self, other)  # type: ignore[override]
    def __ne__(self, other: Any) -> Tensor: return _ops.ne(self, other)  # type: ignore[override]
    def __invert__(self) -> Tensor: return _ops.logical_not(self)
    def __and__(self, other: Any) -> Tensor: return _ops.logical_and(self, other)
    def __or__(self, other: Any) -> Tensor: return _ops.logical_or(self, other)
    def __getitem__(self, index: Any) -> Tensor: return _ops.getitem(self, index)

    # ---------------------------------------------------------------- elementwise methods
    # x.exp(), x.log1p(), x.tanh(), x.pow(y) ...: made by each op's one-line declaration in
    # tensorgrad/ops/elementwise.py (see ops/declare.py), which sets them on this class.

    @spellings
    def clip(self, lo: Any = None, hi: Any = None) -> Tensor:
        return _ops.clip(self, lo, hi)

    clamp = clip

    # ---------------------------------------------------------------- reductions
    # Each takes numpy's and PyTorch's keywords (axis=/dim=, keepdims=/keepdim=): `spellings`.
    @spellings
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    @spellings
    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    @spellings
    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: Optional[bool] = None) -> Any:
        """``axis=`` (numpy): the values. A `dim` (PyTorch, positional or ``dim=``):
        ``(values, indices)``."""
        return _ops.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    @spellings
    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: Optional[bool] = None) -> Any:
        """As `max`: ``axis=`` gives the values, a `dim` gives ``(values, indices)``."""
        return _ops.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    @spellings
    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """numpy's ``ddof=0`` by default; PyTorch's ``correction=`` / ``unbiased=`` too."""
        return _ops.var(self, axis, keepdims, ddof)

    @spellings
    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """numpy's ``ddof=0`` by default; PyTorch's ``correction=`` / ``unbiased=`` too."""
        return _ops.std(self, axis, keepdims, ddof)

    @spellings
    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.logsumexp(self, axis, keepdims)

    @spellings
    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis)

    @spellings
    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis)

    @spellings
    def argmax(self, axis: Optional[int] = None, keepdims: bool = False) -> Tensor:
        return _ops.argmax(self, axis, keepdims)

    @spellings
    def argmin(self, axis: Optional[int] = None, keepdims: bool = False) -> Tensor:
        return _ops.argmin(self, axis, keepdims)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Tensor:
        """No axes: reverse them. Two axes: swap those two (as in PyTorch). All axes: permute."""
        return _ops.transpose(self, *axes)

    def permute(self, *axes: Any) -> Tensor:
        return _ops.permute(self, *axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _ops.swapaxes(self, axis1, axis2)

    @spellings
    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        return _ops.flatten(self, start_axis, end_axis)

    @spellings
    def squeeze(self, axis: Axis = None) -> Tensor:
        return _ops.squeeze(self, axis)

    @spellings
    def unsqueeze(self, axis: int) -> Tensor:
        return _ops.unsqueeze(self, axis)

    def expand(self, *shape: Any) -> Tensor:
        return _ops.expand(self, *shape)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _ops.broadcast_to(self, shape)

    def matmul(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    # ---------------------------------------------------------------- picking (layers)
    @spellings  # dim= as axis=
    def gather(self, axis: Optional[int] = None, index: Any = None) -> Tensor:
        return _ops.gather(self, axis, index)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return _ops.masked_fill(self, mask, value)

    # ---------------------------------------------------------------- porting: PyTorch names
    view = reshape

    def t(self) -> Tensor:
        """PyTorch's ``t()``: the transpose of a matrix (a 0-D or 1-D tensor is returned as is)."""
        if self.data.ndim > 2:
            raise ValueError(f"t: expects a tensor of at most 2 dims, got shape {self.shape}; "
                             "use transpose(dim0, dim1) or permute(*dims)")
        return _ops.transpose(self)

    def numel(self) -> int:
        """The number of elements (numpy's ``size``)."""
        return self.data.size

    def dim(self) -> int:
        """The number of axes (``ndim``)."""
        return self.data.ndim

    def clone(self) -> Tensor:
        """A copy with its own data that stays in the graph (gradient flows through)."""
        return _ops.clone(self)

    def long(self) -> Tensor:
        """Cast to int64 (class labels, indices); no gradient."""
        return _ops.astype(self, np.int64)

    @spellings
    def cumsum(self, axis: Optional[int] = None) -> Tensor:
        return _ops.cumsum(self, axis)

    @spellings
    def sort(self, axis: int = -1, descending: bool = False) -> Any:
        """``(values, indices)`` sorted along `axis` (see `tensorgrad.sort`)."""
        return _ops.sort(self, axis, descending)

    @spellings
    def topk(self, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """``(values, indices)`` of the k largest (or smallest) along `axis`."""
        return _ops.topk(self, k, axis, largest, sorted)

    def repeat(self, *sizes: Any) -> Tensor:
        """PyTorch's ``repeat``: tile the tensor `sizes[i]` times along axis i."""
        return _ops.shape.repeat(self, *sizes)

    # ---------------------------------------------------------------- convops: padding
    def pad(self, pad_width: Any, value: builtins.float = 0.0) -> Tensor:
        """Constant padding with numpy's ``pad_width`` (see `tensorgrad.pad`)."""
        return _ops.pad(self, pad_width, value)


_new = object.__new__


class Size(int):
    """A tensor's element count (numpy's ``x.size``: compares and computes as that int) that
    also answers PyTorch's ``x.size()`` (the shape) and ``x.size(d)`` (the length of axis d)."""

    shape: tuple

    def __new__(cls, n: int, shape: tuple) -> Size:
        self = super().__new__(cls, n)
        self.shape = shape
        return self

    def __call__(self, dim: Optional[int] = None) -> Any:
        if dim is None:
            return self.shape
        n = len(self.shape)
        if not isinstance(dim, (int, np.integer)) or not -n <= dim < n:
            raise IndexError(f"size: dim {dim!r} is out of range for a tensor of shape "
                             f"{self.shape} ({n} dims)")
        return self.shape[dim]

    def __repr__(self) -> str:
        return int.__repr__(self)

    def __reduce__(self) -> Any:  # pickles (and copies) as the plain int
        return (int, (int(self),))


def init_slots(t: Tensor, data: np.ndarray, requires_grad: bool, op: Any = None,
               inputs: Optional[tuple] = None, params: Optional[dict] = None) -> None:
    """Every slot of a new Tensor, in one place (``Tensor.__init__``, ``_const``, `record`):
    `data`, no gradient yet, and its graph link (none for a leaf)."""
    t.data = data
    t.grad = None
    t.requires_grad = requires_grad
    t._op = op
    t._inputs = inputs
    t._params = params
    # Left unset until they mean something: _seq (set by record) and _prev (by an in-place
    # op, see autograd/versions.py; read with getattr(t, "_prev", None)).


def _const(data: np.ndarray) -> Tensor:
    """A Tensor around `data` (no copy) that needs no gradient: the cheap internal constructor."""
    t = _new(Tensor)
    init_slots(t, data, False)
    return t


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Make a leaf Tensor (same arguments as ``Tensor``); the data is copied."""
    if type(data) is np.ndarray and dtype is None and not requires_grad and \
            data.dtype.kind in "fiub":  # a training loop's batch: what Tensor() does, sooner
        t = _new(Tensor)
        init_slots(t, np.array(data), False)
        return t
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(data: Any, name: str = "tensor", what: str = "data") -> Tensor:
    """`data` itself when it is a Tensor, else a constant Tensor (numpy arrays are not copied).
    `name` and `what`: the op asking and its argument, named when `data` is not numbers."""
    if isinstance(data, Tensor):
        return data
    return _const(dtypes.to_array(data, copy=False, name=name, what=what))


def operand(value: Any, like: Tensor, name: str = "tensor") -> Tensor:
    """The other operand of binary op `name` as a Tensor.

    Python numbers are "weak", as in PyTorch: they take the tensor's dtype (2.0 * float32 ->
    float32), except that a float with an integer/bool tensor gives the default float dtype.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (float, int, np.floating, np.integer, np.bool_)):
        key = (type(value), value, like.data.dtype)
        t = _scalars.get(key)
        if t is None:
            t = _scalar(value, like.data.dtype.kind, like.data.dtype)
            if len(_scalars) > 4096:  # the cache only has to hold a program's few constants
                _scalars.clear()
            _scalars[key] = t
        return t
    return _const(dtypes.to_array(value, copy=False, name=name, what=lambda: (
        f"the operand combined with a {like.data.dtype} tensor of shape {like.data.shape}")))


# Constant tensors for Python numbers, by (type, value, dtype of the other operand): chains like
# `y * 1.0 + 0.0` would otherwise build a 0-d array per op. They are never written to.
_scalars: dict = {}


def _scalar(value: Any, kind: str, like: np.dtype) -> Tensor:
    if isinstance(value, (float, np.floating)):
        dtype = like if kind == "f" else dtypes.get_default_dtype()
    elif isinstance(value, (bool, np.bool_)):
        dtype = like
    else:
        dtype = like if kind in "fiu" else np.dtype(np.int64)
    # numpy itself: while tg.compile traces, this module's `np` records, and a recording array
    # kept in the cache would carry one trace's variable into the next.
    arr = _numpy.asarray(value, dtype=dtype)
    arr.flags.writeable = False
    return _const(arr)


_numpy = np


# The package's one late-bound import edge. The layers are: dtypes and grad mode; this module
# (Tensor and its constructors, importing nothing above it); autograd.op (Op, record), the
# engine, custom Functions and gradcheck, all importing Tensor from here; then tensorgrad.ops.
# Tensor's operators and methods, and backward()/retain_grad() (through ``ops.engine``), call
# upward into that last layer, which imports this module: so the name is bound here, after the
# class exists, and used only inside method bodies.
from . import ops as _ops  # noqa: E402

