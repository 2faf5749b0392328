"""In-place operations: ``add_ sub_ mul_ div_ clamp_ copy_ fill_ zero_``, ``+= -= *= /=`` and
``x[idx] = v``. Each writes into the tensor's own array and bumps its version (shared with its
views, see autograd/versions.py), as in PyTorch:

- outside grad mode, or when nothing involved requires grad, that is all;
- on a leaf that requires grad, in grad mode, it raises (the hand-written update belongs in
  ``with tg.no_grad():``);
- otherwise it is recorded: the tensor object becomes the output of the in-place op, and its
  old value's graph moves to a hidden tensor (``t._prev``), which consumers recorded before
  the change are routed to at backward. If the op's gradient rules need the old value, a copy
  of it is saved first (``mul_`` by a tensor that requires grad, ``clamp_``); otherwise
  nothing is copied.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from ..autograd import grad_mode, versions
from ..autograd.op import Op, record, register
from ..tensor import Tensor, _const, as_tensor, init_slots, operand
from . import domains as D
from . import elementwise as E
from .shape import index_data

__all__: list = []  # methods only (Tensor.add_ ...), no tg.* functions

_grad_enabled = grad_mode.is_enabled
_new = object.__new__


def _saved(g: Any, ans: Any, x: Any) -> Any:
    return g


# The old value, copied because the in-place op's rules read it (its memory is overwritten).
SAVED_COPY = Op("saved_copy", _saved, domain=D.unary())
register(SAVED_COPY, public=False)(
    lambda x: record(SAVED_COPY, as_tensor(x).data.copy(), (as_tensor(x),)))


def _zeros(g: Any) -> Any:
    z = np.zeros(g.shape, g.dtype)
    return _const(z) if isinstance(g, Tensor) else z


def _zero_at(g: Any, index: Any) -> Any:
    keep = np.ones(g.shape, dtype=bool)
    keep[index] = False
    return g * keep


# copy_/fill_/zero_: the new value is src (broadcast); the old one gets no gradient.
ASSIGN = Op("copy_", lambda g, ans, old, src: _zeros(g), lambda g, ans, old, src: g,
            domain=D.binary())
# tested on a target of the broadcast shape
register(ASSIGN, public=False)(lambda old, src: copy_(old + src * 0, src))


def _setitem_domain(draw: Any, s: Any) -> Any:
    shape = draw(s.shapes(min_dims=1))
    index = draw(s.indices(shape))
    hits = np.zeros(shape)
    np.add.at(hits, index, 1)
    s.assume(hits.max(initial=0) <= 1)  # a repeated index keeps one value: no derivative
    return [draw(s.arrays(shape)), draw(s.arrays(hits[index].shape))], {"index": index}


def _set_copy(old: Any, v: Any, index: Any) -> Tensor:
    y = old * 1
    setitem(y, index, v)
    return y


# x[index] = v: the old value's gradient is g outside index, v's is g[index].
SETITEM = Op("setitem", lambda g, ans, old, v, index: _zero_at(g, index),
             lambda g, ans, old, v, index: g[index], domain=_setitem_domain)
register(SETITEM, public=False)(_set_copy)


def _check_target(t: Tensor, name: str) -> tuple:
    """Refuse what PyTorch refuses; return (base, view ops from base to t) for a view."""
    if t._op is None and t.requires_grad:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place "
            f"operation (tensor of shape {t.shape}). Wrap the update in `with tg.no_grad():` "
            "(as in a hand-written step: p -= lr * p.grad), or change a copy (x = x + 1).")
    base, chain = _view_chain(t)
    if base is t and t._op is None and t.data.base is not None:
        raise RuntimeError(
            f"{name}: this tensor (shape {t.shape}) shares memory with another one but is not "
            "part of its graph (a view made under no_grad, or a detached one), so writing a "
            "value that requires grad into it cannot be differentiated. Write into the tensor "
            "it views (base[idx] = value), or change a copy.")
    if base is not t and base._op is None and base.requires_grad:
        raise RuntimeError(
            f"{name}: a view of a leaf Variable that requires grad is being used in an "
            f"in-place operation (view of shape {t.shape} of a leaf of shape {base.shape}). "
            "Wrap it in `with tg.no_grad():`, or change a copy.")
    return base, chain


def _original(t: Tensor) -> Tensor:
    """The node that first produced tensor `t` (before any in-place change to it)."""
    prev = getattr(t, "_prev", None)
    while prev is not None:
        t = prev[1]
        prev = getattr(t, "_prev", None)
    return t


def _view_chain(t: Tensor) -> tuple:
    """(the tensor whose memory `t` views, the view ops [(op, params)] from it to `t`);
    (t, []) unless `t` is a view."""
    r = versions.root(t.data)
    obj, chain = t, []
    while True:
        node = _original(obj)
        nxt = next((p for p in node._inputs or () if versions.root(p.data) is r), None)
        if node._op is None or nxt is None:
            break
        chain.append((node._op, node._params))
        obj = nxt
    chain.reverse()
    return obj, chain


def _positions(base: Tensor, chain: list, view: Tensor) -> np.ndarray:
    """For each element of `view`, its flat position in `base`: the view ops replayed on
    the positions themselves."""
    pos = _const(np.arange(base.data.size).reshape(base.shape))
    try:
        with grad_mode.no_grad():
            for op, params in chain:
                pos = op.fn(pos, **(params or {}))
    except Exception as e:  # an op that makes views in ways the replay cannot follow
        raise RuntimeError(_view_msg(chain, view)) from e
    if not isinstance(pos, Tensor) or pos.shape != view.shape or pos.dtype.kind not in "iu":
        raise RuntimeError(_view_msg(chain, view))
    return pos.data


def _view_msg(chain: list, view: Tensor) -> str:
    ops = " -> ".join(op.name for op, _ in chain)
    return (f"in-place change of a view (shape {view.shape}, made by {ops}) that tensorgrad "
            "cannot map back onto its base; clone() the view before changing it")


def _keep_outside(g: Any, pos: np.ndarray) -> Any:
    keep = np.ones(g.shape, dtype=bool)
    keep.reshape(-1)[pos.reshape(-1)] = False
    return g * keep


# The base of a view changed in place (PyTorch's CopySlices): its new value is its old value
# outside the view's positions and the view's new value inside.
COPY_SLICES = Op("copy_slices", lambda g, ans, old, view, pos: _keep_outside(g, pos),
                 lambda g, ans, old, view, pos: g.reshape(-1)[pos])


def _hidden(t: Tensor) -> Tensor:
    """A new tensor standing for `t`'s current value in the graph (same array)."""
    h = _new(Tensor)
    init_slots(h, t.data, t.requires_grad)
    h._op, h._inputs, h._params = t._op, t._inputs, t._params
    if t._op is not None:
        h._seq = t._seq
    prev = getattr(t, "_prev", None)
    if prev is not None:
        h._prev = prev
    return h


