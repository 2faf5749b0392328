"""tensorgrad: a numpy autograd you can read in an afternoon.

Examples:
    >>> import tensorgrad as tg
    >>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x ** 2).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
"""
import typing as _typing

from numpy import bool_, float16, float32, float64, int32, int64

from . import ops
from .autograd import (
    Context,
    Function,
    GradcheckError,
    backward,
    detect_anomaly,
    enable_grad,
    grad,
    gradcheck,
    gradgradcheck,
    is_grad_enabled,
    no_grad,
    once_differentiable,
    set_grad_enabled,
)
from .compile import compile  # noqa: A004  (tg.compile, as torch.compile)
from .creation import (
    arange,
    eye,
    from_numpy,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    zeros,
    zeros_like,
)
from .dtypes import get_default_dtype, set_default_dtype
from .ops import *  # noqa: F403  (every public op; the list is ops.__all__)
from .random import get_rng, manual_seed
from .tensor import Tensor, as_tensor, tensor

clamp = ops.clip
# PyTorch's dtype names (dtype=torch.long ...), kept out of __all__: a star import must not
# shadow the builtin float.
float = float32  # noqa: A001
double = float64
long = int64

__version__ = "0.1.0"


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # The larger subpackages load on first use, so `import tensorgrad` stays light.
    import importlib

    if name in ("nn", "optim", "data", "viz", "testing", "reference", "examples"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tensorgrad' has no attribute {name!r}")


def load(path: _typing.Any) -> _typing.Any:
    """Read a checkpoint written by ``tg.save`` / ``Module.save`` (an .npz, never pickle).

    Returns the saved object exactly; see `tensorgrad.serialization.load`.
    """
    from .serialization import load as _load

    return _load(path)


def save(obj: _typing.Any, path: _typing.Any) -> None:
    """Write nested dicts/lists/tuples of arrays, Tensors, numbers, strings and None to
    `path` as an .npz checkpoint (no pickle), atomically; see
    `tensorgrad.serialization.save`.

    Examples:
        ``tg.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.npz")``
    """
    from .serialization import save as _save

    _save(obj, path)


__all__ = [
    "bool_", "float16", "float32", "float64", "int32", "int64", "ops", "Context", "Function",
    "GradcheckError", "backward", "detect_anomaly", "enable_grad", "grad", "gradcheck",
    "gradgradcheck", "is_grad_enabled", "no_grad", "once_differentiable",
    "set_grad_enabled", "arange", "eye",
    "from_numpy", "full", "linspace", "ones", "ones_like", "rand", "randint", "randn", "zeros",
    "zeros_like",
    "get_default_dtype", "set_default_dtype", "get_rng", "manual_seed", "Tensor", "as_tensor",
    "tensor", "clamp", "load", "save", "compile", *ops.__all__,
]
