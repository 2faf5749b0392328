"""Tracing at the numpy level: an ndarray subclass that records every numpy call made on it.

During a trace, the arrays inside every Tensor the step touches are `Traced` views. numpy hands
each ufunc call (operators, ``np.exp``, ``.sum`` ...) to ``__array_ufunc__`` and each other
numpy function (``np.where``, ``np.concatenate`` ...) to ``__array_function__``; the methods
that bypass both (``reshape``, ``.T``, indexing, ``astype`` ...) are overridden here. Each call
runs for real on plain arrays (the traced call *is* the eager step) and is appended to a flat
list of `Stmt`: forward ops, every gradient rule, the engine's unbroadcast sums and
accumulations alike, without a second copy of any rule.

Three things are not numpy calls on traced arrays and get their own hooks, all installed only
while a trace runs (`Trace.activate`) and removed after:

* the ``data`` / ``grad`` slots of Tensors: a read of a Tensor that existed before the trace
  (a parameter, a buffer, an input) becomes a read of that slot at call time, and a write to
  one (``p.grad = ...``, ``zero_grad``) a write at call time;
* ``np`` inside tensorgrad's modules: ``np.asarray`` / ``np.array`` / ``np.zeros`` ... do not
  dispatch to subclasses, so they are answered by a proxy that keeps arrays traced;
* a scheduler's ``step`` (and an optimizer's, unless `updates` writes it out): called as they
  are at replay (they read the learning rate, step counts and momentum buffers then), so
  hyperparameters are never baked in.
"""
from __future__ import annotations

import os
import sys
import types
import weakref
from typing import Any, Callable, Optional

import numpy as np

from . import updates as _updates

_view = np.ndarray.view
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NOT_LIBRARY = os.path.join(_PKG, "examples") + os.sep  # user code, though in the package

ACTIVE: Optional[Trace] = None  # the trace being recorded, if any


class Var:
    """One array value of the traced program."""

    __slots__ = ("id", "shape", "dtype", "kind", "hint", "value", "fresh", "base", "src", "dep",
                 "ref")

    def __init__(self, id: int, value: np.ndarray, kind: str, hint: str = "") -> None:
        self.id = id
        self.value: Any = value  # the eager value (dropped once the trace is compiled)
        self.ref: Any = None  # instead of `value`, for arrays the trace need not keep alive
        self.shape = value.shape
        self.dtype = value.dtype
        self.kind = kind  # "op" | "input" | "const" | "arg"
        self.hint = hint  # a name suggestion for the generated source
        self.fresh = False  # a new array an out= buffer can hold (not a view, not a scalar)
        self.base: Optional[Var] = None  # the var whose memory this one views
        self.src: Any = None  # input: (object index, slot); const: the array; arg: position
        # Computed from state the replay reads afresh (parameters, buffers, random draws):
        # library code may not turn such a value into a Python number during a trace.
        self.dep = kind == "input"


    def get(self) -> Any:
        """The eager value, while something still holds it."""
        return self.value if self.ref is None else self.ref()

    def let_go(self) -> None:
        """Hold the value weakly: the trace keeps no more memory alive than eager does."""
        if self.value is not None:
            self.ref = weakref.ref(self.value)
            self.value = None


class Stmt:
    """One call: ``outs = fn(*args, **kwargs)``; `writes` are vars it modifies in place."""

    __slots__ = ("kind", "fn", "args", "kwargs", "outs", "writes", "name", "line", "uses",
                 "sized_by_values")

    def __init__(self, kind: str, fn: Any, args: Any, kwargs: Any, outs: list, writes: list,
                 name: str = "") -> None:
        self.kind = kind  # "ufunc" | "reduce" | "func" | "method" | "setitem" | "host" | ...
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.outs = outs
        self.writes = writes
        self.name = name
        self.line = ""
        self.uses: Optional[list] = None  # the vars in args and kwargs (codegen, cached)
        # The size of its result depends on the values of its inputs (x[mask], nonzero): the
        # replay checks the shapes it gets against the traced ones.
        self.sized_by_values = False


