"""Whether operations record a graph: `no_grad`, `enable_grad`, `is_grad_enabled`."""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# A module global rather than a thread-local: every op reads it, and this keeps that read cheap.
enabled: bool = True


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad record the graph."""
    return enabled


class _GradMode:
    """Context manager and decorator that sets grad recording to `self.mode`."""

    mode = True

    def __new__(cls, *args: Any) -> Any:
        # Allow the bare decorator form ``@tg.no_grad`` as well as ``@tg.no_grad()``.
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])
        return super().__new__(cls)

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        global enabled
        self._prev.append(enabled)
        enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global enabled
        enabled = self._prev.pop()

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
    """``with tg.set_grad_enabled(flag):`` records when `flag` is true."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
