"""Forward hooks of a `Module`: functions called around its ``forward``, as PyTorch's
``register_forward_pre_hook`` / ``register_forward_hook``, and the handle that removes one."""
from __future__ import annotations

import itertools
from typing import Any, Callable

_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods: ``handle.remove()`` unregisters the hook
    (a second call does nothing). Also a context manager that removes it on exit."""

    def __init__(self, hooks: ForwardHooks, store: dict, key: int) -> None:
        self._hooks, self._store, self.id = hooks, store, key

    def remove(self) -> None:
        self._store.pop(self.id, None)
        self._hooks.prune()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class ForwardHooks:
    """The hooks of one module, in registration order. The module keeps this object only while
    it has hooks, so a module without hooks calls ``forward`` directly."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.pre: dict[int, Callable[..., Any]] = {}
        self.post: dict[int, Callable[..., Any]] = {}

    def add(self, store: dict, hook: Callable[..., Any], kind: str) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"register_{kind}: expected a callable hook, got "
                            f"{type(hook).__name__}")
        key = next(_ids)
        store[key] = hook
        return RemovableHandle(self, store, key)

    def prune(self) -> None:
        if not self.pre and not self.post and self.module.__dict__.get("_hooks") is self:
            del self.module.__dict__["_hooks"]

    def call(self, args: tuple, kwargs: dict) -> Any:
        m = self.module
        for hook in list(self.pre.values()):
            new = hook(m, args)
            if new is not None:  # a replacement input: a tuple of arguments, or the one argument
                args = new if isinstance(new, tuple) else (new,)
        out = m.forward(*args, **kwargs)
        for hook in list(self.post.values()):
            new = hook(m, args, out)
            if new is not None:
                out = new
        return out
