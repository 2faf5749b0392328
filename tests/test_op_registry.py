"""Meta-tests: every public op is declared completely, and the core stays layered.

A public op (a name in ``tg.ops.__all__``) must have
- its Tensor method, where the API contract (/work/shared/API.md) gives it one;
- its numpy interop entry, where numpy has a function of that name (so ``np.<name>(t)`` and
  gradient rules calling it are differentiated), unless listed in NO_INTEROP with the reason;
- a registered `Op` with a test domain (first-order property test), and ``second_order=True``
  (second-order test) unless listed in FIRST_ORDER_ONLY with the reason;
unless it has no gradient at all (NOT_DIFFERENTIABLE).
"""
import ast
import pathlib
import types

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn.functional  # noqa: F401  (registers the composite losses in OPS)
from tensorgrad.autograd.op import NUMPY, OPS, Op, record
from tensorgrad.ops.interop import CONSTANT

# Methods the contract lists ("Methods (also as functions tg.exp(x) etc.)" and the Wave 2 "More
# ops (methods and tg. functions ...)", less those it spells as functions, tg.allclose and
# F.one_hot, and those PyTorch has no Tensor method for, einsum and pad).
CONTRACT_METHODS = {
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clip", "sum", "mean", "max", "min",
    "var", "logsumexp", "reshape", "transpose", "flatten", "squeeze", "unsqueeze", "expand",
    "broadcast_to", "log1p", "expm1", "sin", "cos", "pow", "cumsum", "sort", "topk", "gather",
    "argmax", "argmin", "masked_fill", "repeat", "std", "softmax", "log_softmax",
}

# Public functions without a gradient (their results are constants).
NOT_DIFFERENTIABLE = {
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "sign",
    "argmax", "argmin", "allclose", "one_hot",
}

# tensorgrad name -> numpy name, where they differ.
NUMPY_NAME = {"sub": "subtract", "mul": "multiply", "div": "true_divide", "neg": "negative",
              "pow": "power", "eq": "equal", "ne": "not_equal", "lt": "less",
              "le": "less_equal", "gt": "greater", "ge": "greater_equal",
              "unsqueeze": "expand_dims"}

# numpy functions of the same name that mean something else: no interop entry, on purpose
# (called on a tensor that requires grad they raise, naming the function).
NO_INTEROP = {
    "sort": "tg.sort returns (values, indices), numpy's sort the values",
    "repeat": "tg.repeat tiles (PyTorch's repeat); numpy's repeat repeats elements",
    "pad": "numpy's pad takes mode= and constant_values=; tg.pad takes value=",
}

# Differentiable ops whose second derivative is not tested, and why.
FIRST_ORDER_ONLY: dict = {}


def _op_of(name, fn, ops):
    op = ops.get(name) or ops.get(getattr(fn, "__name__", None))  # aliases such as cat
    if op is not None:
        return op
    return next((o for o in ops.values() if o.fn is fn), None)


def registry_problems(names, namespace, ops, numpy_table, tensor_cls, methods):
    """What each public op in `names` lacks (an empty list when all are complete)."""
    problems = []
    for name in names:
        fn = getattr(namespace, name)
        if name in methods and not callable(getattr(tensor_cls, name, None)):
            problems.append(f"{name}: no Tensor method (the contract has x.{name}())")
        np_fn = getattr(np, NUMPY_NAME.get(name, name), None)
        if callable(np_fn) and np_fn not in numpy_table and np_fn not in CONSTANT \
                and name not in NO_INTEROP:
            problems.append(f"{name}: no numpy interop entry for numpy.{np_fn.__name__} "
                            f"(declare numpy=np.{np_fn.__name__} where it is registered)")
        if name in NOT_DIFFERENTIABLE:
            continue
        op = _op_of(name, fn, ops)
        if op is None or op.domain is None:
            problems.append(f"{name}: no gradient property test (register it with an Op that "
                            "has a domain=)")
        elif not op.second_order and name not in FIRST_ORDER_ONLY:
            problems.append(f"{name}: second_order=False without a reason in FIRST_ORDER_ONLY")
    return problems


