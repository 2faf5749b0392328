"""A floor for the small-model training benchmark: the same SGD step as the numpy reference,
fused by hand as far as numpy allows.

At the digits' size (64-64-10, batch 32) every array is tiny, so a step's time is the count
of numpy calls times their fixed cost (about a microsecond each here), not arithmetic. This
contender makes as few calls as a careful person could:

- the bias lives in the last row of an augmented weight ``[W; b]`` of shape ``(in + 1, out)``,
  and each activation carries a column of ones, so ``a W + b`` is one matrix product, and
  ``dW`` and ``db`` are one product ``[a, 1]^T dz``, and the update of both is one pair of
  calls;
- the softmax's row sums are a product with a column of ones; the labels are picked with
  ``take``/``put`` on flat positions; every array has a preallocated buffer.

It shows how far below the inline reference a numpy program can go on this machine, so that
a compiled step's ratio can be read against it. It is not a contender tensorgrad generates
(tensorgrad keeps W and b as separate parameters, as PyTorch does).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np

from .contenders import Params


class FusedNumpyContender:
    """The reference's step (same equations, same numbers up to rounding), fused by hand."""

    name = "numpy fused by hand (floor)"

    def __init__(self, params: Params, lr: float) -> None:
        self.Wa = [np.vstack([W, b[None, :]]) for W, b in params]
        self.lr = lr
        self.dtype = params[0][0].dtype
        self._buffers: Dict[int, Any] = {}

    def prepare(self, X: np.ndarray, y: np.ndarray) -> Tuple[Any, ...]:
        return X, y.astype(np.intp)

    def _bufs(self, n: int) -> Any:
        b = self._buffers.get(n)
        if b is None:
            dt, Wa = self.dtype, self.Wa
            acts = [np.ones((n, W.shape[0]), dt) for W in Wa]  # [a, 1] per layer input
            zs = [np.empty((n, W.shape[1]), dt) for W in Wa]
            c = Wa[-1].shape[1]
            b = self._buffers[n] = (
                acts, zs, [np.empty_like(W) for W in Wa], [np.empty_like(W) for W in Wa],
                [np.empty((n, W.shape[0] - 1), dt) for W in Wa],
                [np.empty((n, W.shape[0] - 1), bool) for W in Wa],
                np.empty((n, 1), dt), np.ones((c, 1), dt), np.arange(n) * c,
                np.empty(n, np.intp))
        return b

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        acts, zs, dWs, steps, dhs, masks, col, ones, rows, flat = self._bufs(X.shape[0])
        Wa, lr, last = self.Wa, self.lr, len(self.Wa) - 1
        np.copyto(acts[0][:, :-1], X)
        for i, W in enumerate(Wa):
            np.matmul(acts[i], W, out=zs[i])
            if i < last:
                np.maximum(zs[i], 0, out=acts[i + 1][:, :-1])
        dz = zs[last]  # softmax cross-entropy's gradient, in place over the logits
        np.maximum.reduce(dz, axis=1, keepdims=True, out=col)
        np.subtract(dz, col, out=dz)
        np.exp(dz, out=dz)
        np.matmul(dz, ones, out=col)
        np.divide(dz, col, out=dz)
        np.add(rows, y, out=flat)
        dzf = dz.reshape(-1)
        dzf.put(flat, dzf.take(flat) - 1)
        np.multiply(dz, 1.0 / X.shape[0], out=dz)
        for i in range(last, -1, -1):
            np.matmul(acts[i].T, dz, out=dWs[i])  # [dW; db] at once
            if i:
                dh = dhs[i]
                np.matmul(dz, Wa[i][:-1].T, out=dh)
                np.greater(acts[i][:, :-1], 0, out=masks[i])
                np.multiply(dh, masks[i], out=dh)
                dz = dh
            np.multiply(dWs[i], lr, out=steps[i])
            np.subtract(Wa[i], steps[i], out=Wa[i])

    def params(self) -> Params:
        return [(W[:-1].copy(), W[-1].copy()) for W in self.Wa]

    def predict(self, X: np.ndarray) -> np.ndarray:
        a = X
        for i, W in enumerate(self.Wa):
            a = a @ W[:-1] + W[-1]
            if i < len(self.Wa) - 1:
                a = np.maximum(a, 0)
        return a.argmax(axis=1)


__all__: List[str] = ["FusedNumpyContender"]
