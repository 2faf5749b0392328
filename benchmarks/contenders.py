"""The MLP training step of each contender, behind one small interface.

A contender is built from the same initial parameters ``[(W, b), ...]`` (``W`` of shape
``(in, out)``, ``b`` of shape ``(out,)``, all of one float dtype; copied, never modified) and
a learning rate, and offers:

- ``prepare(X, y)``: the batch in the contender's own types (``X`` float ``(N, in)``, ``y``
  int64 class labels ``(N,)``); done once per batch, outside the step;
- ``step(*prepared)``: one SGD step on mean softmax cross-entropy: forward, loss, backward,
  parameter update;
- ``params()``: the current parameters as numpy arrays, to check contenders agree;
- ``predict(X)``: class labels ``(N,)`` (for the training benchmark).

Here are the numpy reference (the seed's equations inline), tensorgrad eager and compiled;
optional frameworks are in ``frameworks.py``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

Params = List[Tuple[np.ndarray, np.ndarray]]


class ReferenceContender:
    """The seed's equations written inline in numpy, as a learner would write the loop: no
    class, no validation, no bookkeeping. (``tensorgrad.reference.ReferenceMLP`` computes the
    same step with checks and options; it stays the tests' oracle, and at small sizes its
    overhead would flatter every contender measured against it.)

    ``z = a W + b``, ``a = relu(z)``; ``dz^L = (softmax(z^L) - onehot(y)) / N``;
    ``dW = a^T dz``, ``db = sum_n dz``, ``dz = (dz W^T) * [z > 0]``; ``W -= lr dW``."""

    name = "numpy reference"

    def __init__(self, params: Params, lr: float) -> None:
        self.layers = [(W.copy(), b.copy()) for W, b in params]
        self.lr = lr
        self.eye = np.eye(params[-1][0].shape[1], dtype=params[-1][0].dtype)

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return X, self.eye[y]

    def step(self, X: np.ndarray, onehot: np.ndarray) -> None:
        layers, lr = self.layers, self.lr
        if onehot.ndim == 1:  # class labels, not prepared
            onehot = self.eye[onehot]
        acts, zs = [X], []
        for i, (W, b) in enumerate(layers):
            z = acts[-1] @ W + b
            zs.append(z)
            acts.append(np.maximum(z, 0) if i < len(layers) - 1 else z)
        z = zs[-1]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        dz = (e / e.sum(axis=1, keepdims=True) - onehot) / X.shape[0]
        for i in range(len(layers) - 1, -1, -1):
            W, b = layers[i]
            dW, db = acts[i].T @ dz, dz.sum(axis=0)
            if i:
                dz = (dz @ W.T) * (zs[i - 1] > 0)
            W -= lr * dW
            b -= lr * db

    def params(self) -> Params:
        return [(W.copy(), b.copy()) for W, b in self.layers]

    def predict(self, X: np.ndarray) -> np.ndarray:
        a = X
        for i, (W, b) in enumerate(self.layers):
            a = a @ W + b
            if i < len(self.layers) - 1:
                a = np.maximum(a, 0)
        return a.argmax(axis=1)


class TensorgradContender:
    """tensorgrad through its ops: ``linear`` + ``relu`` per layer, fused ``cross_entropy``,
    ``backward()`` and ``optim.SGD`` (the same ops ``nn.Linear`` is built from)."""

    name = "tensorgrad"

    def __init__(self, params: Params, lr: float) -> None:
        import tensorgrad as tg
        from tensorgrad.optim import SGD

        self.tg = tg
        self.layers = [(tg.tensor(W, requires_grad=True), tg.tensor(b, requires_grad=True))
                       for W, b in params]
        self.opt = SGD([p for layer in self.layers for p in layer], lr=lr)

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return self.tg.as_tensor(X), y

    def _logits(self, x: Any) -> Any:
        tg = self.tg
        last = len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            x = tg.ops.linear(x, W, b)
            if i < last:
                x = tg.relu(x)
        return x

    def step(self, x: Any, y: np.ndarray) -> None:
        self.opt.zero_grad()
        loss = self.tg.ops.cross_entropy(self._logits(x), y)
        loss.backward()
        self.opt.step()

    def params(self) -> Params:
        return [(W.data.copy(), b.data.copy()) for W, b in self.layers]

    def predict(self, X: np.ndarray) -> np.ndarray:
        with self.tg.no_grad():
            return self._logits(self.tg.as_tensor(X)).data.argmax(axis=1)


def nn_missing() -> str:
    """Why ``tensorgrad.nn`` cannot be benchmarked yet ('' when it can)."""
    try:
        import tensorgrad.nn as nn
    except Exception as e:  # any import failure of a module still being written
        return f"tensorgrad.nn not importable ({type(e).__name__}: {e})"
    needed = ("Linear", "Sequential", "ReLU", "CrossEntropyLoss")
    missing = [n for n in needed if not hasattr(nn, n)]
    return f"tensorgrad.nn lacks {', '.join(missing)}" if missing else ""


class TensorgradNNContender(TensorgradContender):
    """tensorgrad the way a user writes it: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``,
    ``nn.CrossEntropyLoss`` and ``optim.SGD(model.parameters())``."""

    name = "tensorgrad.nn"

    def __init__(self, params: Params, lr: float) -> None:
        import tensorgrad as tg
        import tensorgrad.nn as nn
        from tensorgrad.optim import SGD

        self.tg = tg
        mods: List[Any] = []
        self.linears: List[Any] = []
        for i, (W, b) in enumerate(params):
            lin = nn.Linear(W.shape[0], W.shape[1])
            # Replacing .data (not copying into it) also sets the dtype to the benchmark's.
            lin.weight.data = W.copy()
            lin.bias.data = b.copy()
            self.linears.append(lin)
            mods.append(lin)
            if i < len(params) - 1:
                mods.append(nn.ReLU())
        self.model = nn.Sequential(*mods)
        self.loss_fn = nn.CrossEntropyLoss()
        self.opt = SGD(self.model.parameters(), lr=lr)

    def step(self, x: Any, y: np.ndarray) -> None:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.opt.step()

    def params(self) -> Params:
        return [(lin.weight.data.copy(), lin.bias.data.copy()) for lin in self.linears]

    def predict(self, X: np.ndarray) -> np.ndarray:
        with self.tg.no_grad():
            return self.model(self.tg.as_tensor(X)).data.argmax(axis=1)


class TensorgradCompiledContender(TensorgradNNContender):
    """The ``tensorgrad.nn`` step through ``tg.compile``: traced on its first call for a
    batch shape, then replayed as generated numpy code."""

    name = "tensorgrad.compile"

    def __init__(self, params: Params, lr: float) -> None:
        super().__init__(params, lr)
        self.compiled = self.tg.compile(super().step)

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return X, y

    def step(self, x: Any, y: np.ndarray) -> None:
        self.compiled(x, y)


Factory = Callable[[Params, float], Any]


def core_factories() -> Tuple[Dict[str, Factory], List[str]]:
    """Reference and tensorgrad contenders, plus ``tensorgrad.nn`` once it exists.

    Returns ``(factories by name, notes on what was skipped)``.
    """
    factories: Dict[str, Factory] = {
        ReferenceContender.name: ReferenceContender,
        TensorgradContender.name: TensorgradContender,
    }
    notes = []
    why = nn_missing()
    if why:
        notes.append(f"tensorgrad.nn skipped: {why}; the tensorgrad row uses tg.ops directly.")
    else:
        factories[TensorgradNNContender.name] = TensorgradNNContender
        import tensorgrad as tg

        if hasattr(tg, "compile"):
            factories[TensorgradCompiledContender.name] = TensorgradCompiledContender
    return factories, notes


def agreement(contender: Any, reference: Any, before: Params) -> float:
    """Largest relative difference between the two contenders' parameter updates.

    Both must have taken the same step(s) from ``before``. Updates (``after - before``) are
    compared rather than parameters, because a small learning rate would hide a wrong
    gradient inside the much larger weights. Scaled by the largest reference update.
    """
    worst = 0.0
    for (W0, b0), (Wc, bc), (Wr, br) in zip(before, contender.params(), reference.params()):
        for p0, pc, pr in ((W0, Wc, Wr), (b0, bc, br)):
            d_ref = pr.astype(np.float64) - p0
            d_con = np.asarray(pc, dtype=np.float64) - p0
            scale = max(float(np.abs(d_ref).max()), 1e-30)
            worst = max(worst, float(np.abs(d_con - d_ref).max()) / scale)
    return worst


AGREE_TOL = {"float32": 2e-2, "float64": 1e-6}
"""Largest relative update difference (see :func:`agreement`) that still counts as the same
computation; float32 leaves room for summation-order differences in the update."""


def sizes_of(params: Sequence[Tuple[np.ndarray, np.ndarray]]) -> List[int]:
    return [params[0][0].shape[0]] + [W.shape[1] for W, _ in params]
