"""Version counters: PyTorch's check that a value saved for backward was not changed in place
in the meantime, at O(1) per saved value and no copy.

Every write into a tensor's array made through tensorgrad (the in-place methods, ``x[idx] =
v``, ``optimizer.step()``) is noted against the array's *root*, the ndarray at the end of its
``.base`` chain, so a view and its base share one counter, as in PyTorch. A write takes a
stamp from the counter that also numbers recorded ops (`op._counter`), so "was this value
written after node s recorded it?" is one comparison at backward: nothing is stored per op.
Writing into ``.data`` with numpy directly bypasses all of this, as in PyTorch.

Which values a node needs is read off its gradient rules (`reads`): ``add`` needs neither
its inputs nor its output, ``mul`` its inputs, ``exp`` its output. Only those are checked, so
``y = x + 1; y.add_(1)`` is fine while ``y = x.exp(); y.add_(1)`` raises at backward.
"""
from __future__ import annotations

import dis
import inspect
import weakref
from collections import deque
from typing import Any, Optional

import numpy as np

from . import op as _op

# id(root array) -> _Storage, for roots that were ever written (the rest are at version 0).
_storages: dict = {}
# Stamp of the latest write anywhere: the engine checks only nodes recorded before it.
last_write: int = -1
# Stamp of the latest write recorded in the graph: only tensors older than it can be stale.
last_recorded: int = -1


class _Storage:
    __slots__ = ("ref", "version", "last", "stamps", "graded")

    def __init__(self, ref: Any) -> None:
        self.ref = ref  # a weak reference whose callback drops this entry with its array
        self.version = 0
        self.last = -1  # stamp of the latest write
        # Stamps of the latest writes (for "expected version" in messages), and of the latest
        # writes recorded in the graph (for `stale`).
        self.stamps: deque = deque(maxlen=_KEEP)
        self.graded: deque = deque(maxlen=_KEEP_RECORDED)


_KEEP = 64  # writes remembered per array for messages ("expected version N")
# Writes recorded in a graph remembered per array, for `stale`: one per recorded in-place op,
# so a graph holds more memory than these; past the bound, older spans count as "changed".
_KEEP_RECORDED = 1 << 20


def root(a: np.ndarray) -> np.ndarray:
    """The array owning `a`'s memory (`a` itself unless it is a view)."""
    b = a.base
    while isinstance(b, np.ndarray):
        a, b = b, b.base
    return a


def note_write(a: np.ndarray, recorded: bool = False) -> int:
    """Count one in-place write into `a` (bumps the version of every tensor sharing its
    memory); `recorded`: the write is part of the graph (see `stale`). Returns its stamp."""
    global last_write, last_recorded
    k = id(a if a.base is None else root(a))  # a parameter's array is its own root
    s = _storages.get(k)
    if s is None:
        s = _storages[k] = _Storage(weakref.ref(root(a), _forget(k)))
    stamp = next(_op._counter)
    s.version += 1
    s.last = last_write = stamp
    s.stamps.append(stamp)
    if recorded:
        last_recorded = stamp
        s.graded.append(stamp)
    return stamp


def note_writes(arrays: tuple) -> None:
    """`note_write` for each of `arrays`, written together (an optimizer's update of its
    parameters): one stamp for all, as no recorded op can fall between them."""
    global last_write
    stamp = last_write = next(_op._counter)
    for a in arrays:
        k = id(a if a.base is None else root(a))
        s = _storages.get(k)
        if s is None:
            s = _storages[k] = _Storage(weakref.ref(root(a), _forget(k)))
        s.version += 1
        s.last = stamp
        s.stamps.append(stamp)


def _forget(k: int) -> Any:
    return lambda _: _storages.pop(k, None)


def version(a: np.ndarray) -> int:
    s = _storages.get(id(root(a)))
    return 0 if s is None else s.version


def written_after(a: np.ndarray, seq: int) -> bool:
    s = _storages.get(id(root(a)))
    return s is not None and s.last > seq


def stale(t: Any, before: float, own: int = -1) -> bool:
    """True when non-leaf `t`'s memory was changed in place, as part of the graph, through
    another tensor (a view or its base) after `t` was computed and before `before`: its
    value then differs from what its own node computed, and tensorgrad (unlike PyTorch) does
    not regenerate that node. `own`: the stamp of a write that consumed `t` as its old
    value (not a change behind its back)."""
    s = _storages.get(id(root(t.data)))
    if s is None or not s.graded:
        return False
    seq = t._seq
    if len(s.graded) == _KEEP_RECORDED and s.graded[0] > seq:
        return True  # older writes were forgotten: assume the worst
    return any(seq < w < before and w != own for w in s.graded)


def check_input(t: Any, p: Any, inputs: tuple) -> None:
    """Node `t` used non-leaf `p`: `p` must not have been changed behind its back (called
    by the engine only for `p` older than the latest recorded in-place write)."""
    prev = getattr(t, "_prev", None)
    own = prev[0] if prev is not None and prev[1] is p else -1
    if stale(p, t._seq, own):
        j = next(i for i, q in enumerate(inputs) if q is p)
        raise RuntimeError(_stale_msg(f"input {j} of '{t._op.name}'", p))


def resolve(p: Any, seq: int) -> Any:
    """The node that stood for tensor `p` when node `seq` was recorded: an in-place op on a
    non-leaf moves its old value's graph to a hidden tensor (``p._prev = (stamp, old)``)."""
    prev = getattr(p, "_prev", None)
    while prev is not None and prev[0] > seq:
        p = prev[1]
        prev = getattr(p, "_prev", None)
    return p


