"""Whether operations record a graph: `no_grad`, `enable_grad`, `set_grad_enabled`,
`is_grad_enabled`. The mode is per thread, as in PyTorch: ``no_grad`` in one thread leaves
every other thread recording (and a new thread starts with recording on)."""
from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# The calling thread's mode. A ContextVar is per thread (each new thread starts from the
# default) and reads faster than a threading.local: every recorded op reads it, through
# `is_enabled`, a bound method (one C call).
_mode: ContextVar[bool] = ContextVar("tensorgrad_grad_enabled", default=True)
is_enabled = _mode.get
_set = _mode.set


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad record the graph (in this thread)."""
    return _mode.get()


class _GradMode:
    """Context manager and decorator that sets grad recording to `self.mode`."""

    mode = True

    def __new__(cls, *args: Any) -> Any:
        # Allow the bare decorator form ``@tg.no_grad`` as well as ``@tg.no_grad()``.
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])
        return super().__new__(cls)

    def __init__(self) -> None:
        self._prev: list[bool] = []  # a stack, so one instance can be entered re-entrantly

    def __enter__(self) -> None:
        self._prev.append(_mode.get())
        _set(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set(self._prev.pop())

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Record nothing inside: ``with tg.no_grad(): ...`` or ``@tg.no_grad()``."""

    mode = False


class enable_grad(_GradMode):
    """Record again inside a ``no_grad`` block (context manager or decorator)."""

    mode = True


class set_grad_enabled(_GradMode):
    """Turn recording on or off, as PyTorch's: ``tg.set_grad_enabled(False)`` called alone
    takes effect at once (for this thread); ``with tg.set_grad_enabled(flag):`` restores the
    previous mode on exit; ``@tg.set_grad_enabled(flag)`` applies it to each call."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._prev.append(_mode.get())
        _set(self.mode)

    def __enter__(self) -> None:
        pass  # already in effect since __init__; __exit__ restores the mode before it

    def __call__(self, fn: F) -> F:
        _set(self._prev.pop())  # a decorator changes nothing until fn is called
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
