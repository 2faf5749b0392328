"""Every op, one module per family. Each op's forward, gradient rule and test domain sit
together; `tensorgrad.autograd.op.OPS` lists them for the property tests.

The export list is built from the families' own ``__all__``: adding a public op means adding
it to its module's ``__all__`` (and a new family module to `_FAMILIES` below).
"""
from ..autograd import engine  # noqa: F401  (Tensor.backward/retain_grad reach it from here)
from . import (  # noqa: F401
    contraction,
    conv,
    elementwise,
    index,
    inplace,
    linalg,
    loss,
    pool,
    reduce,
    shape,
    sorting,
    window,
)
from .contraction import *  # noqa: F403
from .conv import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .elementwise import gelu_grad  # noqa: F401  (used by gelu's rule under create_graph)
from .index import *  # noqa: F403
from .interop import array_function, array_ufunc  # noqa: F401  (Tensor's numpy protocols)
from .linalg import *  # noqa: F403
from .loss import *  # noqa: F403
from .pool import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shape import *  # noqa: F403
from .shape import getitem, index_data, scatter_add  # noqa: F401  (Tensor indexing)
from .sorting import *  # noqa: F403
from .window import *  # noqa: F403

_FAMILIES = [elementwise, shape, reduce, linalg, loss, index, sorting, window, conv, pool,
             contraction]

__all__ = [name for family in _FAMILIES for name in family.__all__]


def _bind_operators() -> None:
    """Make the forward arithmetic operators the op functions themselves: ``x * y`` then
    calls ``mul(x, y)`` without the one-line ``Tensor.__mul__`` frame in between (one Python
    call per op instead of two, on eager code's hottest path). Tensor's class body keeps the
    one-liners, for readers and type checkers; the reflected operators swap their arguments,
    so they stay as they are."""
    from ..tensor import Tensor

    for name, fn in (("__add__", add), ("__sub__", sub), ("__mul__", mul),  # noqa: F405
                     ("__truediv__", div), ("__matmul__", matmul)):  # noqa: F405
        setattr(Tensor, name, fn)


_bind_operators()