def test_every_public_op_is_declared_completely():
    problems = registry_problems(tg.ops.__all__, tg.ops, OPS, NUMPY, tg.Tensor,
                                 CONTRACT_METHODS)
    assert not problems, "\n".join(problems)


def test_an_incomplete_declaration_is_flagged():
    # The meta-test can fail: an op with a numpy counterpart (log2), listed as a contract
    # method, registered without domain, method or interop entry, is reported three times over.
    op = Op("log2", lambda g, ans, x: g / (x * np.log(2)))

    def log2(x):
        return record(op, np.log2(x.data), (x,))

    op.fn = log2
    problems = registry_problems(["log2"], types.SimpleNamespace(log2=log2), {"log2": op}, {},
                                 tg.Tensor, {"log2"})
    assert len(problems) == 3, problems
    assert any("Tensor method" in p for p in problems)
    assert any("numpy.log2" in p for p in problems)
    assert any("property test" in p for p in problems)
    tested = Op("log2", op.rules[0], domain=lambda draw, s: None, second_order=False)
    problems = registry_problems(["log2"], types.SimpleNamespace(log2=log2), {"log2": tested},
                                 {np.log2: log2}, tg.Tensor, set())
    assert problems == ["log2: second_order=False without a reason in FIRST_ORDER_ONLY"]


def test_every_op_made_with_a_domain_is_registered():
    # An Op given a domain but never passed to `register` would have no test: find them all in
    # the op modules' globals.
    import tensorgrad.ops as ops

    registered = set(map(id, OPS.values()))
    for family in [*ops._FAMILIES, tensorgrad.nn.functional]:
        for var, value in vars(family).items():
            if isinstance(value, Op) and value.domain is not None:
                assert id(value) in registered, f"{family.__name__}.{var} is not registered"


# ------------------------------------------------------------------------- layering
PKG = pathlib.Path(tg.__file__).parent
CORE = ["tensor.py", "autograd/op.py", "autograd/engine.py", "autograd/function.py",
        "autograd/gradcheck.py", "autograd/anomaly.py", "autograd/grad_mode.py"]


def _imports(path):
    """(module level?, module imported) for every intra-package import in `path`."""
    tree = ast.parse((PKG / path).read_text())
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            out.append((id(node) in top, "." * node.level + (node.module or ""),
                        [a.name for a in node.names], node.lineno))
    return out


def test_the_core_imports_at_module_level_only():
    for path in CORE:
        late = [imp for imp in _imports(path) if not imp[0]]
        assert not late, f"{path}: import inside a function: {late}"


# Modules below tensor.py: they import nothing from the package but each other.
LEAVES = {"dtypes.py": ".dtypes", "spellings.py": ".spellings",
          "autograd/grad_mode.py": ".autograd.grad_mode"}


def _target(imp):
    """The module an import names, as a dotted path relative to the package."""
    level_mod, names = imp[1], imp[2]
    return [level_mod + ("" if level_mod.endswith(".") else ".") + n for n in names] \
        if level_mod.strip(".") == "" else [level_mod]


def test_tensor_module_has_one_late_edge():
    # tensor.py imports only leaf modules, and the upper layer (tensorgrad.ops) once, late, at
    # its very bottom: the one documented late-bound edge.
    upward = [imp for imp in _imports("tensor.py")
              if not set(_target(imp)) <= set(LEAVES.values())]
    assert [_target(imp) for imp in upward] == [[".ops"]], upward
    last_line = max(n.lineno for n in ast.parse((PKG / "tensor.py").read_text()).body)
    assert upward[0][3] == last_line
    for path in LEAVES:
        assert not _imports(path), f"{path} is a leaf module: it imports nothing from the package"


@pytest.mark.parametrize("path", ["autograd/op.py", "autograd/engine.py", "autograd/function.py"])
def test_core_annotations_use_tensor_not_any(path):
    text = (PKG / path).read_text()
    assert "from ..tensor import Tensor" in text
    assert "Tensor: Any" not in text
