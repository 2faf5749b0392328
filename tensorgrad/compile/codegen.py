"""From a trace to Python source: drop what no result needs, give arrays buffers that later
arrays of the same shape reuse once dead (``out=``), name everything after what it is, print
one statement per numpy call and ``exec`` it."""
from __future__ import annotations

import keyword
import math
import re
from typing import Any, Optional

import numpy as np

from ..autograd import versions
from . import updates
from .trace import Stmt, Trace, Var, _vars_in

# Defaults numpy fills in when it hands a reduction to __array_ufunc__: left out of the source.
_DEFAULT_KW = {"dtype": None, "keepdims": False, "where": True, "casting": "same_kind",
               "order": "K", "subok": True}
# Arithmetic on 0-d values (a loss, a norm): Python's operators take numpy's scalar fast path,
# a tenth of a ufunc call's cost, with the same result and type.
_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.divide: "/", np.power: "**"}
# Statements that can write into a preallocated buffer of their result's shape and dtype.
_BUFFERED = ("ufunc", "reduce", "astype")
_BUFFERED_FUNCS = (np.einsum,)  # numpy functions with an out= of their result's shape


class Program:
    """The generated step: `source`, and `fn(*arrays) -> tuple of result arrays`."""

    def __init__(self, source: str, fn: Any, scope: dict) -> None:
        self.source = source
        self.fn = fn
        self.scope = scope


def generate(tr: Trace, arg_names: list[str], results: list[Var], guards: list[str],
             name: str = "step") -> Program:
    stmts = _drop_overwritten_slots(_live(tr, results))
    stmts = _fold_creations(tr, stmts, results)
    stmts = _elide_copies(stmts, results)
    buffers = _plan_buffers(tr, stmts, results)
    names = _Namer()
    scope: dict[str, Any] = {"np": np, "math": math, "_note_writes": versions.note_writes}
    for i, o in enumerate(tr.objects):
        scope[names.obj(i, tr.object_names[i] or tr.names.get(id(o)) or "obj")] = o
        scope[f"_o{i}"] = o
    signature = list(arg_names)
    for v in tr.vars:
        if v.kind == "arg":  # the name it got (`t` is `t0`, an `np` argument `np_1`)
            signature[v.src] = names.var(v, arg_names[v.src])
    lines: list[str] = []
    emit = _Emitter(tr, names, scope, buffers)
    for s in stmts:
        line = emit.stmt(s)
        if line:
            lines.extend(line.split("\n"))
        if s.sized_by_values:
            lines.extend(emit.shape_check(s).split("\n"))
    rets = []
    for v in results:
        expr = names.var(v)
        if v.shape == () and v.base is None:  # a 0-d result may be a numpy scalar here
            rets.append(f"np.asarray({expr})")
        else:
            rets.append(expr if _owned_result(v, buffers) else f"{expr}.copy()")
    lines.append("return (" + "".join(r + ", " for r in rets) + ")")
    params = ", ".join(signature)
    src = f"def {name}({params}):\n" + "".join(f"    {ln}\n" for ln in lines)
    if guards:
        guards = [re.sub(r"\b_o(\d+)\b", lambda m: emit.objname[int(m.group(1))], g)
                  for g in guards]
        scope["_MISSING"] = _MISSING
        scope["_item"] = _item
        for g in guards:  # the dtypes the guard compares with, as dtype objects
            for d in re.findall(r"\.dtype == _dtype_(\w+)", g):
                scope["_dtype_" + d] = np.dtype(d)
        src += "\n\ndef guard():\n    return (" + "\n            and ".join(guards) + ")\n"
    else:
        src += "\n\ndef guard():\n    return True\n"
    scope.update(emit.consts)
    code = compile(src, f"<tg.compile {name}>", "exec")
    exec(code, scope)
    return Program(src, scope[name], scope)


# ------------------------------------------------------------------------------- passes
def _uses(s: Stmt) -> list[Var]:
    if s.uses is None:  # asked for by every pass: found once
        s.uses = _vars_in(s.kwargs, _vars_in(s.args, []))
    return s.uses


