"""Every op, one module per family. Each op's forward, gradient rule and test domain sit
together; `tensorgrad.autograd.op.OPS` lists them for the property tests."""
from .elementwise import (
    abs, add, astype, clip, cos, div, eq, exp, ge, gelu, gelu_grad, gt, le, leaky_relu, log, logical_and,
    logical_not, logical_or, lt, maximum, minimum, mul, ne, neg, pow, relu, sigmoid, sign, sin,
    sqrt, sub, tanh, where,
)
from .interop import array_function, array_ufunc
from .linalg import linear, matmul
from .loss import binary_cross_entropy_with_logits, cross_entropy
from .reduce import log_softmax, logsumexp, max, mean, min, softmax, std, sum, var
from .shape import (
    broadcast_to, cat, concatenate, expand, flatten, getitem, index_data, permute, reshape,
    scatter_add, squeeze, stack, swapaxes, transpose, unsqueeze,
)

__all__ = [
    "abs", "add", "astype", "clip", "cos", "div", "eq", "exp", "ge", "gelu", "gelu_grad", "gt", "le",
    "leaky_relu", "log", "logical_and", "logical_not", "logical_or", "lt", "maximum",
    "minimum", "mul", "ne", "neg", "pow", "relu", "sigmoid", "sign", "sin", "sqrt", "sub",
    "tanh", "where", "array_function", "array_ufunc", "linear", "matmul",
    "binary_cross_entropy_with_logits", "cross_entropy", "log_softmax", "logsumexp", "max",
    "mean", "min", "softmax", "std", "sum", "var", "broadcast_to", "cat", "concatenate",
    "expand", "flatten", "getitem", "index_data", "permute", "reshape", "scatter_add",
    "squeeze", "stack", "swapaxes", "transpose", "unsqueeze",
]