class Traced(np.ndarray):
    """An array whose numpy calls are recorded into the active trace (see module docstring)."""

    _v: Optional[Var] = None

    def __array_finalize__(self, obj: Any) -> None:
        self._v = None

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # An operand that overrides ufuncs itself (a Tensor: ``array * tensor``) takes the
        # call, and sees this array still recorded (unwrapped here, it would be a constant).
        if any(_other_override(x) for x in inputs):
            return NotImplemented
        return _ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        if any(not issubclass(t, np.ndarray) for t in types_):
            return NotImplemented
        return _call("func", func, args, kwargs, func.__name__)

    # -- methods that reach neither hook
    def __getitem__(self, idx: Any) -> Any:
        return _call("getitem", None, (self, idx), {}, "getitem")

    def __setitem__(self, idx: Any, value: Any) -> None:
        _call("setitem", None, (self, idx, value), {}, "setitem", write=self)

    @property
    def T(self) -> Any:  # type: ignore[override]
        return _call("method", "transpose", (self,), {}, "T")

    # -- reading a value into Python: the step would branch on data the replay never sees
    def __bool__(self) -> bool:
        return bool(_value_read(self, "bool()"))

    def __float__(self) -> float:
        return float(_value_read(self, "float()"))

    def __int__(self) -> int:
        return int(_value_read(self, "int()"))

    def __index__(self) -> int:
        return int(_value_read(self, "an index").__index__())

    def item(self, *args: Any) -> Any:
        return _value_read(self, ".item()").item(*args)

    def tolist(self) -> Any:
        return _value_read(self, ".tolist()").tolist()

    def __repr__(self) -> str:
        return "Traced(" + repr(_view(self, np.ndarray)) + ")"

    __str__ = __repr__


def _other_override(x: Any) -> bool:
    """`x` overrides numpy's ufuncs and is not an array (a Tensor)."""
    t = type(x)
    return not issubclass(t, np.ndarray) and getattr(t, "__array_ufunc__", None) is not None \
        and t not in (int, float, bool, complex)


def _method(name: str, write: bool = False) -> Callable[..., Any]:
    def m(self: Traced, *args: Any, **kwargs: Any) -> Any:
        return _call("method", name, (self, *args), kwargs, name, write=self if write else None)

    m.__name__ = name
    return m


for _name in ("reshape", "transpose", "astype", "copy", "ravel", "flatten", "squeeze",
              "swapaxes", "argmax", "argmin", "argsort", "dot", "repeat", "take", "nonzero",
              "cumsum", "cumprod", "diagonal", "round", "view", "searchsorted", "compress",
              "choose", "conj", "trace", "partition", "argpartition", "ptp"):
    setattr(Traced, _name, _method(_name))
for _name in ("fill", "sort", "put", "resize", "itemset"):
    setattr(Traced, _name, _method(_name, write=True))


def plain(a: Any) -> Any:
    """The ndarray behind a Traced (or `a` itself)."""
    if isinstance(a, Traced):
        return _view(a, np.ndarray)
    return a