def _root(v: Var) -> Var:
    while v.base is not None:
        v = v.base
    return v


def _live(tr: Trace, results: list[Var]) -> list[Stmt]:
    """The statements some result, slot or side effect needs, in order."""
    needed = {v.id for v in results}
    keep = []
    for s in reversed(tr.stmts):
        side = s.kind in ("host", "random", "check") or bool(s.writes)
        if side or any(o is not None and o.id in needed for o in s.outs):
            keep.append(s)
            for u in _uses(s):
                needed.add(u.id)
                while u.base is not None:
                    u = u.base
                    needed.add(u.id)
            for w in s.writes:
                needed.add(w.id)
    keep.reverse()
    return keep


def _drop_overwritten_slots(stmts: list[Stmt]) -> list[Stmt]:
    """``p.grad = None`` (zero_grad) that backward's ``p.grad = g`` overwrites before
    anything reads the slot: only the last store is made. Host calls (an optimizer or
    clipping run as itself) read slots, so a store before one is kept."""
    pending: dict[tuple, int] = {}  # (object, slot) -> index of a store nothing read yet
    dead: set = set()
    for i, s in enumerate(stmts):
        if s.kind == "read":
            pending.pop(tuple(s.args), None)
        elif s.kind == "host" and s.fn == "setslot":
            key = (s.args[0], s.args[1])
            if key in pending:
                dead.add(pending[key])
            pending[key] = i
        elif s.kind == "host":
            pending.clear()
    return [s for i, s in enumerate(stmts) if i not in dead]


def _written(stmts: list[Stmt]) -> set:
    """Ids of the root vars something writes into."""
    return {_root(w).id for s in stmts for w in s.writes}


def _escapes(stmts: list[Stmt], results: list[Var]) -> set:
    """Ids of root vars held after the call: results and the values put into slots."""
    out = {_root(v).id for v in results}
    for s in stmts:
        if s.kind == "host" and s.fn == "setslot" and s.args[2] is not None:
            out.add(_root(s.args[2]).id)
    return out


def _fold_creations(tr: Trace, stmts: list[Stmt], results: list[Var]) -> list[Stmt]:
    """Arrays made from Python values (``np.array(1.0)``, the seed of backward) and what is
    computed from them alone (``seed * (1 / N)``), when nothing writes into them and nothing
    keeps them: made once, here, instead of at every call. (Arrays the step merely refers to,
    a numpy global say, stay references: their values are read at call time.)"""
    written, escapes = _written(stmts), _escapes(stmts, results)
    literal: set = set()
    out = []
    for s in stmts:
        v = s.outs[0] if len(s.outs) == 1 else None
        pure = s.kind in ("create", "ufunc", "reduce", "getitem", "method", "func") and \
            not s.writes
        if v is not None and pure and _root(v).id not in written and \
                _root(v).id not in escapes and v.id not in escapes and \
                all(u.id in literal for u in _uses(s)) and v.value is not None:
            v.kind = "const"
            v.src = v.value
            v.base = None
            literal.add(v.id)
            # named after what made it: "_ones", or after its first constant ("_arange")
            used = _uses(s)
            if s.kind == "create":
                v.hint = getattr(s.fn, "__name__", "c")
            elif used and v.hint in ("", "g", s.name):
                v.hint = used[0].hint
            continue
        out.append(s)
    return out


def _elide_copies(stmts: list[Stmt], results: list[Var]) -> list[Stmt]:
    """``y = x.astype(x.dtype)`` where x is a new array nothing else sees: y is x (the
    engine copies a gradient it cannot prove it owns before it becomes ``.grad``)."""
    last: dict[int, int] = {}
    viewed: set = set()
    for i, s in enumerate(stmts):
        for u in _uses(s) + s.writes:
            last[u.id] = i
        for o in s.outs:
            if o is not None and o.base is not None:
                viewed.add(o.base.id)
    res = {v.id for v in results}
    rename: dict[int, Var] = {}
    out = []
    for i, s in enumerate(stmts):
        if s.kind == "method" and s.fn in ("astype", "copy") and len(s.outs) == 1 and \
                s.outs[0] is not None:
            x, y = s.args[0], s.outs[0]
            x = rename.get(x.id, x) if isinstance(x, Var) else x
            if isinstance(x, Var) and x.kind == "op" and x.fresh and x.id not in viewed and \
                    x.id not in res and last.get(x.id) == i and x.dtype == y.dtype and \
                    x.shape == y.shape:
                rename[y.id] = x
                if y.hint.startswith("d_") or not x.hint:
                    x.hint = y.hint
                continue
        out.append(_substitute(s, rename) if rename else s)
    for v in results:
        if v.id in rename:
            results[results.index(v)] = rename[v.id]
    return out


