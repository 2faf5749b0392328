"""The reverse-mode engine: visit the graph newest-first, run each op's rules once, accumulate.

1. Every recorded tensor carries a creation number (``_seq``). A tensor's consumers were all
   created after it, so visiting tensors in decreasing ``_seq`` order (a heap) reaches each one
   only after every gradient contribution to it has arrived: a topological order without a
   separate sort and without recursion (a chain of a million ops is fine). When a node's only
   input can get nothing more from the pending nodes (all older), it runs next, without
   going through the heap.
2. A pending gradient travels with a flag, ``(g, mutable)`` as in HIPS autograd: mutable when
   nothing but the engine holds the array, so it may be overwritten (an elementwise op then
   computes its input's gradient in place, as hand-written backprop does with
   ``dz *= sigma'(z)``, and sums add into it). The flag is recomputed at every accumulation and
   cleared whenever the array is handed out (a hook, ``retain_grad``, ``tg.grad``).
3. A node's op turns its gradient into one gradient per input; ``unbroadcast`` reduces each to
   its input's shape and dtype (the only place in the library that does so), except for the
   ops whose gradients have that shape and dtype by construction (``Op.exact``).
4. Gradients of leaves from every path are summed first, then passed to the leaf's hooks and
   added to ``.grad`` once (``backward``) or returned (``grad``).
5. Unless the graph is retained, each node forgets its inputs and saved values right after
   use (it keeps its op, for its name), so intermediate arrays are freed and a second
   backward through it fails with a clear message.
6. Nodes recorded before an in-place write are checked first (``versions.check``): a value
   their rules read must not have changed since (PyTorch's version counter check).
"""
from __future__ import annotations

import gc
import weakref
from heapq import heappop, heappush
from typing import Any, Callable, Optional, Sequence, Union, cast

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _const
from . import grad_mode, versions
from . import op as _op

TensorOrSeq = Union[Tensor, Sequence[Tensor]]

_FREED_MSG = (
    "backward: trying to backward through the graph a second time (or after its saved values "
    "were freed). Specify retain_graph=True on the first backward() or grad() call if you need "
    "to backward through the graph again."
)

# The engine's in-place gradient rules (relu, tanh, sigmoid) and in-place sums. The tests turn
# this off to check that they change no result.
INPLACE_RULES = True


class _Watch:
    """What the user attached to one tensor: hooks (Tensor.register_hook) and retain_grad."""

    __slots__ = ("ref", "hooks", "retain")

    def __init__(self, ref: Any) -> None:
        self.ref = ref
        self.hooks: list = []
        self.retain = False


# Tensors with hooks or retain_grad(), by id. (Not a WeakKeyDictionary: that compares keys
# with ==, which on Tensors is elementwise.) Entries go when their tensor dies.
watched: dict = {}


def watch(t: Tensor) -> _Watch:
    k = id(t)
    w = watched.get(k)
    if w is None:
        w = watched[k] = _Watch(weakref.ref(t, lambda _: watched.pop(k, None)))
    return w


def retain(t: Tensor) -> None:
    watch(t).retain = True


class RemovableHandle:
    """Returned by ``Tensor.register_hook``: ``handle.remove()`` takes the hook off again."""

    def __init__(self, t: Tensor, fn: Callable[[Any], Any]) -> None:
        self._ref = weakref.ref(t)
        self._fn = fn

    def remove(self) -> None:
        t = self._ref()
        w = watched.get(id(t)) if t is not None else None
        if w is not None and self._fn in w.hooks:
            w.hooks.remove(self._fn)


def register_hook(t: Tensor, fn: Callable[[Any], Any]) -> RemovableHandle:
    if not t.requires_grad:
        raise RuntimeError(f"register_hook: cannot register a hook on a tensor that does not "
                           f"require grad (shape {t.shape})")
    if not callable(fn):
        raise TypeError(f"register_hook: fn must be callable, got {type(fn).__name__}")
    watch(t).hooks.append(fn)
    return RemovableHandle(t, fn)


def unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum `g` over the axes that broadcasting added or stretched, giving it `shape`."""
    lead = g.ndim - len(shape)
    if lead > 0 and g.shape[lead:] == shape:  # only new leading axes, e.g. a bias: one call
        return g.sum(axis=0 if lead == 1 else tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead or g.shape != shape:
        g = g.reshape(shape)
    return g


def _add(prev: Any, prev_mutable: bool, g: Any, mutable: bool) -> tuple:
    """(prev + g, whether the sum is the engine's own): into an array the engine owns if there
    is one, else a new array (a 0-d sum may be a numpy scalar: never mutable)."""
    if INPLACE_RULES:
        if prev_mutable:
            return np.add(prev, g, out=prev), True
        if mutable:
            return np.add(g, prev, out=g), True
    total = prev + g
    return total, type(total) is np.ndarray


def _seed(root: Tensor, grad: Any, create_graph: bool) -> Any:
    """The gradient that starts the pass at `root`: ones for a one-element output."""
    if not root.requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {root.shape} does not require grad and has no grad_fn "
            "(did you forget requires_grad=True, or compute it under no_grad()?)"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for one-element outputs; this "
                f"output has shape {root.shape}. Pass grad= (dL/d output) of that shape, or "
                "reduce it first (e.g. .sum())."
            )
        g: Any = np.array(1, dtype=root.data.dtype).reshape(root.data.shape)
    else:
        g = grad if (create_graph and isinstance(grad, Tensor)) else dtypes.to_array(
            _data(grad), root.data.dtype, copy=False, name="backward", what="grad")
        if g.shape != root.data.shape:
            raise ValueError(f"backward: grad of shape {g.shape} does not match the output's "
                             f"shape {root.shape}")
    if create_graph and not isinstance(g, Tensor):
        g = _const(g)
    return g


def run_backward(roots: Sequence[Tensor], seeds: Sequence[Any], retain_graph: bool,
                 create_graph: bool, capture: Optional[dict] = None) -> None:
    """Propagate `seeds` (dL/d root) back through the graph.

    With `capture` (a dict id(input) -> None), the gradients of those tensors are stored there
    as ``(g, mutable)`` and no ``.grad`` is touched; otherwise leaves accumulate into ``.grad``.
    """
    # The pass allocates a tuple or two per node and makes no reference cycles, yet those
    # allocations keep starting collections, now and then one that walks every live object
    # (the whole graph, large when deep): so the collector waits until the pass is over.
    # Whatever a hook makes is collected then.
    if not gc.isenabled():
        return _run_backward(roots, seeds, retain_graph, create_graph, capture)
    gc.disable()
    try:
        return _run_backward(roots, seeds, retain_graph, create_graph, capture)
    finally:
        gc.enable()


def _run_backward(roots: Sequence[Tensor], seeds: Sequence[Any], retain_graph: bool,
                  create_graph: bool, capture: Optional[dict]) -> None:
    # Pending nodes by creation number (unique among recorded tensors), with the heap holding
    # the negated numbers: int keys and int comparisons, no id() call and one tuple per node.
    pending: dict = {}  # _seq -> (node, gradient so far, mutable)
    leaves: dict = {}  # id(leaf) -> [leaf, gradient so far, mutable]
    heap: list = []  # -_seq: the newest node comes out first
    inplace = INPLACE_RULES and not create_graph
    checked = versions.last_write  # nodes recorded after every in-place write need no check
    recorded = versions.last_recorded  # tensors made after it cannot have been changed
    aliased = recorded >= 0  # any in-place change recorded in a graph yet
    handing = bool(watched) or capture is not None  # hooks, retain_grad, tg.grad
    for r, g in zip(roots, seeds):
        if r._op is None:
            _accumulate_leaf(leaves, r, g, False)
            continue
        if r._inputs is None:
            raise RuntimeError(_FREED_MSG)
        if r._seq < recorded:
            versions.check_root(r)
        s = r._seq
        if s in pending:
            pending[s] = (r, *_add(pending[s][1], pending[s][2], g, False))
        else:
            pending[s] = (r, g, False)
            heappush(heap, -s)
    anomaly = _op.anomaly_hook
    while heap:
        t: Any = pending.pop(-heappop(heap))
        # A run of nodes each handing its gradient to a single input (a chain) goes on
        # without the heap: `t` is the next node whenever no pending node can add to it.
        while t is not None:
            t, g, mutable = t
            if handing:
                g, mutable = _hand_out(t, g, mutable, capture, create_graph)
            inputs, op, params = t._inputs, t._op, t._params
            if t._seq < checked:
                inputs = versions.check(t, inputs)
            if not retain_graph:
                t._inputs = t._params = None  # frees the saved arrays; _op keeps the name
            if create_graph:
                results = op.backward(g, t, inputs, params, inputs)
                _require_tensors(op, results)
            elif len(inputs) == 1:
                results = op.backward(g, t.data, (inputs[0].data,), params, inputs,
                                      mutable and inplace)
            else:
                results = op.backward(g, t.data, [p.data for p in inputs], params, inputs)
            if anomaly is not None:
                anomaly(t, "backward", results, op)
            # A rule's result is the engine's own if the rule made it (not g passed through,
            # not a view), or if g was and this op has one input (reshape of g, an in-place
            # rule, g itself).
            fresh = inplace and op.fresh_results
            single = mutable and len(inputs) == 1
            exact = op.exact and not create_graph  # (see Op.exact)
            node, t = t, None
            for p, gi in zip(inputs, results):
                if gi is None:
                    continue
                if not exact:
                    pd = p.data
                    if gi.shape != pd.shape:
                        gi = unbroadcast(gi, pd.shape)
                    if gi.dtype is not pd.dtype and gi.dtype != pd.dtype:  # `is`: cheap case
                        gi = gi.astype(pd.dtype)
                if gi is g:  # passed through (add): mutable g is an ndarray the engine owns
                    mine = fresh and single
                elif exact:  # a product with g: a new array, unless a Traced one (tg.compile)
                    mine = fresh and type(gi) is np.ndarray
                else:  # (flags last: building the flags object costs more than the rest)
                    mine = fresh and type(gi) is np.ndarray and (
                        single or gi.base is None) and gi.flags.writeable
                if p._op is None:
                    _accumulate_leaf(leaves, p, gi, mine)
                    continue
                if aliased and p._seq < recorded:
                    versions.check_input(node, p, inputs)
                sp = p._seq
                prev = pending.get(sp)
                if prev is not None:
                    pending[sp] = (p, *_add(prev[1], prev[2], gi, mine))
                elif p._inputs is None:
                    raise RuntimeError(_FREED_MSG)
                elif len(inputs) == 1 and (not heap or heap[0] > -sp):
                    t = (p, gi, mine)  # every pending node is older: nothing more reaches p
                else:
                    pending[sp] = (p, gi, mine)
                    heappush(heap, -sp)
    for leaf, g, mutable in leaves.values():
        if handing:
            g, mutable = _hand_out(leaf, g, mutable, capture, create_graph)
        if capture is None:
            _deliver(leaf, g, mutable, create_graph)


def _accumulate_leaf(leaves: dict, leaf: Tensor, g: Any, mutable: bool) -> None:
    """Add `g` to the gradient `leaf` collects during this pass (delivered once, at the end)."""
    if not leaf.requires_grad:
        return
    k = id(leaf)
    prev = leaves.get(k)
    if prev is None:
        leaves[k] = [leaf, g, mutable]
    else:
        prev[1], prev[2] = _add(prev[1], prev[2], g, mutable)


def _hand_out(t: Tensor, g: Any, mutable: bool, capture: Optional[dict],
              create_graph: bool) -> tuple:
    """Run `t`'s hooks on its gradient `g` (each may replace it), then keep it for
    ``retain_grad`` and ``tg.grad``. Anything handed out is no longer the engine's alone."""
    k = id(t)
    w = watched.get(k)
    if w is not None:
        for fn in list(w.hooks):
            mutable = False
            out = fn(g)
            if out is not None:
                g = _hook_result(t, out, fn, create_graph)
        if w.retain and capture is None and t._op is not None:  # grad() leaves .grad alone
            own = np.array(_data(g), dtype=t.data.dtype, copy=True)
            t.grad = own if t.grad is None else t.grad + own
    if capture is not None and k in capture:
        capture[k] = (g, mutable)
        mutable = False
    return g, mutable


def _hook_result(t: Tensor, out: Any, fn: Any, create_graph: bool) -> Any:
    name = getattr(fn, "__name__", repr(fn))
    if create_graph:
        out = out if isinstance(out, Tensor) else _const(np.asarray(out, dtype=t.data.dtype))
    else:
        out = np.asarray(_data(out))
        if out.dtype != t.data.dtype:
            out = out.astype(t.data.dtype)
    if out.shape != t.shape:
        raise RuntimeError(f"hook {name}: returned a gradient of shape {out.shape} for a "
                           f"tensor of shape {t.shape}; a hook must keep the shape")
    return out


def _require_tensors(op: Any, results: list) -> None:
    """Under create_graph a gradient must be a Tensor, or its own derivative is lost."""
    for i, gi in enumerate(results):
        if gi is not None and not isinstance(gi, Tensor):
            raise RuntimeError(
                f"backward: the gradient rule of '{op.name}' for input {i} returned a "
                f"{type(gi).__name__}, not a Tensor, under create_graph=True, so it cannot be "
                "differentiated again. Write the rule with Tensor operations (numpy calls on "
                "Tensors record), or make its op second_order=False.")


def _data(g: Any) -> Any:
    """The array of a Tensor; anything else as it is (ndarray.data is a memoryview!)."""
    return g.data if isinstance(g, Tensor) else g


def _deliver(leaf: Tensor, g: Any, mutable: bool, create_graph: bool) -> None:
    """Add a leaf's total gradient into ``.grad`` (which owns its array)."""
    g = _data(g)
    if leaf.grad is None:
        leaf.grad = g if mutable and not create_graph and type(g) is np.ndarray else \
            np.array(g, dtype=leaf.data.dtype, copy=True)
    else:
        leaf.grad += g


def backward(tensors: TensorOrSeq, grad_tensors: Any = None,
             retain_graph: Optional[bool] = None, create_graph: bool = False) -> None:
    """Accumulate the gradient of `tensors` into ``.grad`` of every leaf that requires grad.

    `grad_tensors`: dL/d tensor for each tensor (None for one-element outputs).
    `retain_graph` defaults to `create_graph`.
    """
    roots = _tensors(tensors)
    seeds = _seeds("backward", roots, grad_tensors, create_graph)
    retain = create_graph if retain_graph is None else bool(retain_graph)
    if create_graph:
        with grad_mode.enable_grad():
            run_backward(roots, seeds, retain, True)
    else:
        run_backward(roots, seeds, retain, False)


def grad(outputs: TensorOrSeq, inputs: TensorOrSeq, grad_outputs: Any = None,
         retain_graph: Optional[bool] = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple of Tensors, one per input; ``.grad`` is left alone.

    `grad_outputs`: dL/d output for each output (None for one-element outputs). With
    ``create_graph=True`` the results are part of a new graph and can be differentiated
    again (second derivatives, Hessian-vector products). `retain_graph` defaults to
    `create_graph`. An input that does not influence the outputs raises unless
    ``allow_unused=True``, which gives None for it.

    Examples:
        >>> import tensorgrad as tg
        >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> (g,) = tg.grad((x ** 3).sum(), x, create_graph=True)   # 3 x^2
        >>> g
        tensor([ 3., 12.], grad_fn=<mul>)
        >>> tg.grad(g.sum(), x)                                     # 6 x
        (tensor([ 6., 12.]),)
    """
    outs = _tensors(outputs)
    ins = _tensors(inputs)
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (inputs must be tensors "
                               "with requires_grad=True)")
    retain = create_graph if retain_graph is None else retain_graph
    seeds = _seeds("grad", outs, grad_outputs, create_graph)
    capture: dict = {id(x): None for x in ins}
    if create_graph:
        with grad_mode.enable_grad():
            run_backward(outs, seeds, retain, True, capture)
    else:
        run_backward(outs, seeds, retain, False, capture)
    result: list = []
    for i, x in enumerate(ins):
        got = capture[id(x)]
        if got is None:
            if not allow_unused:
                raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute "
                                   "the outputs; pass allow_unused=True to get None for it")
            result.append(None)
            continue
        g, mutable = got
        if isinstance(g, Tensor):
            result.append(g)
        else:  # an array of its own: not the seed, not another result
            result.append(_const(g if mutable and type(g) is np.ndarray else
                                 np.array(g, dtype=x.data.dtype, copy=True)))
    return tuple(result)


def _tensors(x: TensorOrSeq) -> list[Tensor]:
    return list(x) if isinstance(x, (list, tuple)) else [cast(Tensor, x)]


def _seeds(name: str, roots: list[Tensor], grads: Any, create_graph: bool) -> list:
    """One starting gradient per root (`grads` None: all implicit), as PyTorch checks."""
    if grads is None:
        gs: list = [None] * len(roots)
    else:
        gs = list(grads) if isinstance(grads, (list, tuple)) else [grads]
    if len(gs) != len(roots):
        raise RuntimeError(f"{name}: got {len(roots)} tensors and {len(gs)} gradients; pass "
                           "one gradient per tensor (None for a one-element tensor)")
    return [_seed(r, g, create_graph) for r, g in zip(roots, gs)]