# ----------------------------------------------------------------------------- recording
class Trace:
    """The statements of one traced call and the objects they refer to."""

    def __init__(self) -> None:
        self.vars: list[Var] = []
        self.stmts: list[Stmt] = []
        self.objects: list[Any] = []  # Tensors, optimizers... the generated code refers to
        self.object_names: list[str] = []
        self._obj_index: dict[int, int] = {}
        self.slot_vars: dict[tuple[int, str], Var] = {}  # (object index, slot) -> current var
        self.reads: dict[tuple[int, str], tuple] = {}  # guards: first read of each slot
        self.internal: set = set()  # ids of Tensors created during the trace
        self.opaque = 0  # > 0 inside an optimizer/scheduler step (runs as itself at replay)
        self.names: dict[int, str] = {}  # id(Tensor) -> readable name (parameters)
        self.modules: list[Any] = []  # modules called, for the training-flag guard
        self.entry_modes: list[tuple] = []  # (module, its training flag when first called)
        self.mode_set: set = set()  # ids of modules whose mode the step sets itself
        self._module_ids: set = set()
        self.in_backward = 0
        self.backward_ran = False
        self.plain: list[tuple] = []  # (const var, line) for plain arrays (`made_during`)
        self.module_named: set = set()
        self.literal: set = set()  # ids of vars computed from Python values alone
        self.undo: list[Callable[[], None]] = []
        self.extra_guards: list[str] = []  # conditions of generated optimizer updates

    # -- vars
    def new_var(self, value: Any, kind: str = "op", hint: str = "") -> Var:
        v = Var(len(self.vars), value, kind, hint)
        self.vars.append(v)
        return v

    def traced(self, value: np.ndarray, var: Var) -> Traced:
        t = value.view(Traced)
        t._v = var
        return t

    def obj(self, o: Any, name: str) -> int:
        k = self._obj_index.get(id(o))
        if k is None:
            k = self._obj_index[id(o)] = len(self.objects)
            self.objects.append(o)
            self.object_names.append(name)
        return k

    def ref(self, a: Any) -> Any:
        """What a call argument becomes in a statement: a Var for arrays, else the value."""
        if isinstance(a, Traced):
            v = a._v
            if v is None:  # a view numpy made without asking us (e.g. through .flat)
                raise RuntimeError("tg.compile: an array view escaped the trace (operation "
                                   f"not supported while tracing) at {user_line()}")
            if v.id >= len(self.vars) or self.vars[v.id] is not v:
                raise RuntimeError(
                    "tg.compile: an array recorded while tracing another call (kept in a "
                    f"global or a cache, say) is used at {user_line()}; its value is not "
                    "this call's. Keep only values returned by the compiled function.")
            return v
        if isinstance(a, np.ndarray):
            b = a.base
            while b is not None:
                if isinstance(b, Traced):
                    raise RuntimeError(
                        "tg.compile: a traced array was turned into a plain numpy array (e.g. "
                        f"np.asarray(t.data)) at {user_line()}; its values would be frozen in "
                        "the compiled step. Use tensor operations inside the compiled function.")
                b = getattr(b, "base", None)
            v = self.new_var(a, "const", "c")
            v.src = a
            self.plain.append((v, user_line()))
            return v
        if isinstance(a, (list, tuple)):
            return type(a)(self.ref(x) for x in a) if type(a) in (list, tuple) else a
        if isinstance(a, dict):
            return {k: self.ref(x) for k, x in a.items()}
        if isinstance(a, np.generic):
            return a
        return a

    def add(self, stmt: Stmt) -> None:
        self.stmts.append(stmt)

    # -- hooks
    def activate(self) -> None:
        global ACTIVE
        ACTIVE = self
        try:
            _install(self)
        except BaseException:
            self.deactivate()
            raise

    def deactivate(self) -> None:
        global ACTIVE
        ACTIVE = None
        while self.undo:
            self.undo.pop()()


def made_during(tr: Trace) -> list[str]:
    """Where the user's code made the plain-array constants that nothing but the trace holds
    once `fn` has returned: arrays `fn` made itself (not a global, an attribute or a cache),
    which the replay reuses as they were: right for ``np.zeros(3)``, stale for draws from a
    generator of the user's own."""
    out = []
    for v, line in tr.plain:
        a = v.src
        # the trace's own references (v.src, v.value), `a`, and getrefcount's argument
        if a is not None and sys.getrefcount(a) <= 3 + (v.value is a) and line not in out:
            out.append(line)
        del a
    return out


def _unwrap(x: Any) -> Any:
    if isinstance(x, Traced):
        return _view(x, np.ndarray)
    if type(x) in (list, tuple):
        return type(x)(_unwrap(y) for y in x)
    if type(x) is dict:
        return {k: _unwrap(y) for k, y in x.items()}
    return x


def _has_traced(x: Any) -> bool:
    if isinstance(x, Traced):
        return True
    if type(x) in (list, tuple):
        return any(_has_traced(y) for y in x)
    if type(x) is dict:
        return any(_has_traced(y) for y in x.values())
    return False


def _wrap(tr: Trace, result: Any, stmt: Stmt, inputs: list) -> Any:
    """Make each array in `result` a Traced with a new var; note views of inputs."""
    if isinstance(result, tuple):
        return tuple(_wrap(tr, r, stmt, inputs) for r in result)
    if isinstance(result, np.generic):
        result = np.asarray(result)
    if not isinstance(result, np.ndarray) or result.dtype.kind not in "biufc?":
        stmt.outs.append(None)
        return result
    v = tr.new_var(result, "op", stmt.name)
    v.dep = stmt.kind == "random" or any(iv.dep for iv in inputs)
    for iv in inputs:
        val = iv.get()
        if val is not None and val.size and np.may_share_memory(result, val):
            v.base = iv
            break
    # Values computed from Python literals alone may be folded into constants by codegen;
    # every other one is held weakly.
    if stmt.kind == "create" or (inputs and all(i.id in tr.literal for i in inputs)):
        tr.literal.add(v.id)
    else:
        v.let_go()
    v.fresh = v.base is None and result.ndim > 0 and result.flags.c_contiguous
    if tr.in_backward:
        v.hint = "g"
    stmt.outs.append(v)
    return tr.traced(result, v)