def _modify(t: Tensor, name: str, others: tuple, write: Callable[[], None],
            op: Op, params: Optional[dict]) -> Tensor:
    """Run `write()` (which changes ``t.data`` in place) and, in grad mode, record it as `op`
    applied to (old t, *others) with `params`."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(t).__name__}")
    recording = _grad_enabled() and (t.requires_grad or any(o.requires_grad for o in others))
    if recording:
        base, chain = _check_target(t, name)
        pos = _positions(base, chain, t) if chain and base._op is not None else None
    if not t.data.flags.writeable:
        raise RuntimeError(
            f"{name}: the tensor's array (shape {t.shape}) is read-only, e.g. a broadcast "
            "view whose elements share memory; change a copy instead (x = x.clone() or "
            "x = x * 1)")
    if not recording:
        _write(name, t, others, write)
        versions.note_write(t.data)
        return t
    old = _hidden(t)
    inputs: tuple = (old, *(old if o is t else o for o in others))
    _, used = versions.reads(op, inputs)
    if any(inputs[j] is old for j in used):  # the rules read the value about to be overwritten
        copy = record(SAVED_COPY, t.data.copy(), (old,))
        inputs = tuple(copy if p is old else p for p in inputs)
    _write(name, t, others, write)
    stamp = versions.note_write(t.data, recorded=True)
    _rebase(t, record(op, t.data, inputs, params), stamp, old)
    if pos is not None:  # t views base: base now holds t's new value at pos
        old_base = _hidden(base)
        _rebase(base, record(COPY_SLICES, base.data, (old_base, t), {"pos": pos}), stamp,
                old_base)
    return t


def _rebase(t: Tensor, r: Tensor, stamp: int, old: Tensor) -> None:
    """Make `t` the output of node `r` from `stamp` on; `old` stands for its value before."""
    t.requires_grad = True
    t._op, t._inputs, t._params, t._seq = r._op, r._inputs, r._params, r._seq
    t._prev = (stamp, old)


def _write(name: str, t: Tensor, others: tuple, write: Callable[[], None]) -> None:
    try:
        write()
    except TypeError as e:  # numpy's casting errors (int tensor += float)
        shapes = ", ".join(f"{o.shape} {o.dtype}" for o in others)
        raise TypeError(f"{name}: {e} (tensor {t.shape} {t.dtype}; other {shapes}); an "
                        "in-place result must keep the tensor's dtype") from e
    except ValueError as e:
        shapes = ", ".join(f"{o.shape}" for o in others)
        raise ValueError(f"{name}: {e} (tensor of shape {t.shape}, other of shape {shapes}); "
                         "the other operand must broadcast to the tensor's shape") from e


def _binary(name: str, ufunc: Any, op: Op, scalar_op: Op) -> Callable[[Tensor, Any], Tensor]:
    def method(t: Tensor, other: Any) -> Tensor:
        if (type(other) is float or type(other) is int) and t.data.dtype.kind == "f":
            return _modify(t, name, (), lambda: ufunc(t.data, other, out=t.data), scalar_op,
                           {"c": other})
        o = operand(other, t, name)
        return _modify(t, name, (o,), lambda: ufunc(t.data, o.data, out=t.data), op, None)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: the tensor's own array becomes ``{op.name}(self, other)``; " \
                     "returns self."
    return method


add_ = _binary("add_", np.add, E.ADD, E.ADD_S)
sub_ = _binary("sub_", np.subtract, E.SUB, E.SUB_S)
mul_ = _binary("mul_", np.multiply, E.MUL, E.MUL_S)
div_ = _binary("div_", np.true_divide, E.DIV, E.DIV_S)


def clamp_(t: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """In place: values limited to [min, max] (either may be None); returns self."""
    new = E.clip(_const(t.data), min, max).data  # checks the bounds as clip does

    def write() -> None:
        t.data[...] = new

    return _modify(t, "clamp_", (), write, E.CLIP, {"lo": min, "hi": max})


def copy_(t: Tensor, src: Any) -> Tensor:
    """In place: the tensor's values become `src` (broadcast, cast to its dtype); returns
    self. Gradient: to `src`, none to the old values."""
    s = src if isinstance(src, Tensor) else operand(src, t, "copy_")

    def write() -> None:
        np.copyto(t.data, s.data, casting="unsafe")

    return _modify(t, "copy_", (s,), write, ASSIGN, None)


def fill_(t: Tensor, value: Any) -> Tensor:
    """In place: every element becomes `value` (a number or a one-element tensor)."""
    if isinstance(value, Tensor) and value.data.size != 1:
        raise ValueError(f"fill_: value must be a number or a one-element tensor, got shape "
                         f"{value.shape}")
    return copy_(t, value.reshape(()) if isinstance(value, Tensor) else value)


def zero_(t: Tensor) -> Tensor:
    """In place: every element becomes 0; returns self."""
    return copy_(t, 0)


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``: ints, slices, None, ..., integer arrays and boolean masks.
    Gradient: to `value` g[index]; to the old values g everywhere else."""
    idx = index_data(index)
    v = value if isinstance(value, Tensor) else operand(value, t, "setitem")

    def write() -> None:
        t.data[idx] = v.data

    try:
        _modify(t, "setitem", (v,), write, SETITEM, {"index": idx})
    except IndexError as e:
        raise IndexError(f"setitem: {e} (tensor of shape {t.shape}, index {index!r})") from e