def _substitute(s: Stmt, rename: dict) -> Stmt:
    def sub(x: Any) -> Any:
        if isinstance(x, Var):
            return rename.get(x.id, x)
        if type(x) in (list, tuple):
            return type(x)(sub(y) for y in x)
        if type(x) is dict:
            return {k: sub(y) for k, y in x.items()}
        if isinstance(x, slice):
            return slice(sub(x.start), sub(x.stop), sub(x.step))
        return x

    if not any(u.id in rename for u in _uses(s)):
        return s
    n = Stmt(s.kind, s.fn, sub(s.args), sub(s.kwargs), s.outs, [sub(w) for w in s.writes],
             s.name)
    n.sized_by_values = s.sized_by_values
    return n


def _plan_buffers(tr: Trace, stmts: list[Stmt], results: list[Var]) -> dict[int, np.ndarray]:
    """Var id -> the preallocated array it is computed into. A buffer returns to the pool
    after the last use of its var (and of every view of it); the arrays held after the call
    (slot values) keep theirs; results handed back get none (they are new every call)."""
    escapes = _escapes(stmts, results)
    result_ids = {_root(v).id for v in results}
    # A slot whose old value this call still reads must not get last call's buffer back.
    read_slots = {s.outs[0].src for s in stmts if s.kind == "read" and s.outs[0] is not None}
    unsafe: set = set()
    for s in stmts:
        if s.kind == "host" and s.fn == "setslot" and s.args[2] is not None and \
                (s.args[0], s.args[1]) in read_slots:
            unsafe.add(_root(s.args[2]).id)
    last: dict[int, int] = {}
    for i, s in enumerate(stmts):
        for u in _uses(s) + s.writes:
            r = _root(u)
            last[r.id] = max(last.get(r.id, -1), i)
    pool: dict[tuple, list] = {}
    release: dict[int, list] = {}
    buffers: dict[int, np.ndarray] = {}
    for i, s in enumerate(stmts):
        for arr in release.pop(i - 1, ()):
            pool.setdefault((arr.shape, arr.dtype.str), []).append(arr)
        if (s.kind not in _BUFFERED and not (s.kind == "func" and s.fn in _BUFFERED_FUNCS)) \
                or len(s.outs) != 1 or s.outs[0] is None:
            continue
        if s.kind == "method" and s.fn not in ("astype",):
            continue
        v = s.outs[0]
        if not v.fresh or v.id in result_ids or v.id in unsafe or s.writes:
            continue
        if s.kind == "ufunc" and s.fn.nout != 1:
            continue
        if s.kind == "reduce" and s.fn.nout != 1:
            continue
        key = (v.shape, np.dtype(v.dtype).str)
        buf = None
        if s.kind == "ufunc" and s.fn.signature is None:
            # Elementwise: write over an operand that dies here (dz *= relu'(z), as written
            # by hand); numpy computes an exactly overlapping operand and output correctly.
            dying = release.get(i, [])
            for u in _uses(s):
                b = buffers.get(u.id)
                if b is not None and u.base is None and any(b is d for d in dying) and \
                        b.shape == v.shape and b.dtype == v.dtype:
                    dying[:] = [d for d in dying if d is not b]
                    buf = b
                    break
        if buf is None:
            free = pool.get(key)
            buf = free.pop() if free else np.empty(v.shape, v.dtype)
        buffers[v.id] = buf
        if v.id not in escapes:
            release.setdefault(max(last.get(v.id, i), i), []).append(buf)
    return buffers