def _vars_in(x: Any, acc: list) -> list:
    """Append every Var inside `x` (nested lists, tuples, dict values, slice bounds) to acc."""
    if isinstance(x, Var):
        acc.append(x)
    elif type(x) in (list, tuple):
        for y in x:
            _vars_in(y, acc)
    elif type(x) is dict:
        for y in x.values():
            _vars_in(y, acc)
    elif isinstance(x, slice):
        _vars_in((x.start, x.stop, x.step), acc)
    return acc


def _ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    tr = ACTIVE
    out = kwargs.get("out")
    if tr is None or tr.opaque:
        res = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return res
    args = tr.ref(inputs)
    kw = tr.ref(kwargs)
    writes = _vars_in(kw.get("out"), []) if out is not None else []
    if method == "at":
        writes = _vars_in(args[0], [])
    kind = "ufunc" if method == "__call__" else method
    stmt = Stmt(kind, ufunc, args, kw, [], writes, ufunc.__name__)
    res = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
    tr.add(stmt)
    if method == "at":
        return None
    if out is not None:
        stmt.outs = [None] * len(out)
        _taint(writes, _vars_in(args, []))
        return out[0] if len(out) == 1 else out
    return _wrap(tr, res, stmt, _vars_in(args, []))


def _call(kind: str, fn: Any, args: tuple, kwargs: dict, name: str, write: Any = None) -> Any:
    tr = ACTIVE
    if tr is None or tr.opaque:
        return _run(kind, fn, _unwrap(args), _unwrap(kwargs))
    a = tr.ref(args)
    kw = tr.ref(kwargs)
    writes = [write._v] if write is not None and write._v is not None else []
    if kind == "func" and "out" in kwargs and kwargs["out"] is not None:
        writes += _vars_in(kw["out"], [])
    stmt = Stmt(kind, fn, a, kw, [], writes, name)
    res = _run(kind, fn, _unwrap(args), _unwrap(kwargs))
    tr.add(stmt)
    stmt.sized_by_values = _sized_by_values(tr, kind, fn, a, kw)
    _taint(writes, _vars_in(a, []))
    if writes and (kind == "setitem" or res is None):
        return res
    if writes and kind == "func":
        return kwargs["out"]
    return _wrap(tr, res, stmt, _vars_in(a, []))


# numpy functions (and methods) whose result's size depends on their input's values
_VALUE_SIZED = {np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.compress, np.extract,
                np.trim_zeros}


def _sized_by_values(tr: Trace, kind: str, fn: Any, args: Any, kwargs: Any) -> bool:
    def varying(x: Any) -> bool:
        return isinstance(x, Var) and x.id not in tr.literal

    if kind == "getitem":  # a boolean mask that can change from call to call
        idx = args[1] if isinstance(args[1], tuple) else (args[1],)
        return any(varying(i) and i.dtype == np.bool_ for i in idx)
    if kind == "func":
        if fn in _VALUE_SIZED or (fn is np.where and len(args) == 1 and not kwargs):
            return True
        if fn is np.repeat:
            reps = args[1] if len(args) > 1 else kwargs.get("repeats")
            return varying(reps) and reps.shape != ()
    if kind == "method":
        if fn in ("nonzero", "compress"):
            return True
        if fn == "repeat":
            return len(args) > 1 and varying(args[1]) and args[1].shape != ()
    return False


def _taint(writes: list, inputs: list) -> None:
    if any(i.dep for i in inputs):
        for w in writes:
            while w is not None:
                w.dep = True
                w = w.base


def _run(kind: str, fn: Any, args: Any, kwargs: Any) -> Any:
    if kind == "func":
        return fn(*args, **kwargs)
    if kind == "getitem":
        return args[0][args[1]]
    if kind == "setitem":
        args[0][args[1]] = args[2]
        return None
    if kind == "method":
        return getattr(args[0], fn)(*args[1:], **kwargs)
    if kind == "create":
        return fn(*args, **kwargs)
    raise AssertionError(kind)


