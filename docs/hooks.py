"""mkdocs hook: each ``::: module`` block of the API pages documents what the module exports.

With ``force_inspection`` (needed: many ops are created at import time) mkdocstrings lists
every name a module holds, including what it merely imports (``Tensor``, ``get_rng`` ...
inside ``nn.functional``). For a block without its own ``members:`` option, this hook
adds one: the module's ``__all__``, less submodules and objects defined outside tensorgrad
(numpy's dtypes re-exported for convenience).
"""
from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

_BLOCK = re.compile(r"^::: (?P<module>[\w.]+)\n(?P<options>(?:[ \t]+.*\n?)*)", re.M)


def exported(module_name: str) -> list[str] | None:
    """The names `module_name` exports and defines in tensorgrad, or None (no ``__all__``)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    names = getattr(module, "__all__", None)
    if names is None:
        return None
    keep = []
    for name in names:
        obj = getattr(module, name, None)
        if obj is None or inspect.ismodule(obj):
            continue
        home = getattr(obj, "__module__", None) or ""
        if home.split(".")[0] == "tensorgrad":
            keep.append(name)
    return keep


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    def expand(match: re.Match) -> str:
        options = match.group("options")
        if "members:" in options:
            return match.group(0)
        names = exported(match.group("module"))
        if names is None:
            return match.group(0)
        if not options.strip():
            options = "    options:\n"
        elif not options.endswith("\n"):
            options += "\n"
        return f"::: {match.group('module')}\n{options}      members: {names!r}\n"

    return _BLOCK.sub(expand, markdown)