def _owned_result(v: Var, buffers: dict) -> bool:
    """A result the caller may keep: an array this call made and nothing reuses."""
    return v.kind == "op" and v.base is None and v.id not in buffers


# ------------------------------------------------------------------------------ emission
class _Namer:
    def __init__(self) -> None:
        self.taken: set = set(keyword.kwlist) | {"np", "guard", "step", "math", "_note_writes"}
        self.vars: dict[int, str] = {}
        self.count: dict[str, int] = {}

    def fresh(self, hint: str) -> str:
        base = re.sub(r"\W", "_", hint) or "t"
        if base[0].isdigit():
            base = "_" + base
        n = self.count.get(base, 0)
        generic = base.lstrip("_") in ("t", "c", "k", "g", "rand", "buf", "f_fn")
        while True:
            name = f"{base}{n}" if generic else (base if n == 0 else f"{base}_{n}")
            n += 1
            if name not in self.taken:
                self.count[base] = n
                self.taken.add(name)
                return name

    def obj(self, i: int, hint: str) -> str:
        return self.fresh(hint)

    def var(self, v: Var, hint: Optional[str] = None) -> str:
        name = self.vars.get(v.id)
        if name is None:
            name = self.vars[v.id] = self.fresh(hint or v.hint or "t")
        return name


