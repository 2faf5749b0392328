"""Optional frameworks for the MLP step: PyTorch (eager, CPU), MyGrad, HIPS autograd and JAX
(eager and jit). Each is imported only when asked for and skipped with a note when missing;
none is a dependency of tensorgrad or of the benchmarks.

Every adapter computes exactly the step of ``contenders.py`` (x @ W + b per layer, ReLU,
mean softmax cross-entropy, plain SGD) from the same initial parameters and batch, in the
benchmark's dtype; ``contenders.agreement`` checks that before anything is timed.

The benchmark runs them in a process of their own (``frameworks_worker.py``): importing
this module is harmless, but :func:`available` imports the frameworks.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .contenders import Params


class TorchContender:
    """PyTorch eager on the CPU: ``addmm`` (PyTorch's fused x @ W + b), ``relu``,
    ``F.cross_entropy``, ``torch.optim.SGD`` with ``zero_grad(set_to_none=True)``."""

    name = "pytorch (eager)"
    runtime = "torch"
    threads = 2  # set by mlp_step.run to the thread count every contender uses

    def __init__(self, params: Params, lr: float) -> None:
        import torch

        torch.set_num_threads(self.threads)
        self.torch = torch
        self.layers = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
                       for W, b in params]
        self.opt = torch.optim.SGD([p for layer in self.layers for p in layer], lr=lr)

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return self.torch.from_numpy(X), self.torch.from_numpy(y.astype(np.int64))

    def _logits(self, x: Any) -> Any:
        last = len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            x = self.torch.addmm(b, x, W)
            if i < last:
                x = self.torch.relu(x)
        return x

    def step(self, x: Any, y: Any) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self._logits(x), y)
        loss.backward()
        self.opt.step()

    def params(self) -> Params:
        return [(W.detach().numpy().copy(), b.detach().numpy().copy()) for W, b in self.layers]


class MyGradContender:
    """MyGrad: ``matmul`` + bias, ``relu``, ``softmax_crossentropy`` (mean), in-place SGD on
    ``.data``."""

    name = "mygrad"

    def __init__(self, params: Params, lr: float) -> None:
        import mygrad as mg
        from mygrad.nnet.activations import relu
        from mygrad.nnet.losses import softmax_crossentropy

        self.mg, self.relu, self.loss = mg, relu, softmax_crossentropy
        self.layers = [(mg.tensor(W.copy()), mg.tensor(b.copy())) for W, b in params]
        self.lr = lr

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return X, y

    def step(self, x: Any, y: np.ndarray) -> None:
        last = len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            x = self.mg.matmul(x, W) + b
            if i < last:
                x = self.relu(x)
        self.loss(x, y).backward()
        for W, b in self.layers:
            # .grad is None only before a backward pass
            W.data -= self.lr * W.grad  # type: ignore[operator]
            b.data -= self.lr * b.grad  # type: ignore[operator]

    def params(self) -> Params:
        return [(W.data.copy(), b.data.copy()) for W, b in self.layers]


class HipsAutogradContender:
    """HIPS autograd: ``grad`` of a pure numpy loss (``autograd.scipy.special.logsumexp``),
    in-place SGD on the numpy parameters."""

    name = "hips autograd"

    def __init__(self, params: Params, lr: float) -> None:
        import autograd.numpy as anp
        from autograd import grad
        from autograd.scipy.special import logsumexp

        def loss(layers: Any, x: Any, y: Any) -> Any:
            last = len(layers) - 1
            for i, (W, b) in enumerate(layers):
                x = anp.dot(x, W) + b
                if i < last:
                    x = anp.maximum(x, 0.0)
            return anp.mean(logsumexp(x, axis=1) - x[anp.arange(x.shape[0]), y])

        self.grad = grad(loss)
        self.layers = [(W.copy(), b.copy()) for W, b in params]
        self.lr = lr

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return X, y

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        grads = self.grad(self.layers, x, y)
        for (W, b), (dW, db) in zip(self.layers, grads):
            W -= self.lr * dW
            b -= self.lr * db

    def params(self) -> Params:
        return [(W.copy(), b.copy()) for W, b in self.layers]


_JAX_JIT: Dict[float, Callable[..., Any]] = {}


def _jax_update(lr: float) -> Callable[..., Any]:
    """``update(layers, x, y) -> new layers``: forward, ``jax.grad`` and SGD, as one pure
    function of the parameters (what ``jax.jit`` compiles as a whole)."""
    import jax
    import jax.numpy as jnp

    def loss(layers: Any, x: Any, y: Any) -> Any:
        last = len(layers) - 1
        for i, (W, b) in enumerate(layers):
            x = x @ W + b
            if i < last:
                x = jax.nn.relu(x)
        picked = jnp.take_along_axis(x, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(x, axis=1) - picked)

    def update(layers: Any, x: Any, y: Any) -> Any:
        grads = jax.grad(loss)(layers, x, y)
        return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(layers, grads)]

    return update


# XLA's CPU runtime has a thread pool of its own, one thread per CPU the process may run
# on, and no setting for its size: ``--xla_cpu_multi_thread_eigen=false`` leaves that pool
# busy in JAX 0.10 (and ``intra_op_parallelism_threads=1``, often quoted with it, is not an
# XLA flag). Confining the frameworks' process to as many CPUs as threads asked for is what
# holds XLA (and everything else there) to that many cores.


def usable_cpus() -> List[int]:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def framework_cpus(threads: int) -> Optional[List[int]]:
    """The CPUs the frameworks' process keeps so that no framework uses more than
    ``threads`` cores: the first ``threads`` of those it may use now, or None when that
    is all of them already or the platform cannot confine a process (not Linux)."""
    cpus = usable_cpus()
    if not hasattr(os, "sched_setaffinity") or threads >= len(cpus):
        return None
    return cpus[:threads]


def framework_threads_how(threads: int, cpus: Optional[List[int]], available: int) -> str:
    """What the frameworks' threads are, in a sentence: ``cpus`` from
    :func:`framework_cpus`, ``available`` the number of CPUs usable before confinement."""
    if cpus is not None:
        text = (f"the frameworks' process (JAX, and the numpy reference † beside it) confined "
                f"to CPU {', '.join(map(str, cpus))} of {available} (sched_setaffinity), "
                "which XLA sizes its pool to")
    elif threads < available:
        text = (f"XLA's default pool, one thread per CPU ({available}): this platform cannot "
                f"confine it to {threads}")
    else:
        text = f"XLA's default pool, one thread per CPU ({available})"
    if "XLA_FLAGS" in os.environ:
        text += f"; XLA_FLAGS={os.environ['XLA_FLAGS']!r} as set by the user"
    return text


class JaxContender:
    """JAX on the CPU without ``jit``: ``jax.grad`` of the loss, op by op. Every step
    waits for its result (``block_until_ready``), as the others do by construction."""

    name = "jax (eager)"
    runtime = "jax"
    jit = False
    # A timed step waits for its result. A training loop need not (JAX queues the next step
    # meanwhile); its end waits anyway, when predict() reads the parameters.
    wait = True
    # Eager JAX compiles each primitive for each new shape (seconds per batch size), which
    # the quick run cannot afford; it is measured in the full run.
    full_only = True

    def __init__(self, params: Params, lr: float) -> None:
        import jax

        # float64 needs x64 mode; float32 arrays stay float32 in it.
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax = jax
        self.jnp = jnp
        if self.jit:
            if lr not in _JAX_JIT:  # one compiled function per lr, shared across instances
                # Donating the old parameters lets XLA write the new ones into their
                # buffers, as a JAX training loop does (``layers = update(layers, ...)``).
                _JAX_JIT[lr] = jax.jit(_jax_update(lr), donate_argnums=0)
            self.update = _JAX_JIT[lr]
        else:
            self.update = _jax_update(lr)
        # Copies: a donated buffer must never be the caller's numpy memory.
        self.layers = [(jnp.array(W, copy=True), jnp.array(b, copy=True)) for W, b in params]

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return self.jnp.asarray(X), self.jnp.asarray(y.astype(np.int64))

    def step(self, x: Any, y: Any) -> None:
        new = self.update(self.layers, x, y)
        self.layers = self.jax.block_until_ready(new) if self.wait else new

    def params(self) -> Params:
        return [(np.asarray(W).copy(), np.asarray(b).copy()) for W, b in self.layers]

    def predict(self, X: np.ndarray) -> np.ndarray:
        a = self.jnp.asarray(X)
        for i, (W, b) in enumerate(self.layers):
            a = a @ W + b
            if i < len(self.layers) - 1:
                a = self.jax.nn.relu(a)
        return np.asarray(a.argmax(axis=1))


class JaxJitContender(JaxContender):
    """JAX with the whole step (forward, gradient and SGD update) in one ``jax.jit``, the
    old parameters donated to the new ones."""

    name = "jax (jit)"
    jit = True
    full_only = False


class JaxJitTrainingContender(JaxJitContender):
    """JAX jit in a training loop, as a JAX user writes it: no wait after each step."""

    wait = False


# (adapter, the module that must import for it)
OPTIONAL: List[Tuple[Any, str]] = [
    (TorchContender, "torch"),
    (MyGradContender, "mygrad"),
    (HipsAutogradContender, "autograd"),
    (JaxContender, "jax"),
    (JaxJitContender, "jax"),
]


def available(threads: int, full: bool = True,
              modules: Optional[Sequence[str]] = None) -> Tuple[Dict[str, Any], List[str]]:
    """Adapters whose framework imports, and a note for each one skipped. ``full=False``
    leaves out the ones too slow to set up for a quick run; ``modules`` (module names such as
    ``"torch"``) limits the search to those frameworks.

    This imports the frameworks: call it only in the frameworks' own process
    (``frameworks_worker.py``), never where tensorgrad and the reference are timed."""
    TorchContender.threads = threads
    found: Dict[str, Any] = {}
    notes: List[str] = []
    for adapter, module in OPTIONAL:
        if modules is not None and module not in modules:
            continue
        try:
            importlib.import_module(module)
        except Exception as e:  # ImportError, or a broken install that fails on import
            notes.append(f"{adapter.name} skipped: `import {module}` failed in "
                         f"{sys.executable} ({type(e).__name__}: {e}).")
            continue
        if not full and getattr(adapter, "full_only", False):
            notes.append(f"{adapter.name} runs in full mode only (slow to set up).")
            continue
        found[adapter.name] = adapter
    return found, notes


def versions() -> Dict[str, str]:
    """Versions of the optional frameworks that are installed (no import of missing ones)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("torch", "mygrad", "autograd", "jax", "jaxlib", "matplotlib", "threadpoolctl"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out
