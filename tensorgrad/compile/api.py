"""`tg.compile`: trace a step once per signature, then replay the numpy program it generated."""
from __future__ import annotations

import builtins
import functools
import inspect
import keyword
import types
import warnings
from typing import Any, Callable, Optional

import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor, _const
from . import trace as _trace
from .codegen import Program, generate
from .trace import Trace, Traced, Var, _view

# Traces kept per signature (and 8 times as many in all): past them, a step whose guards keep
# failing, or that is passed a new Python number at every call, runs eagerly.
RETRACE_LIMIT = 8


class Compiled:
    """A function compiled by `compile`: call it like the original.

    ``.source`` is the generated code of the most recently traced signature; ``.programs``
    holds every signature's program.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self._cache: dict[tuple, list[_Entry]] = {}
        self.programs: list[Program] = []
        self.source: Optional[str] = None
        # The entry of the signature called last, as one generated function that checks the
        # arguments and the guard, runs the program and wraps its results (or returns _MISS):
        # the usual training loop calls one signature over and over.
        self._eager_warned = False
        self._enter: Optional[Callable[..., Any]] = None
        self._enter_n = -1
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:  # step(x=batch): arrays passed by keyword are inputs too, by position
            args, kwargs = self._positional(args, kwargs)
        enter = self._enter
        if enter is not None and len(args) == self._enter_n and not kwargs:
            out = enter(*args)
            if out is not _MISS:
                return out
        arrays = []
        sig: list = []
        for a in args:
            if isinstance(a, Tensor):
                d = a.data
                arrays.append(d)
                sig.append((True, d.shape, d.dtype))
            elif isinstance(a, np.ndarray):
                arrays.append(a)
                sig.append((False, a.shape, a.dtype))
            else:
                sig.append((None, _hashable(a)))
        key = (tuple(sig), tuple(sorted((k, _hashable(v)) for k, v in kwargs.items()))
               if kwargs else (), grad_mode.is_grad_enabled())
        for entry in self._cache.get(key, ()):
            if entry.guard():
                self._enter, self._enter_n = entry.enter, len(args)
                return _build(entry.template, entry.fn(*arrays))
        if _trace.ACTIVE is not None:
            raise RuntimeError("tg.compile: a compiled function called inside another one "
                               "while it is traced; compile the outer one only")
        if len(self._cache.get(key, ())) >= RETRACE_LIMIT or \
                len(self.programs) >= RETRACE_LIMIT * 8:
            if not self._eager_warned:
                self._eager_warned = True
                warnings.warn(
                    f"tg.compile: {getattr(self.fn, '__name__', 'fn')} was traced "
                    f"{RETRACE_LIMIT} times for one signature, or {RETRACE_LIMIT * 8} in "
                    "all (a Python value it reads or is passed changes at every call?): "
                    "such calls run eagerly from now on", RuntimeWarning, stacklevel=2)
            return self.fn(*args, **kwargs)
        entry, result = self._trace(args, kwargs)
        self._cache.setdefault(key, []).append(entry)
        self._enter, self._enter_n = entry.enter, len(args)
        return result

    def _positional(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        try:
            bound = inspect.signature(self.fn).bind(*args, **kwargs)
        except (TypeError, ValueError):
            return args, kwargs  # no signature to bind to, or a bad call: fn will say
        return bound.args, bound.kwargs

    def _trace(self, args: tuple, kwargs: dict) -> tuple[_Entry, Any]:
        tr = Trace()
        _discover(tr, self.fn, args)
        traced_args: list = []
        arg_names: list[str] = []
        names = _arg_names(self.fn, len(args))
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad and grad_mode.is_grad_enabled():
                raise RuntimeError(
                    f"tg.compile: argument {names[i]!r} of {getattr(self.fn, '__name__', 'fn')} "
                    f"(shape {a.shape}, {a.dtype}) requires grad: a compiled step does not set "
                    "the .grad of its arguments. Pass x.detach() (or data without "
                    "requires_grad), or keep the step that needs input gradients eager.")
            if isinstance(a, (Tensor, np.ndarray)):
                arr = a.data if isinstance(a, Tensor) else a
                v = tr.new_var(arr, "arg", names[i])
                v.src = len(arg_names)
                arg_names.append(names[i])
                t: Any = tr.traced(arr, v)
                if isinstance(a, Tensor):
                    t = _const(t)
                    t.requires_grad = a.requires_grad
                traced_args.append(t)
            else:
                traced_args.append(a)
        tr.activate()
        try:
            out = self.fn(*traced_args, **kwargs)
            for line in _trace.made_during(tr):
                warnings.warn(
                    f"tg.compile: an array made inside the compiled function at {line} is "
                    "replayed as the constant it was when traced: right for fixed values "
                    "(np.zeros(3)), stale if they change from call to call (draws from a "
                    "generator of your own, data read in Python). Pass such arrays as "
                    "arguments.", RuntimeWarning, stacklevel=3)
            results: list[Var] = []
            template = _template(out, results, tr)
        finally:
            tr.deactivate()
            _restore_slots(tr)
        first = _build(template, [v.get() for v in results])
        guards = _guards(tr) + _python_value_guards(tr, self.fn)
        prog = generate(tr, arg_names, results, guards,
                        name=_source_name(self.fn))
        for v in tr.vars:
            v.value = v.ref = None
        self.programs.append(prog)
        self.source = prog.source
        entry = _Entry(prog.fn, prog.scope["guard"], template)
        entry.enter = _entry_function(args, kwargs, entry, grad_mode.is_grad_enabled())
        return entry, first


class _Entry:
    __slots__ = ("fn", "guard", "template", "enter")

    def __init__(self, fn: Callable[..., Any], guard: Callable[[], bool], template: Any) -> None:
        self.fn = fn
        self.guard = guard
        self.template = template
        self.enter: Optional[Callable[..., Any]] = None


_MISS = object()  # what an entry function returns when its signature or guard does not hold


def _entry_function(args: tuple, kwargs: dict, entry: _Entry, grad: bool) -> Any:
    """``enter(*args)``: the whole of a cache hit for this signature in one generated
    function (argument types, shapes and dtypes, grad mode, the guard, the program, the
    results), or None when the arguments are not all arrays and Tensors."""
    if kwargs or not all(isinstance(a, (Tensor, np.ndarray)) for a in args):
        return None
    names = [f"a{i}" for i in range(len(args))]
    scope: dict[str, Any] = {"_Tensor": Tensor, "_ndarray": np.ndarray, "_MISS": _MISS,
                             "_grad_enabled": grad_mode.is_enabled, "_guard": entry.guard,
                             "_run": entry.fn, "_const": _const, "_build": _build,
                             "_template": entry.template}
    kinds, checks = [], []
    for i, (n, a) in enumerate(zip(names, args)):
        kinds.append(f"isinstance({n}, {'_Tensor' if isinstance(a, Tensor) else '_ndarray'})")
        d = a.data if isinstance(a, Tensor) else a
        scope[f"_s{i}"], scope[f"_d{i}"] = d.shape, d.dtype
        checks.append(f"{n}_.shape == _s{i} and {n}_.dtype == _d{i}")
    unwrap = "".join(f"        {n}_ = {n}{'.data' if isinstance(a, Tensor) else ''}\n"
                     for n, a in zip(names, args))
    kind, what = entry.template
    result = "_const(r[0])" if (kind, what) == ("tensor", 0) and \
        len(_flat_results(entry.template)) == 1 else "_build(_template, r)"
    mode = "_grad_enabled()" if grad else "not _grad_enabled()"
    src = (f"def enter({', '.join(names)}):\n"
           f"    if {' and '.join([mode] + kinds)}:\n" + unwrap +
           f"        if {' and '.join(checks + ['_guard()'])}:\n"
           f"            r = _run({''.join(f'{n}_, ' for n in names)})\n"
           f"            return {result}\n"
           "    return _MISS\n")
    exec(builtins.compile(src, "<tg.compile entry>", "exec"), scope)
    return scope["enter"]


def _flat_results(tpl: Any) -> list:
    kind, what = tpl
    if kind in ("tensor", "array"):
        return [what]
    if kind == "value":
        return []
    items = what.values() if kind is dict else what
    return [r for t in items for r in _flat_results(t)]


def compile(fn: Callable[..., Any]) -> Compiled:
    """Compile a training (or inference) step into straight-line numpy code.

    The first call for each signature (input shapes and dtypes, grad mode, the ``training``
    flags of the modules it calls, which parameters have a ``.grad``) runs `fn` eagerly while
    recording every numpy call it makes, forward, backward and ``zero_grad``; later calls
    with that signature run only the generated code (see ``.source``). The update of SGD,
    Adam, AdamW and RMSprop is generated too, reading learning rates, other hyperparameters, state
    and step counts on every call; other optimizers, a scheduler's ``step()`` and
    ``nn.utils.clip_grad_norm_`` run as themselves.
    Results are new arrays on every call; ``.grad`` arrays are reused from call to call.

    Examples:
        >>> import numpy as np, tensorgrad as tg
        >>> w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1)
        >>> @tg.compile
        ... def step(x):
        ...     opt.zero_grad()
        ...     loss = (w * x).sum() ** 2
        ...     loss.backward()
        ...     opt.step()
        ...     return loss
        >>> step(np.array([1.0, 1.0])).item()          # traced (runs eagerly)
        1.0
        >>> round(step(np.array([1.0, 1.0])).item(), 6)  # replayed: w moved by -0.2 (w.x) x
        0.36
        >>> w.data
        array([ 1.32, -1.68])
    """
    if isinstance(fn, Compiled):
        return fn
    if not callable(fn):
        raise TypeError(f"compile: expected a function, got {type(fn).__name__}")
    return Compiled(fn)


# ------------------------------------------------------------------------------ helpers
def _hashable(x: Any) -> Any:
    try:
        hash(x)
        return (type(x), x)
    except TypeError:
        return (type(x), id(x))


def _source_name(fn: Callable[..., Any]) -> str:
    """The generated function's name: fn's own when it is one (not for a lambda)."""
    name = str(getattr(fn, "__name__", "")).strip("<>")
    return name if name.isidentifier() and not keyword.iskeyword(name) else "step"


def _arg_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        p = params[i] if i < len(params) and params[i].kind in (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) else None
        names.append(p.name if p is not None else f"arg{i}")
    return names


def _discover(tr: Trace, fn: Callable[..., Any], args: tuple) -> None:
    """Names for the parameters and modules `fn` can reach (its closure, the globals it
    names, `self` of a method, its arguments): ``model.0.weight`` -> ``model_0_weight``."""
    from ..nn.module import Module
    from ..optim.optimizer import Optimizer

    found: list[tuple[str, Any]] = []
    f: Any = fn
    while isinstance(f, functools.partial):
        f = f.func
    if inspect.ismethod(f):
        found.append(("", f.__self__))
        f = f.__func__
    code = getattr(f, "__code__", None)
    if code is not None:
        for name, cell in zip(code.co_freevars, getattr(f, "__closure__", None) or ()):
            try:
                found.append((name, cell.cell_contents))
            except ValueError:
                pass
        glob = getattr(f, "__globals__", {})
        for name in _names(code):
            if name in glob:
                found.append((name, glob[name]))
    for i, a in enumerate(args):
        found.append((f"arg{i}", a))

    def visit(prefix: str, o: Any, depth: int) -> None:
        if isinstance(o, Module):
            if id(o) in tr.names:
                return
            tr.names[id(o)] = prefix or "model"
            for mname, m in o.named_modules():
                if mname:
                    tr.names.setdefault(id(m), _join(prefix, mname))
            for pname, p in o.named_parameters():
                tr.names.setdefault(id(p), _join(prefix, pname))
        elif isinstance(o, Optimizer):
            tr.obj(o, prefix or "opt")
        elif isinstance(o, Tensor):
            tr.names.setdefault(id(o), prefix or "t")
        elif depth < 1 and isinstance(o, (list, tuple)):
            for j, x in enumerate(o):
                visit(_join(prefix, str(j)), x, depth + 1)
        elif depth < 1 and isinstance(o, dict):
            for k, x in o.items():
                if isinstance(k, str):
                    visit(_join(prefix, k), x, depth + 1)
        elif depth < 1 and hasattr(o, "__dict__") and not isinstance(o, type) and \
                not inspect.ismodule(o) and not callable(o):
            for k, x in vars(o).items():
                visit(_join(prefix, k), x, depth + 1)

    for name, o in found:
        visit(name, o, 0)


def _join(prefix: str, name: str) -> str:
    name = name.replace(".", "_")
    return f"{prefix}_{name}" if prefix else name


def _names(code: Any) -> list[str]:
    out = list(code.co_names)
    for c in code.co_consts:
        if inspect.iscode(c):
            out += _names(c)
    return out


def _template(x: Any, results: list, tr: Trace) -> Any:
    """The shape of `fn`'s result, with arrays replaced by their position in `results`."""
    if isinstance(x, Tensor):
        d = x.data
        if x.requires_grad and x._op is not None and x._inputs is not None and \
                not tr.backward_ran:  # tg.compile(model), as for PyTorch's compile
            warnings.warn(
                f"tg.compile: the function returns a tensor of shape {x.shape} whose graph "
                "it did not backpropagate; a compiled function returns values without a "
                "graph, so backward() on it (or on a loss computed from it) will fail. Put "
                "the loss, backward() and the optimizer step inside the compiled function, "
                "or call it under tg.no_grad() for inference.", RuntimeWarning, stacklevel=4)
        if isinstance(d, Traced) and d._v is not None:
            results.append(d._v)
            return ("tensor", len(results) - 1)
        return ("value", x)
    if isinstance(x, Traced):
        if x._v is None:
            raise RuntimeError("tg.compile: the function returned an untraced view")
        results.append(x._v)
        return ("array", len(results) - 1)
    if type(x) in (tuple, list):
        return (type(x), [_template(y, results, tr) for y in x])
    if type(x) is dict:
        return (dict, {k: _template(y, results, tr) for k, y in x.items()})
    return ("value", x)


