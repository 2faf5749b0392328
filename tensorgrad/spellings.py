"""Keyword spellings of both conventions: numpy's (``axis=``, ``keepdims=``, ``ddof=``) and
PyTorch's (``dim=``, ``keepdim=``, ``correction=``, ``unbiased=``, ``min=``/``max=`` ...).

`spellings` wraps a function whose parameters use the numpy names so that it also takes the
PyTorch ones, and turns a keyword it does not know into a `TypeError` that names the spelling
it does take, instead of Python's bare "unexpected keyword argument". This table is the one
place where the aliases are defined.
"""
from __future__ import annotations

import difflib
import functools
import inspect
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# Another spelling -> (the numpy-style parameter it stands for, converter, whose spelling).
_same = (lambda v: v)
ALIASES: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "dim": ("axis", _same, "PyTorch"),
    "keepdim": ("keepdims", _same, "PyTorch"),
    "correction": ("ddof", _same, "PyTorch"),
    "unbiased": ("ddof", lambda v: int(bool(v)), "PyTorch"),
    "min": ("lo", _same, "PyTorch"),
    "max": ("hi", _same, "PyTorch"),
    "a_min": ("lo", _same, "numpy"),
    "a_max": ("hi", _same, "numpy"),
    "start_dim": ("start_axis", _same, "PyTorch"),
    "end_dim": ("end_axis", _same, "PyTorch"),
    "tensors": ("seq", _same, "PyTorch"),
    "arrays": ("seq", _same, "numpy"),
    "input": ("x", _same, "PyTorch"),
}

# Keywords that no function here takes, with the reason.
_UNSUPPORTED = {
    "out": "tensorgrad ops always return a new tensor (no out=)",
    "dtype": "cast the input first, e.g. x.astype(np.float64)",
    "size_average": "it is deprecated in PyTorch too; use reduction='mean' or 'sum'",
    "reduce": "it is deprecated in PyTorch too; use reduction='none'",
}


def _hint(key: str, params: list) -> str:
    """How to spell what `key` probably meant, for a function with parameters `params`."""
    if key in _UNSUPPORTED:
        return _UNSUPPORTED[key]
    # Group each numpy-style parameter with its PyTorch spellings (a parameter that is itself
    # an alias, like max's own `dim`, joins its numpy name's group).
    groups: dict = {}
    for p in params:
        alias = ALIASES.get(p)
        c = alias[0] if alias is not None and alias[0] in params else p
        groups.setdefault(c, [c])
    for a, (t, _, _) in ALIASES.items():
        if t in groups and a not in groups[t]:
            groups[t].append(a)
    every = {s: c for c, spelled in groups.items() for s in spelled}
    close = difflib.get_close_matches(key, list(every), n=1, cutoff=0.6)
    if close:
        c = every[close[0]]
        numpy = [s for s in groups[c] if ALIASES.get(s, ("", _same, "numpy"))[2] == "numpy"
                 or s == c]
        torch = [s for s in groups[c] if s not in numpy]
        said = "= / ".join(numpy) + "="
        return f"use {said} (numpy) or {'= / '.join(torch)}= (PyTorch)" if torch else \
            f"use {said}"
    if not groups:
        return "it takes no keywords"
    return "accepted keywords: " + ", ".join("/".join(g) for g in groups.values())


def spellings(fn: F) -> F:
    """Let `fn` take the PyTorch spelling of each of its numpy-style keywords (see `ALIASES`).

    A keyword that is itself a parameter of `fn` is never renamed (``max`` handles ``dim=``
    itself). Giving both spellings, or a keyword both by position and by name, raises
    TypeError. Calls without keywords go straight to `fn`.
    """
    sig = inspect.signature(fn)
    params = [p.name for p in sig.parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    shown = [p for p in params if p not in ("self", "x")]
    positions = {p.name: i for i, p in enumerate(sig.parameters.values())
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())
    name = fn.__name__

    def translate(args: tuple, kwargs: dict) -> dict:
        out: dict = {}
        for key, value in kwargs.items():
            target = key
            if key not in params:
                alias = ALIASES.get(key)
                if alias is None or alias[0] not in params:
                    raise TypeError(f"{name}: unexpected keyword {key!r}; "
                                    f"{_hint(key, shown)}")
                target, value = alias[0], alias[1](value)
            pos = positions.get(target)
            if target in out or (pos is not None and not has_varargs and pos < len(args)):
                raise TypeError(f"{name}: {target!r} is given twice (as {key}= and "
                                f"{'by position' if target not in out else 'another keyword'})")
            out[target] = value
        return out

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            kwargs = translate(args, kwargs)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


_DEVICES = ("cpu", "cuda", "mps", "xpu", "hip", "meta", "xla", "vulkan")


def to_args(owner: str, args: tuple, dtype: Any, device: Any, current: Any) -> Any:
    """The dtype that PyTorch-style ``.to(...)`` arguments ask for (`current` if none).

    Each positional argument is a dtype or a device; the only device is the CPU ('cpu',
    'cpu:0' or an object whose str is one of those), so it changes nothing."""
    import numpy as np

    for a in args:
        if isinstance(a, str) and a.split(":")[0] in _DEVICES or type(a).__name__ == "device":
            device = a
        elif dtype is None:
            dtype = a
        else:
            raise TypeError(f"{owner}: unexpected argument {a!r}; expected a dtype and/or a "
                            "device ('cpu')")
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise ValueError(f"{owner}: device {str(device)!r} is not available: tensorgrad runs on "
                         "the CPU with numpy; use 'cpu' or drop the .to(device) call")
    if dtype is None:
        return current
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{owner}: {dtype!r} is not a dtype (expected e.g. np.float32)") from e