def check(t: Any, inputs: tuple) -> tuple:
    """Before running node `t`'s rules: its inputs as they were when it was recorded, after
    checking that none of the values its rules read was written since (RuntimeError naming
    the op otherwise). Called only for nodes older than some in-place write."""
    seq = t._seq
    inputs = tuple(resolve(p, seq) for p in inputs)
    op = t._op
    ans, used = reads(op, inputs)
    if ans and written_after(t.data, seq):
        raise RuntimeError(_modified_msg(f"the output of '{op.name}'", t, seq))
    for j in used:
        if written_after(inputs[j].data, seq):
            raise RuntimeError(_modified_msg(f"input {j} of '{op.name}'", inputs[j], seq))
    return inputs


def _modified_msg(what: str, t: Any, seq: int) -> str:
    return (f"backward: one of the variables needed for gradient computation has been "
            f"modified by an inplace operation: {what} (shape {t.shape}, {t.dtype}) is at "
            f"version {version(t.data)}; expected version {_version_at(t.data, seq)} instead. "
            "Change it out of place (x = x + 1, not x += 1), clone() it before the change, "
            "or run the forward pass again after it (e.g. optimizer.step() after backward()).")


def _version_at(a: np.ndarray, seq: int) -> str:
    """The version `a` had when node `seq` was recorded (as text: it may be unknown)."""
    s = _storages.get(id(root(a)))
    if s is None:
        return "0"
    later = sum(1 for w in s.stamps if w > seq)
    if len(s.stamps) == _KEEP and s.stamps[0] > seq:
        return f"{s.version - later} or lower"  # older writes were forgotten
    return str(s.version - later)


def _stale_msg(what: str, t: Any) -> str:
    return (f"backward: {what} (shape {t.shape}) was changed in place through another tensor "
            "sharing its memory (a view of it, or its base) after it was computed; tensorgrad "
            "does not differentiate through such a change. clone() the view before changing "
            "it in place.")


def check_root(t: Any) -> None:
    """A tensor backward starts from must still hold the value its node computed."""
    if stale(t, float("inf")):
        raise RuntimeError(_stale_msg("the tensor backward starts from", t))


# ------------------------------------------------------------------------- what rules read
_ALL = (True, None)
_META = frozenset({"shape", "ndim", "dtype", "size"})  # unknown: the output and every input
_reads: dict = {}


def reads(op: Any, inputs: tuple) -> tuple:
    """(whether the rules read the op's output, the input positions they read), for the
    rules that run (those of inputs that require grad)."""
    table = _reads.get(op)
    if table is None:
        table = _reads[op] = _rule_table(op)
    if table is _ALL:
        return True, range(len(inputs))
    ans, used = False, set[int]()
    for i, p in enumerate(inputs):
        if p.requires_grad:
            a, u = table[min(i, len(table) - 1)]
            ans = ans or a
            used |= set(range(len(inputs))) if u is None else u
    return ans, sorted(j for j in used if j < len(inputs))  # the rest are op parameters


def _rule_table(op: Any) -> Any:
    """Per rule: (reads ans, input positions read or None for all); _ALL when unknown."""
    if isinstance(op, _op.UnaryOp):  # declared by its derivative deriv(x, ans, **params)
        r = _rule_reads(op.deriv, 0, derivative=True)
        return _ALL if r is None else [r]
    kind = type(op).backward
    variadic = kind is _op.VariadicOp.backward
    if not op.rules or not (kind is _op.Op.backward or kind is _op.ScalarOp.backward or
                            variadic):
        return _ALL  # a custom backward (tg.Function): assume it reads everything
    table = []
    for rule in op.rules:
        r = _rule_reads(rule, 1 if variadic else 0)
        if r is None:
            return _ALL
        table.append(r)
    return table


def _rule_reads(rule: Any, skip: int, derivative: bool = False) -> Optional[tuple]:
    """Which of ``rule(*skip, g, ans, *inputs, **params)``'s arguments its code loads (of
    ``deriv(x, ans, **params)``'s with `derivative`)."""
    code = getattr(rule, "__code__", None)
    if code is None:
        return None
    try:
        sig = inspect.signature(rule)
    except (TypeError, ValueError):
        return None
    loaded = set(code.co_cellvars)  # captured by an inner function: count as read
    ins = list(dis.get_instructions(code))
    for i, op in enumerate(ins):
        if "FAST" in op.opname or "DEREF" in op.opname or "CLOSURE" in op.opname:
            if op.opname == "LOAD_FAST" and i + 1 < len(ins) and \
                    ins[i + 1].opname == "LOAD_ATTR" and ins[i + 1].argval in _META:
                continue  # x.shape: in-place changes never change it
            val = op.argval
            loaded.update(val if isinstance(val, tuple) else (val,))
    positional, varargs = [], None
    for prm in sig.parameters.values():
        if prm.kind in (prm.POSITIONAL_ONLY, prm.POSITIONAL_OR_KEYWORD):
            positional.append(prm.name)
        elif prm.kind is prm.VAR_POSITIONAL:
            varargs = prm.name
    names = positional[skip:]
    if derivative and len(names) >= 2:
        names = ["", names[1], names[0], *names[2:]]  # as a rule: (g, ans, x, ...)
    if len(names) < 2:
        return None
    ans = names[1] in loaded
    if varargs is not None and varargs in loaded:
        return ans, None
    return ans, {j for j, name in enumerate(names[2:]) if name in loaded}