class _Emitter:
    def __init__(self, tr: Trace, names: _Namer, scope: dict, buffers: dict) -> None:
        self.tr = tr
        self.names = names
        self.scope = scope
        self.buffers = buffers
        self.consts: dict[str, Any] = {}
        self.const_names: dict[tuple, str] = {}
        self.buf_names: dict[int, str] = {}
        self.objname: dict[int, str] = {}
        for name, o in scope.items():
            for i, oo in enumerate(tr.objects):
                if oo is o and i not in self.objname:
                    self.objname[i] = name

    # -- values
    def const(self, value: Any, hint: str = "c") -> str:
        name = self.names.fresh("_" + hint)
        self.consts[name] = value
        return name

    def fmt(self, x: Any) -> str:
        if isinstance(x, Var):
            if x.kind == "const" and x.id not in self.names.vars:
                hint = x.hint if x.hint.isidentifier() and x.hint not in ("k", "g") else "c"
                src = x.src
                # equal small constants (a column of ones per layer, say) are one name
                key = (src.shape, src.dtype.str, src.tobytes()) if \
                    isinstance(src, np.ndarray) and src.size <= 4096 else None
                name = self.const_names.get(key) if key is not None else None
                if key is not None and hint == "c" and src.size and bool((src == 1).all()):
                    hint = "ones"  # a sum written as a product (ops/_util.sum_axis)
                if name is None:
                    name = self.const(src, hint)
                    if key is not None:
                        self.const_names[key] = name
                self.names.vars[x.id] = name
            return self.names.var(x)
        if x is None or isinstance(x, (bool, int, str)):
            return repr(x)
        if isinstance(x, float):
            if math.isfinite(x):
                return repr(x)
            return "np.inf" if x > 0 else ("-np.inf" if x < 0 else "np.nan")
        if isinstance(x, tuple):
            inner = ", ".join(self.fmt(y) for y in x)
            return f"({inner},)" if len(x) == 1 else f"({inner})"
        if isinstance(x, list):
            return "[" + ", ".join(self.fmt(y) for y in x) + "]"
        if isinstance(x, slice):
            return f"slice({self.fmt(x.start)}, {self.fmt(x.stop)}, {self.fmt(x.step)})"
        if x is Ellipsis:
            return "..."
        if isinstance(x, np.dtype):
            named = getattr(np, x.name, None)
            if named is not None and np.dtype(named) == x:
                return f"np.{x.name}"
        tname = getattr(x, "__name__", "")
        if isinstance(x, type) and issubclass(x, np.generic) and getattr(np, tname, None) is x:
            return f"np.{tname}"
        if isinstance(x, np.generic) and type(x).__name__ in ("float32", "float64", "int64",
                                                              "int32", "bool_", "float16"):
            v = x.item()
            if isinstance(v, float) and not math.isfinite(v):
                return self.const(x)
            return f"np.{type(x).__name__}({v!r})"
        return self.const(x)

    def index(self, idx: Any) -> str:
        def one(i: Any) -> str:
            if isinstance(i, slice):
                parts = ["" if p is None else self.fmt(p) for p in (i.start, i.stop, i.step)]
                s = f"{parts[0]}:{parts[1]}"
                return s + (f":{parts[2]}" if parts[2] else "")
            if i is Ellipsis:
                return "..."
            return self.fmt(i)

        if isinstance(idx, tuple):
            return ", ".join(one(i) for i in idx) if idx else "()"
        return one(idx)

    def call_args(self, args: Any, kwargs: dict, drop_defaults: bool = True) -> str:
        parts = [self.fmt(a) for a in args]
        for k, v in kwargs.items():
            if k == "out":
                continue
            if drop_defaults and k in _DEFAULT_KW and _same(v, _DEFAULT_KW[k]):
                continue
            parts.append(f"{k}={self.fmt(v)}")
        return ", ".join(parts)

    def fn_name(self, fn: Any) -> str:
        name = getattr(fn, "__name__", "")
        if name and getattr(np, name, None) is fn:
            return f"np.{name}"
        return self.const(fn, "f_" + (name or "fn"))

    def shape_check(self, s: Stmt) -> str:
        """Raise when a result whose size depends on values (x[mask]) has another size than
        when traced: every buffer and count after it assumes the traced one."""
        if "_shape_changed" not in self.consts:
            self.consts["_shape_changed"] = _shape_changed
        checks = [f"{self.names.var(v)}.shape != {v.shape!r}" for v in s.outs if v is not None]
        if not checks:
            return ""
        return f"if {' or '.join(checks)}:\n    _shape_changed({s.name!r})"

    # -- statements
    def stmt(self, s: Stmt) -> str:
        outs = s.outs
        target = ""
        out_kw = ""
        if len(outs) == 1 and outs[0] is not None:
            v = outs[0]
            target = self.names.var(v) + " = "
            buf = self.buffers.get(v.id)
            if buf is not None:
                name = self.buf_names.get(id(buf))
                if name is None:
                    name = self.buf_names[id(buf)] = self.const(buf, "buf")
                out_kw = "out=" + name
        elif len(outs) > 1:
            target = ", ".join(self.names.var(o) if o is not None else "_" for o in outs) + " = "
        if s.kind == "read":
            k, slot = s.args
            return f"{target}{self.objname[k]}.{slot}"
        if s.kind == "check":  # a test the library made of its input, made again
            x, what, expected, where = s.args
            if "_check_failed" not in self.consts:
                self.consts["_check_failed"] = _check_failed
            if what == "bool()":
                return f"if bool({self.fmt(x)}) is not {expected}:\n" \
                    f"    _check_failed({where!r})"
            if "_check_value" not in self.consts:
                self.consts["_check_value"] = _check_value
            return f"_check_value({self.fmt(x)}, {what!r}, {self.const(expected, 'traced')}, " \
                f"{where!r})"
        if s.kind == "host":
            if s.fn == "setslot":
                k, slot, v = s.args
                return f"{self.objname[k]}.{slot} = {self.fmt(v)}"
            if s.fn == "optstep":
                k, groups = s.args
                tr = self.tr
                return "\n".join(updates.emit(
                    tr.objects[k], k, groups,
                    (self.fmt, self.objname.__getitem__, self.const, self.names.fresh),
                    lambda i: tr.names.get(id(tr.objects[i])) or f"p{i}",
                    lambda i: tr.objects[i].data))
            if s.fn == "callfn":  # a library function run as itself: f(*args, **kwargs).data
                f, a = s.args
                return f"{target}{self.objname[f]}(*{self.objname[a]}[0], " \
                    f"**{self.objname[a]}[1]).data"
            k, meth = s.args
            return f"{self.objname[k]}.{meth}()"
        if s.kind in ("ufunc", "reduce", "accumulate", "outer", "reduceat", "at"):
            kw = dict(s.kwargs)
            if "out" in kw and kw["out"] is not None:
                o = kw["out"]
                o = o[0] if isinstance(o, tuple) and len(o) == 1 else o
                out_kw = f"out={self.fmt(o)}"
            op = _OPERATORS.get(s.fn) if s.kind == "ufunc" and not out_kw else None
            if op and len(s.args) == 2 and len(outs) == 1 and outs[0] is not None and \
                    outs[0].shape == () and not self.call_args((), kw) and \
                    all(x.shape == () for x in _vars_in(s.args, [])):
                return f"{target}{self.fmt(s.args[0])} {op} {self.fmt(s.args[1])}"
            a = self.call_args(s.args, kw)
            a = ", ".join(p for p in (a, out_kw) if p)
            fn = self.fn_name(s.fn)
            if s.kind != "ufunc":
                fn = f"{fn}.{s.kind}"
            return f"{target}{fn}({a})"
        if s.kind == "func":
            a = self.call_args(s.args, s.kwargs, drop_defaults=False)
            if "out" in s.kwargs and s.kwargs["out"] is not None:
                a += f", out={self.fmt(s.kwargs['out'])}"
            elif out_kw:
                a += ", " + out_kw
            return f"{target}{self.fn_name(s.fn)}({a})"
        if s.kind == "create":
            a = self.call_args(s.args, s.kwargs, drop_defaults=False)
            return f"{target}{self.fn_name(s.fn)}({a})"
        if s.kind == "random":
            src, meth = s.fn
            a = self.call_args(s.args, s.kwargs, drop_defaults=False)
            if src == "tg.rng":
                if "_get_rng" not in self.consts:
                    from ..random import get_rng

                    self.consts["_get_rng"] = get_rng
                return f"{target}_get_rng().{meth}({a})"
            return f"{target}np.random.{meth}({a})"
        if s.kind == "getitem":
            x, idx = s.args
            return f"{target}{self.fmt(x)}[{self.index(idx)}]"
        if s.kind == "setitem":
            x, idx, val = s.args
            return f"{self.fmt(x)}[{self.index(idx)}] = {self.fmt(val)}"
        if s.kind == "method":
            x, rest = s.args[0], s.args[1:]
            if s.name == "T" and not s.writes:  # a view: written where it is used
                self.names.vars[outs[0].id] = f"{self.fmt(x)}.T"
                return ""
            if s.fn == "astype" and out_kw:
                y = self.names.var(outs[0])
                return f"{y} = {out_kw[4:]}\nnp.copyto({y}, {self.fmt(x)}, casting='unsafe')"
            a = self.call_args(rest, s.kwargs, drop_defaults=False)
            return f"{target}{self.fmt(x)}.{s.fn}({a})"
        raise AssertionError(s.kind)


