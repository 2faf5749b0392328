"""The reverse-mode engine: visit the graph newest-first, run each op's rules once, accumulate.

1. Every recorded tensor carries a creation number (``_seq``). A tensor's consumers were all
   created after it, so visiting tensors in decreasing ``_seq`` order (a heap) reaches each one
   only after every gradient contribution to it has arrived: a topological order without a
   separate sort and without recursion (a chain of a million ops is fine).
2. A node's op turns its incoming gradient into one gradient per input; ``unbroadcast`` reduces
   each to its input's shape and dtype (the only place in the library that does so). When a
   pending gradient is an array no one else holds (``owned``), an elementwise op may compute
   its input's gradient in place, as hand-written backprop does with ``dz *= sigma'(z)``.
3. Leaves accumulate into ``.grad`` (``backward``) or into the result (``grad``).
4. Unless the graph is retained, each node forgets its inputs and saved values right after
   use (it keeps its op, for its name), so intermediate arrays are freed and a second
   backward through it fails with a clear message.
"""
from __future__ import annotations

import weakref
from heapq import heappop, heappush
from typing import Any, Optional, Sequence, Union, cast

import numpy as np

from ..tensor import Tensor, _const
from . import grad_mode
from . import op as _op

TensorOrSeq = Union[Tensor, Sequence[Tensor]]

_FREED_MSG = (
    "backward: trying to backward through the graph a second time (or after its saved values "
    "were freed). Specify retain_graph=True on the first backward() or grad() call if you need "
    "to backward through the graph again."
)

# Non-leaf tensors whose gradient the user asked to keep (Tensor.retain_grad()), by id. (Not a
# WeakSet: that compares members with ==, which on Tensors is elementwise.)
retained: dict = {}


def retain(t: Tensor) -> None:
    k = id(t)
    retained[k] = weakref.ref(t, lambda _: retained.pop(k, None))


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


def _own(g: Any, incoming: Any, dtype: np.dtype) -> np.ndarray:
    """`g` as an array that ``.grad`` may own and add into in place (copied when it could be
    shared: a pass-through of the incoming gradient, a view, or a Tensor's data)."""
    if type(g) is np.ndarray and g is not incoming and g.base is None and g.flags.writeable:
        return g
    return np.array(_data(g), dtype=dtype)


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
        g = grad if (create_graph and isinstance(grad, Tensor)) else np.asarray(
            _data(grad), dtype=root.data.dtype)
        if g.shape != root.data.shape:
            raise ValueError(f"backward: grad of shape {g.shape} does not match the output's "
                             f"shape {root.shape}")
    if create_graph and not isinstance(g, Tensor):
        g = _const(g)
    return g


def run_backward(roots: Sequence[Tensor], seeds: Sequence[Any], retain_graph: bool,
                 create_graph: bool, capture: Optional[dict] = None) -> None:
    """Propagate `seeds` (dL/d root) back through the graph.

    With `capture` (a dict id(input) -> None), gradients of those tensors are stored there and
    no ``.grad`` is touched; otherwise leaves accumulate into ``.grad``.
    """
    grads: dict = {}  # id(tensor) -> gradient received so far
    owned: set = set()  # ids of tensors whose pending gradient no one but the engine holds
    heap: list = []  # (-_seq, tensor): the newest tensor comes out first
    for r, g in zip(roots, seeds):
        if r._op is None:  # the output is itself a leaf: its gradient is the seed (copied)
            _deliver(r, g, g, capture, create_graph)
        elif r._inputs is None:  # recorded, but its graph was freed
            raise RuntimeError(_FREED_MSG)
        elif id(r) in grads:
            grads[id(r)] = grads[id(r)] + g
        else:
            grads[id(r)] = g
            heappush(heap, (-r._seq, r))
    check = _op.anomaly_hook
    while heap:
        t = heappop(heap)[1]
        k = id(t)
        g = grads.pop(k)
        mine = k in owned
        owned.discard(k)
        inputs, op, params = t._inputs, t._op, t._params
        if not retain_graph:
            t._inputs = t._params = None  # frees the saved arrays; _op keeps the name
        if capture is not None and k in capture:
            capture[k] = g if capture[k] is None else capture[k] + g
            mine = False
        if retained and capture is None and k in retained:  # grad() leaves .grad alone
            t.grad = _own(g, None, t.data.dtype) if t.grad is None else t.grad + _data(g)
            mine = False
        if create_graph:
            results = op.backward(g, t, inputs, params, inputs)
        elif len(inputs) == 1:
            results = op.backward(g, t.data, (inputs[0].data,), params, inputs, mine)
        else:
            results = op.backward(g, t.data, [p.data for p in inputs], params, inputs)
        if check is not None:
            check(t, "backward", results, op)
        trust = not create_graph and op.fresh_results
        for p, gi in zip(inputs, results):
            if gi is None:
                continue
            pd = p.data
            if gi.shape != pd.shape:
                gi = unbroadcast(gi, pd.shape)
            if gi.dtype is not pd.dtype and gi.dtype != pd.dtype:  # `is`: the cheap common case
                gi = gi.astype(pd.dtype)
            if p._op is None:
                _deliver(p, gi, g, capture, create_graph)
                continue
            k = id(p)
            prev = grads.get(k)
            if prev is not None:
                grads[k] = total = prev + gi
                if type(total) is np.ndarray:  # a new array (0-d sums give numpy scalars)
                    owned.add(k)
            elif p._inputs is None:
                raise RuntimeError(_FREED_MSG)
            else:
                grads[k] = gi
                heappush(heap, (-p._seq, p))
                # Ours alone if the rule made it (not a pass-through of g, not a view), or if
                # g was ours and this is its only input (a pass-through such as reshape of
                # one tensor, or an in-place rule); g handed to two inputs is shared.
                if trust and type(gi) is np.ndarray and gi.flags.writeable and (
                        gi.base is None and gi is not g or mine and len(inputs) == 1):
                    owned.add(k)