# ------------------------------------------------------------------- value-dependent reads
def user_line() -> str:
    """file:line (and the code) of the innermost frame outside the library."""
    f: Any = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_PKG + os.sep) or fn.startswith(_NOT_LIBRARY):
            if "numpy" + os.sep not in fn:
                break
        f = f.f_back
    if f is None:
        return "<unknown>"
    import linecache

    code = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{f.f_code.co_filename}:{f.f_lineno}" + (f" ({code})" if code else "")


_PASS_THROUGH = {"__bool__", "__float__", "__int__", "__index__", "item", "tolist", "__len__",
                 "__format__", "__repr__", "_value_read"}


def _value_read(a: Traced, what: str) -> np.ndarray:
    """The value of `a` for library code: a test (``bool()``) of a value that can change
    from call to call (class targets in range, probabilities in [0, 1]) is recorded as a
    check the replay makes again, so that bad input fails there as it fails eagerly; other
    reads are for values that cannot change. A RuntimeError for the user's own code, whose
    control flow would be frozen, and for library code turning a value computed from
    parameters into a Python number."""
    v = _view(a, np.ndarray)
    tr = ACTIVE
    if tr is None or tr.opaque:
        return v
    f: Any = sys._getframe(1)
    while f is not None and (f.f_code.co_name in _PASS_THROUGH or "numpy" + os.sep in
                             f.f_code.co_filename):
        f = f.f_back
    fn = os.path.abspath(f.f_code.co_filename) if f is not None else ""
    var = a._v
    if fn.startswith(_PKG + os.sep) and not fn.startswith(_NOT_LIBRARY):
        if var is not None and var.id not in tr.literal and (what == "bool()" or not var.dep):
            # a test, or a number read from the arguments (the class count of one_hot, say):
            # made again at replay, which raises if it comes out otherwise
            where = f"{f.f_code.co_name} ({os.path.relpath(fn, _PKG)}:{f.f_lineno})"
            tr.add(Stmt("check", None, (var, what, _python_value(v, what), where), {}, [], [],
                        "check"))
            return v
        if not (var is not None and var.dep):
            return v
    raise RuntimeError(
        f"tg.compile: {what} of a tensor inside the compiled function at {user_line()}: the "
        "compiled step cannot depend on tensor values (it replays the same operations every "
        "call). Return the tensor and convert it outside the compiled function, or do not "
        "compile this function.")


def _python_value(v: np.ndarray, what: str) -> Any:
    """What `what` (``bool()``, ``int()`` ...) makes of array `v`: the value a check compares."""
    if what == "bool()":
        return bool(v)
    if what in ("int()", "an index"):
        return int(v)
    if what == "float()":
        return float(v)
    return v.tolist()  # .item() and .tolist(): the whole array


# ---------------------------------------------------------------------------- numpy proxy
class _NumpyProxy(types.ModuleType):
    """``np`` for tensorgrad's modules during a trace: the calls that do not dispatch to
    array subclasses keep traced arrays traced; every other name is numpy's own."""

    def __init__(self) -> None:
        super().__init__("numpy")

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


_CREATE = ("zeros", "ones", "empty", "full", "eye", "arange", "identity", "linspace")


def _make_proxy() -> _NumpyProxy:
    p = _NumpyProxy()

    def asarray(a: Any, dtype: Any = None, order: Any = None, **kw: Any) -> Any:
        if isinstance(a, Traced) and ACTIVE is not None and not ACTIVE.opaque:
            if dtype is None or np.dtype(dtype) == a.dtype:
                return a
            return a.astype(dtype)
        if _has_traced(a) and ACTIVE is not None and not ACTIVE.opaque:
            return _call("func", np.asarray, (a,), {"dtype": dtype} if dtype else {}, "asarray")
        return _create(np.asarray, (a,), dict(kw, dtype=dtype) if dtype is not None else kw)

    def array(a: Any, dtype: Any = None, copy: bool = True, **kw: Any) -> Any:
        if ACTIVE is None or ACTIVE.opaque:
            return np.array(_unwrap(a), dtype=dtype, copy=copy, **kw)
        if isinstance(a, Traced):
            if not copy and (dtype is None or np.dtype(dtype) == a.dtype):
                return a
            return a.astype(dtype if dtype is not None else a.dtype)  # a copy
        if _has_traced(a):
            return _call("func", np.array, (a,), {"dtype": dtype}, "array")
        return _create(np.array, (a,), dict(kw, dtype=dtype, copy=copy))

    p.asarray = asarray  # type: ignore[attr-defined]
    p.asanyarray = asarray  # type: ignore[attr-defined]
    p.array = array  # type: ignore[attr-defined]

    def ascontiguousarray(a: Any, dtype: Any = None) -> Any:
        if isinstance(a, Traced):
            return _call("func", np.ascontiguousarray, (a,), {"dtype": dtype}, "contiguous")
        return asarray(a, dtype)

    p.ascontiguousarray = ascontiguousarray  # type: ignore[attr-defined]
    for name in _CREATE:
        setattr(p, name, _creator(getattr(np, name)))
    p.random = _RandomProxy()  # type: ignore[attr-defined]
    return p