def _build(tpl: Any, arrays: Any) -> Any:
    kind, what = tpl
    if kind == "tensor":
        return _const(arrays[what])
    if kind == "array":
        return arrays[what]
    if kind == "value":
        return what
    if kind is dict:
        return {k: _build(t, arrays) for k, t in what.items()}
    return kind(_build(t, arrays) for t in what)


def _restore_slots(tr: Trace) -> None:
    """Put plain arrays back into every Tensor slot the trace left a Traced in."""
    for o in tr.objects:
        if not isinstance(o, Tensor):
            continue
        for slot in ("data", "grad"):
            value = getattr(o, slot)
            if isinstance(value, Traced):
                v = value._v
                held = v.get() if v is not None else None
                setattr(o, slot, held if held is not None else np.array(_view(value, np.ndarray)))


_SCALARS = (bool, int, float, complex, str, type(None))


def _python_value_guards(tr: Trace, fn: Callable[..., Any]) -> list[str]:
    """The Python numbers (and strings, None) `fn` can read without passing them: the globals
    and closure variables it names, their items and attributes one level down (``cfg['beta']``,
    ``args.scale``), and the same for the plain functions it calls. A trace bakes them into
    the program, so each is guarded: another value retraces, as PyTorch's compile does."""
    out: list[str] = []
    seen: set = set()

    def scalar(expr: str, value: Any) -> None:
        if type(value) in _SCALARS or isinstance(value, np.generic):
            out.append(f"{expr} == _o{tr.obj(value, 'traced')}")

    def inside(expr: str, o: Any) -> None:
        """Scalars one level inside `o` (a dict's items, a plain object's attributes). `expr`
        may stop being a dict or an object: _item and getattr then give _MISSING (retrace)."""
        if type(o) is dict and len(o) <= 64:
            for key, v in o.items():
                if type(key) in (str, int):
                    scalar(f"_item({expr}, {key!r})", v)
        elif hasattr(o, "__dict__") and not isinstance(o, (type, types.ModuleType)) and \
                not callable(o) and type(o).__module__.split(".")[0] not in ("tensorgrad",
                                                                            "numpy"):
            for key, v in list(vars(o).items())[:64]:
                scalar(f"getattr({expr}, {key!r}, _MISSING)", v)

    def reach(expr: str, v: Any, depth: int) -> None:
        """`v`, read by `expr` (a global or a closure variable), and what it holds."""
        scalar(expr, v)
        inside(expr, v)
        if depth < 1 and isinstance(v, types.FunctionType) and \
                not v.__module__.startswith("tensorgrad"):
            visit(v, depth + 1)

    def visit(f: Any, depth: int) -> None:
        while isinstance(f, functools.partial):
            f = f.func
        f = getattr(f, "__func__", f)
        code = getattr(f, "__code__", None)
        if code is None or id(f) in seen:
            return
        seen.add(id(f))
        g = getattr(f, "__globals__", {})
        gk = tr.obj(g, "fn_globals")
        for name in dict.fromkeys(_names(code)):
            if name in g:
                reach(f"_o{gk}.get({name!r}, _MISSING)", g[name], depth)
        for name, cell in zip(code.co_freevars, getattr(f, "__closure__", None) or ()):
            try:
                v = cell.cell_contents
            except ValueError:
                continue
            reach(f"_o{tr.obj(cell, 'cell_' + name)}.cell_contents", v, depth)

    visit(fn, 0)
    for m in tr.modules:  # the modules called: dropout's p, a slope, a temperature ...
        mk = tr.obj(m, "m_" + tr.names.get(id(m), "module"))
        for key, v in vars(m).items():
            if key != "training" and not key.startswith("__"):
                scalar(f"getattr(_o{mk}, {key!r}, _MISSING)", v)
    return out


def _guards(tr: Trace) -> list[str]:
    """Conditions (source) under which the trace holds: shapes of what it read, which
    ``.grad`` were None, the modules' training flags."""
    out = []
    for (k, slot), info in tr.reads.items():
        if info == ("written",):
            continue
        name = f"_o{k}"
        if info == (None,):
            out.append(f"{name}.{slot} is None")
        else:
            shape, dtype = info
            check = f"{name}.{slot}.shape == {shape!r} and {name}.{slot}.dtype == " \
                f"_dtype_{np.dtype(dtype).name}"  # a dtype object: compares faster than np.float32
            out.append(check if slot == "data" else f"{name}.{slot} is not None and {check}")
    for m, mode in tr.entry_modes:
        k = tr.obj(m, "m_" + tr.names.get(id(m), "module"))
        out.append(f"_o{k}.training is {mode}")
    return out + tr.extra_guards