def _data(g: Any) -> Any:
    """The array of a Tensor; anything else as it is (ndarray.data is a memoryview!)."""
    return g.data if isinstance(g, Tensor) else g


def _deliver(leaf: Tensor, g: Any, incoming: Any, capture: Optional[dict],
             create_graph: bool) -> None:
    """Hand a leaf its gradient: into the captured results, or accumulated into ``.grad``."""
    if capture is not None:
        k = id(leaf)
        if k in capture:
            capture[k] = g if capture[k] is None else capture[k] + g
        return
    if leaf.grad is None:
        leaf.grad = _own(g, incoming, leaf.data.dtype) if not create_graph else \
            np.array(_data(g), dtype=leaf.data.dtype)
    else:
        leaf.grad += _data(g)


def _tensors(x: TensorOrSeq) -> list[Tensor]:
    return list(x) if isinstance(x, (list, tuple)) else [cast(Tensor, x)]


def backward(tensors: TensorOrSeq, grad_tensors: Any = None,
             retain_graph: Optional[bool] = None, create_graph: bool = False) -> None:
    """Accumulate the gradient of `tensors` into ``.grad`` of every leaf that requires grad.

    `grad_tensors`: dL/d tensor for each tensor (None for one-element outputs).
    `retain_graph` defaults to `create_graph`.
    """
    roots = _tensors(tensors)
    gs = list(grad_tensors) if isinstance(grad_tensors, (list, tuple)) else [grad_tensors]
    if len(gs) == 1 and len(roots) > 1 and gs[0] is None:
        gs = gs * len(roots)
    seeds = [_seed(r, g, create_graph) for r, g in zip(roots, gs)]
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
    outs, ins = _tensors(outputs), _tensors(inputs)
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (inputs must be tensors "
                               "with requires_grad=True)")
    gos = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(gos) == 1 and len(outs) > 1 and gos[0] is None:
        gos = gos * len(outs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: got {len(gos)} grad_outputs for {len(outs)} outputs")
    retain = create_graph if retain_graph is None else retain_graph
    seeds = [_seed(o, g, create_graph) for o, g in zip(outs, gos)]
    capture: dict = {id(x): None for x in ins}
    if create_graph:
        with grad_mode.enable_grad():
            run_backward(outs, seeds, retain, True, capture)
    else:
        run_backward(outs, seeds, retain, False, capture)
    result: list = []
    for i, x in enumerate(ins):
        g: Any = capture[id(x)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute "
                                   "the outputs; pass allow_unused=True to get None for it")
            result.append(None)
            continue
        if isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(_const(np.array(g, dtype=x.data.dtype, copy=True)
                                 if type(g) is not np.ndarray or g.base is not None else g))
    return tuple(result)