def _creator(fn: Any) -> Callable[..., Any]:
    return lambda *a, **k: _create(fn, a, k)


def _create(fn: Any, args: tuple, kwargs: dict) -> Any:
    """A new array from Python values: recorded, so the replay makes its own each call."""
    tr = ACTIVE
    if tr is None or tr.opaque:
        return fn(*_unwrap(args), **_unwrap(kwargs))
    if _has_traced(args) or _has_traced(kwargs):
        return _call("func", fn, args, kwargs, fn.__name__)
    stmt = Stmt("create", fn, tr.ref(args), tr.ref(kwargs), [], [], "k")
    res = fn(*args, **kwargs)
    if not isinstance(res, np.ndarray):
        return res
    tr.add(stmt)
    return _wrap(tr, res, stmt, [])


class _RandomProxy(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("numpy.random")

    def __getattr__(self, name: str) -> Any:
        fn = getattr(np.random, name)
        if ACTIVE is None or not callable(fn) or name in ("default_rng", "Generator", "seed",
                                                          "get_state", "set_state"):
            return fn
        return lambda *a, **k: _random(("np.random", name), fn, a, k)


# The functions of numpy's legacy global generator that return new arrays of draws.
_NUMPY_DRAWS = ("rand", "randn", "random", "random_sample", "ranf", "sample", "randint",
                "normal", "uniform", "standard_normal", "choice", "permutation", "binomial",
                "poisson", "exponential", "beta", "gamma", "laplace", "logistic", "lognormal",
                "standard_exponential", "standard_gamma", "standard_t", "multinomial",
                "geometric", "bernoulli")


def _drawing(name: str, real: Any) -> Callable[..., Any]:
    def draw(*a: Any, **k: Any) -> Any:
        return _random(("np.random", name), real, a, k)
    draw.__name__ = name
    return draw


class TracingGenerator:
    """Stands in for tensorgrad's global generator during a trace: each draw is a statement
    that, at replay, draws from whatever the global generator is then (fresh numbers)."""

    def __init__(self, real: np.random.Generator) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self.real, name)
        if not callable(fn) or name.startswith("_") or name in ("bit_generator", "spawn"):
            return fn
        return lambda *a, **k: _random(("tg.rng", name), fn, a, k)


def _random(source: tuple, fn: Any, args: tuple, kwargs: dict) -> Any:
    tr = ACTIVE
    if tr is None or tr.opaque:
        return fn(*_unwrap(args), **_unwrap(kwargs))
    stmt = Stmt("random", source, tr.ref(args), tr.ref(kwargs), [], [], "rand")
    res = fn(*_unwrap(args), **_unwrap(kwargs))
    tr.add(stmt)
    return _wrap(tr, res, stmt, _vars_in(stmt.args, []))