_MISSING = object()  # a global or attribute the guard expects, gone


def _item(d: Any, key: Any) -> Any:
    """d[key] for the guard, or _MISSING when d is no longer a dict holding key."""
    return d.get(key, _MISSING) if type(d) is dict else _MISSING


def _shape_changed(what: str) -> None:
    raise RuntimeError(
        f"tg.compile: the result of {what} has another size at this call than when the step "
        "was traced (x[mask] or nonzero with a mask of another count): a compiled step has "
        "fixed shapes. Use tg.where or masked_fill, which keep the shape, or do not compile "
        "this step.")


def _check_value(x: Any, what: str, expected: Any, where: str) -> None:
    """A number the library read from an argument (``int(labels.max())``) must be the one
    the trace read: the program was written for it."""
    from .trace import _python_value

    got = _python_value(np.asarray(x), what)
    if got != expected and not (got != got and expected != expected):  # nan equals nan here
        _check_failed(where)


def _check_failed(where: str) -> None:
    raise RuntimeError(
        f"tg.compile: a check the library makes of its input in {where} came out otherwise "
        "at this call than when the step was traced (a class target out of range, or the "
        "class count one_hot infers from its labels, say): the program was written for the "
        "traced one. Run the step eagerly to see the error it raises, or give the number "
        "explicitly (one_hot(y, num_classes)).")


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False