# -------------------------------------------------------------------------- Tensor slots
def _install(tr: Trace) -> None:
    from .. import random as tgrandom
    from ..autograd import engine
    from ..autograd.op import Op
    from ..nn.module import Module
    from ..optim import lr_scheduler
    from ..optim.optimizer import Optimizer
    from ..tensor import Tensor

    def patch(owner: Any, name: str, value: Any) -> None:
        old = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, value)
        tr.undo.append(lambda: setattr(owner, name, old))

    # np inside tensorgrad's modules
    proxy = _make_proxy()
    for modname, mod in list(sys.modules.items()):
        if (modname == "tensorgrad" or modname.startswith("tensorgrad.")) and \
                not modname.startswith("tensorgrad.compile") and \
                getattr(mod, "np", None) is np:
            patch(mod, "np", proxy)

    # the global generator
    real_rng = tgrandom._rng
    tgrandom._rng = TracingGenerator(real_rng)  # type: ignore[assignment]

    def restore_rng() -> None:
        if isinstance(tgrandom._rng, TracingGenerator):
            tgrandom._rng = tgrandom._rng.real
    tr.undo.append(restore_rng)

    # numpy's global generator, called from the user's code (noise added to a batch): each
    # draw is recorded, so that the replay draws fresh numbers instead of reusing these
    for name in _NUMPY_DRAWS:
        real = getattr(np.random, name, None)
        if callable(real):
            patch(np.random, name, _drawing(name, real))

    # Tensor.data / Tensor.grad
    data_slot = Tensor.__dict__["data"]
    grad_slot = Tensor.__dict__["grad"]
    slots = {"data": data_slot, "grad": grad_slot}

    def external(t: Any) -> Optional[int]:
        """The object index of `t` if it existed before the trace, else None."""
        k = id(t)
        if k in tr.internal:
            return None
        idx = tr._obj_index.get(k)
        if idx is not None:
            return idx
        try:
            d = data_slot.__get__(t, Tensor)
        except AttributeError:
            tr.internal.add(k)
            return None
        if isinstance(d, Traced):
            tr.internal.add(k)
            return None
        return tr.obj(t, "p_" + tr.names[k] if k in tr.names else "tensor")

    def getter(name: str) -> Any:
        slot = slots[name]

        def get(t: Any) -> Any:
            value = slot.__get__(t, Tensor)
            if tr.opaque:
                return _view(value, np.ndarray) if isinstance(value, Traced) else value
            if isinstance(value, Traced) or value is None or not isinstance(value, np.ndarray):
                if value is None and name == "grad":
                    k = external(t)
                    if k is not None and (k, "grad") not in tr.reads:
                        tr.reads[(k, "grad")] = (None,)
                return value
            k = external(t)
            if k is None:
                return value
            tr.reads.setdefault((k, name), (value.shape, value.dtype))
            base = tr.names.get(id(t)) or f"t{k}"
            v = tr.new_var(value, "input", base if name == "data" else "d_" + base)
            v.src = (k, name)
            traced = tr.traced(value, v)
            tr.add(Stmt("read", None, (k, name), {}, [v], [], "read"))
            slot.__set__(t, traced)
            tr.slot_vars[(k, name)] = v
            return traced
        return get

    def setter(name: str) -> Any:
        slot = slots[name]

        def set_(t: Any, value: Any) -> None:
            if tr.opaque:
                k = tr._obj_index.get(id(t))
                if k is not None:
                    tr.slot_vars.pop((k, name), None)
                slot.__set__(t, value)
                return
            k = external(t)
            if k is not None:
                if (k, name) not in tr.reads:  # written before read: nothing to guard
                    tr.reads[(k, name)] = ("written",)
                if value is not None and not isinstance(value, Traced):
                    v = tr.ref(value)
                else:
                    v = value._v if value is not None else None
                if v is not None and name == "grad":
                    base = tr.names.get(id(t)) or f"t{k}"
                    if not v.hint.startswith("d_"):
                        v.hint = "d_" + base
                tr.add(Stmt("host", "setslot", (k, name, v), {}, [], [], "set"))
                if v is not None:
                    tr.slot_vars[(k, name)] = v
                else:
                    tr.slot_vars.pop((k, name), None)
            slot.__set__(t, value)
        return set_

    for name in ("data", "grad"):
        patch(Tensor, name, property(getter(name), setter(name)))

    # optimizer and scheduler steps run as themselves, at replay too
    def opaque(cls: type, label: str) -> None:
        real = cls.__dict__["step"]

        def step(self: Any, *args: Any, **kwargs: Any) -> Any:
            if args or kwargs:
                raise RuntimeError(f"tg.compile: {type(self).__name__}.step with arguments "
                                   f"(a closure?) is not supported at {user_line()}")
            k = tr.obj(self, label)
            written = _updates.plan(tr, self, k) if label == "opt" else None
            if written is not None:  # SGD/Adam/AdamW: the update becomes numpy statements
                tr.add(Stmt("host", "optstep", written, {}, [], [], "step"))
                tr.extra_guards += _updates.guards(tr, self, k)
            else:
                tr.add(Stmt("host", "call", (k, "step"), {}, [], [], "step"))
            tr.opaque += 1
            try:
                return real(self)
            finally:
                tr.opaque -= 1
        patch(cls, "step", step)

    def classes(base: type) -> list:
        out: list[type] = [base]
        todo: list[type] = [base]
        while todo:
            subs: list[type] = todo.pop().__subclasses__()
            for sub in subs:
                out.append(sub)
                todo.append(sub)
        return [c for c in out if "step" in c.__dict__]

    for c in classes(Optimizer):
        opaque(c, "opt")
    for c in classes(lr_scheduler.LRScheduler) if hasattr(lr_scheduler, "LRScheduler") else []:
        opaque(c, "sched")

    # clip_grad_norm_ decides in Python whether to scale: it runs as itself at replay too
    import importlib

    try:
        nn_utils = importlib.import_module("tensorgrad.nn.utils")
    except ImportError:
        nn_utils = None
    if nn_utils is not None and hasattr(nn_utils, "clip_grad_norm_"):
        real_clip = nn_utils.clip_grad_norm_

        def clip_grad_norm_(*args: Any, **kwargs: Any) -> Any:
            if tr.opaque:
                return real_clip(*args, **kwargs)
            if args and not isinstance(args[0], (Tensor, list, tuple)):
                args = (list(args[0]), *args[1:])  # model.parameters() is used up once
            f = tr.obj(real_clip, "clip_grad_norm_")
            a = tr.obj((args, kwargs), "clip_args")
            tr.opaque += 1
            try:
                out = real_clip(*args, **kwargs)
            finally:
                tr.opaque -= 1
            d = data_slot.__get__(out, Tensor)
            v = tr.new_var(d, "op", "grad_norm")
            v.dep = True
            tr.add(Stmt("host", "callfn", (f, a), {}, [v], [], "clip"))
            tr.internal.add(id(out))
            data_slot.__set__(out, tr.traced(d, v))
            return out
        patch(nn_utils, "clip_grad_norm_", clip_grad_norm_)

    # modules: training flags for the guard, names for the source
    real_call = Module.__dict__["__call__"]
    real_train = Module.__dict__["train"]

    def train(self: Any, mode: bool = True) -> Any:
        # model.eval() / model.train() inside the step: made again at replay, so the modules
        # end the call in the mode eager leaves them in; the flags they set need no guard
        if not tr.opaque:
            k = tr.obj(self, "m_" + tr.names.get(id(self), "module"))
            tr.add(Stmt("host", "call", (k, "train" if mode else "eval"), {}, [], [], "mode"))
            for m in self.modules():
                tr.mode_set.add(id(m))
        return real_train(self, mode)
    patch(Module, "train", train)

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        if id(self) not in tr._module_ids:
            tr._module_ids.add(id(self))
            tr.modules.append(self)
            if id(self) not in tr.mode_set:  # the mode the program assumes on entry
                tr.entry_modes.append((self, bool(self.training)))
        out = real_call(self, *args, **kwargs)
        name = tr.names.get(id(self))
        if name and hasattr(out, "_op"):
            d = slots["data"].__get__(out, Tensor)
            v = d._v if isinstance(d, Traced) else None
            if v is not None and v.kind == "op" and v.id not in tr.module_named:
                v.hint = name  # the innermost module's name: "model_0", not "model"
                tr.module_named.add(v.id)
        return out
    patch(Module, "__call__", call)

    # gradient names: the gradient flowing into a tensor is named after it
    def op_backward(cls: type) -> None:
        real = cls.__dict__["backward"]

        def backward(self: Any, g: Any, ans: Any, args: Any, params: Any, inputs: Any,
                     owned: bool = False) -> Any:
            first = len(tr.vars)
            results = real(self, g, ans, args, params, inputs, owned)
            for p, r in zip(inputs, results):
                if isinstance(r, Traced) and r._v is not None and r._v.id >= first:
                    d = slots["data"].__get__(p, Tensor)
                    if isinstance(d, Traced) and d._v is not None:
                        r._v.hint = "d_" + (d._v.hint or "t")
            return results
        patch(cls, "backward", backward)

    op_classes: list[type] = [Op, *Op.__subclasses__()]
    for cls in op_classes:
        if "backward" in cls.__dict__:
            op_backward(cls)

    real_run = engine.run_backward

    def run_backward(*a: Any, **k: Any) -> Any:
        tr.backward_ran = True
        tr.in_backward += 1
        try:
            return real_run(*a, **k)
        finally:
            tr.in_backward -= 1
    patch(engine, "run_backward", run_backward)
