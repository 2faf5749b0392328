"""A multilayer perceptron with hand-derived backpropagation, in plain numpy.

This module is the oracle the autograd engine is tested against and the baseline it is
benchmarked against, so it depends on numpy only and spells out every equation.

Conventions (row vectors, one sample per row of ``X``; ``W^l`` has shape ``(in, out)``)::

    forward:   z^l = a^{l-1} W^l + b^l,   a^l = sigma(z^l)          a^0 = X, shape (N, in)
    backward:  dz^L = a^L - y             (divided by N for reduction='mean')
               dz^l = (dz^{l+1} (W^{l+1})^T) * sigma'(z^l)          hidden layers
               dW^l = (a^{l-1})^T dz^l,   db^l = sum over the batch of dz^l

``dz^L = a^L - y`` holds because each output activation is paired with its matching loss
(its canonical link): sigmoid with binary cross-entropy, softmax with cross-entropy and
identity with half squared error. Here ``dz`` means d(loss)/dz.

In the code, ``params[l - 1]`` holds ``(W^l, b^l)``, ``acts[l]`` holds ``a^l`` (``acts[0]`` is
``X``) and ``zs[l - 1]`` holds ``z^l``, for layers ``l = 1 .. L``.
"""

from __future__ import annotations

from typing import Any, Callable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = [
    "ACTIVATIONS",
    "OUTPUTS",
    "Activation",
    "OutputLayer",
    "ReferenceMLP",
    "backprop",
    "binary_cross_entropy_with_logits",
    "half_squared_error",
    "identity",
    "init_params",
    "log_softmax",
    "relu",
    "relu_prime",
    "sigmoid",
    "sigmoid_prime",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
    "tanh_prime",
]

Params = List[Tuple[NDArray[np.floating], NDArray[np.floating]]]
Grads = List[Tuple[NDArray[np.floating], NDArray[np.floating]]]
# Anything indexable as layers[l - 1] = (W^l, b^l): a list of tuples or of [W, b] lists.
Layers = Sequence[Sequence[NDArray[np.floating]]]
_T = TypeVar("_T")

REDUCTIONS = ("mean", "sum")


# --------------------------------------------------------------------------- initialisation


def init_params(
    sizes: Sequence[int],
    seed: Optional[int] = None,
    dtype: DTypeLike = np.float32,
    init: str = "kaiming",
) -> Params:
    """Random weights and zero biases for layer widths ``sizes = (in, h1, ..., out)``.

    Each ``W^l`` has shape ``(sizes[l-1], sizes[l])`` and is drawn from ``U(-bound, bound)``:

    - ``init="kaiming"`` (He et al., 2015, gain sqrt(2) for ReLU):
      ``bound = sqrt(6 / fan_in)``, i.e. variance ``2 / fan_in``;
    - ``init="xavier"`` (Glorot & Bengio, 2010): ``bound = sqrt(6 / (fan_in + fan_out))``,
      i.e. variance ``2 / (fan_in + fan_out)``.

    Each ``b^l`` is zeros of shape ``(sizes[l],)``. Values are drawn in float64 from
    ``np.random.default_rng(seed)`` and then cast to ``dtype``, so a seed gives the same
    network (up to rounding) in every dtype.

    Returns a list of ``(W, b)`` tuples of ``dtype`` arrays.
    """
    sizes = _check_sizes(sizes)
    dtype = _check_float_dtype(dtype)
    if init not in ("kaiming", "xavier"):
        raise ValueError(f"init_params: init must be 'kaiming' or 'xavier', got {init!r}")
    rng = np.random.default_rng(seed)
    params: Params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if init == "kaiming":
            bound = np.sqrt(6.0 / fan_in)
        else:
            bound = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)
        b = np.zeros(fan_out, dtype=dtype)
        params.append((W, b))
    return params


# --------------------------------------------------------------------------- activations


class Activation(NamedTuple):
    """An activation ``sigma`` and its derivative ``sigma_prime``.

    ``wrt`` says which cached array ``sigma_prime`` takes: ``"z"`` (the pre-activation) or
    ``"a"`` (the activation ``sigma(z)``), whichever makes the derivative cheapest.
    """

    sigma: Callable[[NDArray[np.floating]], NDArray[np.floating]]
    sigma_prime: Callable[[NDArray[np.floating]], NDArray[Any]]
    wrt: str


def sigmoid(z: NDArray[np.floating]) -> NDArray[np.floating]:
    """Logistic function ``1 / (1 + exp(-z))``, elementwise; same shape and dtype as ``z``."""
    # For z below about -88 (float32) or -709 (float64) exp(-z) overflows to inf, and
    # 1 / (1 + inf) = 0 is the correctly rounded answer; for large positive z it underflows
    # to 0 and 1 / (1 + 0) = 1 is right too. Both are expected, so neither may warn or raise.
    with np.errstate(over="ignore", under="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(a: NDArray[np.floating]) -> NDArray[np.floating]:
    """Derivative of the sigmoid, from its output ``a = sigmoid(z)``: ``a (1 - a)``."""
    return a * (1.0 - a)


def tanh(z: NDArray[np.floating]) -> NDArray[np.floating]:
    """Hyperbolic tangent, elementwise; same shape and dtype as ``z``."""
    return np.tanh(z)


def tanh_prime(a: NDArray[np.floating]) -> NDArray[np.floating]:
    """Derivative of tanh, from its output ``a = tanh(z)``: ``1 - a^2``."""
    return 1.0 - a * a


def relu(z: NDArray[np.floating]) -> NDArray[np.floating]:
    """``max(z, 0)``, elementwise; same shape and dtype as ``z``."""
    return np.maximum(z, 0)


def relu_prime(z: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Derivative of ReLU, from the pre-activation ``z``: 1 where ``z > 0``, else 0.

    Returns a bool mask (multiplying by it keeps the other operand's dtype); the
    derivative at the kink ``z = 0`` is taken as 0, as in PyTorch.
    """
    return z > 0


def identity(z: NDArray[np.floating]) -> NDArray[np.floating]:
    """Returns ``z`` itself (no copy)."""
    return z


def softmax(z: NDArray[np.floating]) -> NDArray[np.floating]:
    """Row-wise softmax of logits ``z`` of shape ``(N, C)``; same shape and dtype.

    The row maximum is subtracted first so ``exp`` never overflows.
    """
    e = z - z.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


def log_softmax(z: NDArray[np.floating]) -> NDArray[np.floating]:
    """Row-wise ``log(softmax(z))`` for ``z`` of shape ``(N, C)``, computed as
    ``(z - max) - log(sum(exp(z - max)))`` so it is finite for any finite logits."""
    shifted = z - z.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


ACTIVATIONS = {
    "sigmoid": Activation(sigmoid, sigmoid_prime, wrt="a"),
    "tanh": Activation(tanh, tanh_prime, wrt="a"),
    "relu": Activation(relu, relu_prime, wrt="z"),
}
"""Hidden-layer activations by name."""


# --------------------------------------------------------------------------- losses


def _reduce(total: float, n: int, reduction: str) -> float:
    return total / n if reduction == "mean" else total


def binary_cross_entropy_with_logits(z: ArrayLike, y: ArrayLike, reduction: str = "mean") -> float:
    """Binary cross-entropy of ``sigmoid(z)`` against targets ``y`` in [0, 1].

    ``z`` and ``y`` have shape ``(N, K)``. Per element the loss is
    ``-y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)) = log(1 + exp(z)) - y z``, evaluated as
    ``max(z, 0) - y z + log1p(exp(-|z|))`` so no ``exp`` can overflow (logits of 1e4 are
    fine). It is summed over all elements and, for ``reduction='mean'``, divided by the
    batch size ``N`` (not ``N * K``, unlike PyTorch's elementwise mean).
    """
    z, y = np.asarray(z), np.asarray(y)
    _check_reduction(reduction)
    # exp(-|z|) <= 1 cannot overflow; for |z| > ~745 it underflows to 0, which is exact enough.
    per_element = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))
    return _reduce(float(per_element.sum()), z.shape[0], reduction)


def softmax_cross_entropy(z: ArrayLike, y: ArrayLike, reduction: str = "mean") -> float:
    """Cross-entropy of ``softmax(z)`` (logits ``z`` of shape ``(N, C)``) against ``y``.

    ``y`` is either integer class labels of shape ``(N,)`` or probability (e.g. one-hot)
    targets of shape ``(N, C)``. Uses the log-sum-exp form of :func:`log_softmax`, so it is
    finite for logits of any finite magnitude. Summed over the batch, divided by ``N`` for
    ``reduction='mean'``.
    """
    z, y = np.asarray(z), np.asarray(y)
    _check_reduction(reduction)
    logp = log_softmax(z)
    if y.ndim == 1:
        total = -logp[np.arange(z.shape[0]), y].sum()
    else:
        total = -(y * logp).sum()
    return _reduce(float(total), z.shape[0], reduction)


def half_squared_error(a: ArrayLike, y: ArrayLike, reduction: str = "mean") -> float:
    """``0.5 * sum((a - y)^2)`` over all elements of ``(N, K)`` arrays, divided by ``N`` for
    ``reduction='mean'`` (so it is half of PyTorch's MSE only when ``K == 1``)."""
    a, y = np.asarray(a), np.asarray(y)
    _check_reduction(reduction)
    r = a - y
    return _reduce(0.5 * float(np.vdot(r, r)), a.shape[0], reduction)


class OutputLayer(NamedTuple):
    """An output activation with its matched loss, for which ``dloss/dz^L = a^L - y``.

    ``loss(z, a, y)`` is the summed (unreduced) loss of logits ``z`` and outputs ``a``.
    """

    sigma: Callable[[NDArray[np.floating]], NDArray[np.floating]]
    loss: Callable[[NDArray[np.floating], NDArray[np.floating], NDArray[Any]], float]


OUTPUTS = {
    "sigmoid": OutputLayer(
        sigmoid, lambda z, a, y: binary_cross_entropy_with_logits(z, y, reduction="sum")
    ),
    "softmax": OutputLayer(softmax, lambda z, a, y: softmax_cross_entropy(z, y, reduction="sum")),
    "identity": OutputLayer(identity, lambda z, a, y: half_squared_error(a, y, reduction="sum")),
}
"""Output activation + matched loss pairs by name."""


# --------------------------------------------------------------------------- backprop core


def _forward(
    params: Layers,
    X: NDArray[np.floating],
    hidden: Activation,
    output: OutputLayer,
) -> Tuple[List[NDArray[np.floating]], List[NDArray[np.floating]]]:
    """Returns ``(zs, acts)`` with ``zs[l-1] = z^l`` and ``acts[l] = a^l``, ``acts[0] = X``."""
    L = len(params)
    zs: List[NDArray[np.floating]] = []
    acts: List[NDArray[np.floating]] = [X]
    for l, (W, b) in enumerate(params, start=1):
        # z^l = a^{l-1} W^l + b^l   (bias added in place: one array per layer, not two)
        z = acts[l - 1] @ W
        z += b
        # a^l = sigma(z^l)
        sigma = output.sigma if l == L else hidden.sigma
        zs.append(z)
        acts.append(sigma(z))
    return zs, acts


def _backward(
    params: Layers,
    zs: Sequence[NDArray[np.floating]],
    acts: Sequence[NDArray[np.floating]],
    target: NDArray[Any],
    hidden: Activation,
    reduction: str,
) -> Grads:
    """The backward equations, literally. Reads ``params`` and never writes them."""
    L = len(params)
    a_L = acts[L]
    N = a_L.shape[0]
    # dz^L = a^L - y   (integer labels y: subtract 1 at each row's class, i.e. a one-hot y)
    if target.ndim == 1:
        dz = a_L.copy()
        dz[np.arange(N), target] -= 1
    else:
        dz = a_L - target
    if reduction == "mean":
        dz /= N

    grads: Grads = []
    for l in range(L, 0, -1):
        if l < L:
            W_next = params[l][0]  # W^{l+1}
            # dz^l = (dz^{l+1} (W^{l+1})^T) * sigma'(z^l)
            dz = dz @ W_next.T
            dz *= hidden.sigma_prime(zs[l - 1] if hidden.wrt == "z" else acts[l])
        # dW^l = (a^{l-1})^T dz^l
        dW = acts[l - 1].T @ dz
        # db^l = sum over the batch of dz^l
        db = dz.sum(axis=0)
        grads.append((dW, db))
    grads.reverse()
    return grads


def backprop(
    params: Layers,
    X: ArrayLike,
    y: ArrayLike,
    hidden: str = "relu",
    output: str = "softmax",
    reduction: str = "mean",
) -> Tuple[float, Grads]:
    """Loss and gradients of an MLP, as a pure function (``params`` is not modified).

    ``params`` is a sequence of ``(W, b)`` with ``W`` of shape ``(in, out)`` and ``b`` of shape
    ``(out,)``, all of one floating dtype; ``X`` has shape ``(N, in)`` and is cast to that
    dtype; ``y`` is as for :meth:`ReferenceMLP.loss`. Returns ``(loss, [(dW, db), ...])``, the
    gradients having the shapes and dtype of the parameters.

    Examples:
        One softmax layer, checked against tensorgrad's autograd:

        >>> import numpy as np, tensorgrad as tg
        >>> from tensorgrad.reference import backprop, init_params
        >>> [(W, b)] = init_params([2, 3], seed=0, dtype=np.float64)
        >>> X, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([0, 2])
        >>> loss, [(dW, db)] = backprop([(W, b)], X, y, output="softmax")
        >>> Wt = tg.tensor(W, requires_grad=True)
        >>> tg.ops.cross_entropy(tg.tensor(X) @ Wt + b, y).backward()
        >>> dW.shape, db.shape, np.allclose(Wt.grad, dW)
        ((2, 3), (3,), True)
    """
    hidden_act = _lookup(ACTIVATIONS, hidden, "hidden")
    output_layer = _lookup(OUTPUTS, output, "output")
    _check_reduction(reduction)
    if len(params) == 0:
        raise ValueError("backprop: params is empty; need at least one (W, b) layer")
    dtype = params[0][0].dtype
    X_arr = _check_input(X, params[0][0].shape[0], dtype, "backprop")
    zs, acts = _forward(params, X_arr, hidden_act, output_layer)
    target = _prepare_target(y, acts[-1], output, "backprop")
    loss = _reduce(output_layer.loss(zs[-1], acts[-1], target), X_arr.shape[0], reduction)
    grads = _backward(params, zs, acts, target, hidden_act, reduction)
    return loss, grads


# --------------------------------------------------------------------------- the model


class ReferenceMLP:
    """A fully connected network trained by the hand-derived backward pass above.

    Args:
        sizes: layer widths ``(in, h1, ..., out)``; at least two entries.
        hidden: hidden activation, one of ``ACTIVATIONS`` (``"relu"``, ``"sigmoid"``,
            ``"tanh"``).
        output: output activation with its matched loss, one of ``OUTPUTS``
            (``"softmax"`` + cross-entropy, ``"sigmoid"`` + binary cross-entropy,
            ``"identity"`` + half squared error).
        params: optional ``[(W, b), ...]`` matching ``sizes``; copied, so the caller's arrays
            are never modified. Default: :func:`init_params` with ``seed``.
        seed: seed for :func:`init_params` when ``params`` is not given.
        dtype: floating dtype of parameters and computations. Default: the dtype of
            ``params`` if given, else float32.
        reduction: ``"mean"`` (divide the summed loss by the batch size) or ``"sum"``.

    ``params`` is a list of ``[W, b]`` lists of numpy arrays that :meth:`step` updates in
    place.

    Examples:
        >>> import numpy as np
        >>> from tensorgrad.reference import ReferenceMLP
        >>> mlp = ReferenceMLP([2, 4, 3], seed=0)
        >>> [W.shape for W, b in mlp.params], mlp.dtype          # W^l is (in, out)
        ([(2, 4), (4, 3)], dtype('float32'))
        >>> X, y = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([0, 2])
        >>> losses = [mlp.train_step(X, y, lr=0.5) for _ in range(20)]
        >>> bool(losses[-1] < losses[0] / 10), mlp.predict(X)
        (True, array([0, 2]))
    """

    def __init__(
        self,
        sizes: Sequence[int],
        hidden: str = "relu",
        output: str = "softmax",
        params: Optional[Sequence[Tuple[ArrayLike, ArrayLike]]] = None,
        seed: Optional[int] = None,
        dtype: Optional[DTypeLike] = None,
        reduction: str = "mean",
    ) -> None:
        self.sizes = _check_sizes(sizes)
        self.hidden = hidden
        self.output = output
        self._hidden = _lookup(ACTIVATIONS, hidden, "hidden")
        self._output = _lookup(OUTPUTS, output, "output")
        self.reduction = _check_reduction(reduction)
        if params is None:
            self.dtype = _check_float_dtype(np.float32 if dtype is None else dtype)
            params = init_params(self.sizes, seed=seed, dtype=self.dtype)
        elif dtype is None:
            arrays = [np.asarray(p) for layer in params for p in layer]
            self.dtype = _check_float_dtype(np.result_type(*arrays))
        else:
            self.dtype = _check_float_dtype(dtype)
        self.params: List[List[NDArray[np.floating]]] = self._copy_params(params)
        self._zs: Optional[List[NDArray[np.floating]]] = None
        self._acts: Optional[List[NDArray[np.floating]]] = None

    def _copy_params(
        self, params: Sequence[Tuple[ArrayLike, ArrayLike]]
    ) -> List[List[NDArray[np.floating]]]:
        if len(params) != len(self.sizes) - 1:
            raise ValueError(
                f"ReferenceMLP: sizes {self.sizes} need {len(self.sizes) - 1} (W, b) layers, "
                f"got {len(params)}"
            )
        copied = []
        for l, (W, b) in enumerate(params, start=1):
            W_arr = np.array(W, dtype=self.dtype)
            b_arr = np.array(b, dtype=self.dtype)
            want_W, want_b = (self.sizes[l - 1], self.sizes[l]), (self.sizes[l],)
            if W_arr.shape != want_W or b_arr.shape != want_b:
                raise ValueError(
                    f"ReferenceMLP: layer {l} needs W {want_W} and b {want_b}, "
                    f"got W {W_arr.shape} and b {b_arr.shape}"
                )
            copied.append([W_arr, b_arr])
        return copied

    def __repr__(self) -> str:
        return (
            f"ReferenceMLP(sizes={self.sizes}, hidden={self.hidden!r}, output={self.output!r}, "
            f"dtype={self.dtype.name}, reduction={self.reduction!r})"
        )

    def forward(self, X: ArrayLike) -> NDArray[np.floating]:
        """Output ``a^L`` of shape ``(N, sizes[-1])`` for inputs ``X`` of shape
        ``(N, sizes[0])`` (cast to the model dtype). Caches every ``z^l`` and ``a^l`` for
        :meth:`loss` and :meth:`backward`."""
        X_arr = _check_input(X, self.sizes[0], self.dtype, "ReferenceMLP.forward")
        self._zs, self._acts = _forward(self.params, X_arr, self._hidden, self._output)
        return self._acts[-1]

    __call__ = forward

    def loss(self, y: ArrayLike) -> float:
        """Loss of the last :meth:`forward` against targets ``y``, as a Python float.

        ``y`` has the shape of the output ``(N, out)``; for ``output='softmax'`` it may
        instead be integer class labels of shape ``(N,)``, and for one output unit a shape
        ``(N,)`` float target is accepted too.
        """
        zs, acts = self._cache("loss")
        target = _prepare_target(y, acts[-1], self.output, "ReferenceMLP.loss")
        return self._loss(zs, acts, target)

    def backward(self, y: ArrayLike) -> Grads:
        """Gradients ``[(dW^1, db^1), ..., (dW^L, db^L)]`` of the loss of the last
        :meth:`forward`, each with the shape and dtype of its parameter. Parameters are not
        touched; apply them with :meth:`step`."""
        zs, acts = self._cache("backward")
        target = _prepare_target(y, acts[-1], self.output, "ReferenceMLP.backward")
        return _backward(self.params, zs, acts, target, self._hidden, self.reduction)

    def step(
        self, grads: Sequence[Tuple[NDArray[np.floating], NDArray[np.floating]]], lr: float
    ) -> None:
        """Plain SGD, in place: ``W -= lr * dW``, ``b -= lr * db`` for every layer."""
        if len(grads) != len(self.params):
            raise ValueError(
                f"ReferenceMLP.step: got {len(grads)} (dW, db) pairs for {len(self.params)} layers"
            )
        for (W, b), (dW, db) in zip(self.params, grads):
            W -= lr * dW
            b -= lr * db

    def train_step(self, X: ArrayLike, y: ArrayLike, lr: float) -> float:
        """One full SGD step: forward, loss, backward, update. Returns the loss before the
        update. All gradients are computed before any parameter changes."""
        self.forward(X)
        zs, acts = self._cache("train_step")
        target = _prepare_target(y, acts[-1], self.output, "ReferenceMLP.train_step")
        loss = self._loss(zs, acts, target)
        grads = _backward(self.params, zs, acts, target, self._hidden, self.reduction)
        self.step(grads, lr)
        return loss

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predictions for ``X`` of shape ``(N, sizes[0])``, leaving the forward cache alone.

        ``softmax``: int64 class labels of shape ``(N,)``; ``sigmoid``: int64 0/1 labels of
        shape ``(N, out)`` (1 where the probability exceeds 0.5); ``identity``: the outputs,
        shape ``(N, out)`` in the model dtype.
        """
        X_arr = _check_input(X, self.sizes[0], self.dtype, "ReferenceMLP.predict")
        zs, acts = _forward(self.params, X_arr, self._hidden, self._output)
        if self.output == "softmax":
            return acts[-1].argmax(axis=1).astype(np.int64, copy=False)
        if self.output == "sigmoid":
            return (zs[-1] > 0).astype(np.int64)
        return acts[-1]

    # -- helpers

    def _cache(self, caller: str) -> Tuple[List[NDArray[np.floating]], List[NDArray[np.floating]]]:
        if self._zs is None or self._acts is None:
            raise RuntimeError(f"ReferenceMLP.{caller}: call forward(X) first")
        return self._zs, self._acts

    def _loss(
        self,
        zs: List[NDArray[np.floating]],
        acts: List[NDArray[np.floating]],
        target: NDArray[Any],
    ) -> float:
        total = self._output.loss(zs[-1], acts[-1], target)
        return _reduce(total, acts[-1].shape[0], self.reduction)


# --------------------------------------------------------------------------- validation


def _check_sizes(sizes: Sequence[int]) -> List[int]:
    out = [int(s) for s in sizes]
    if len(out) < 2 or any(s < 1 for s in out) or any(s != t for s, t in zip(out, sizes)):
        raise ValueError(
            f"sizes must be at least two positive integers (in, ..., out), got {list(sizes)}"
        )
    return out


def _check_float_dtype(dtype: DTypeLike) -> np.dtype:
    dt = np.dtype(dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"dtype must be a floating dtype such as float32, got {dt}")
    return dt


def _check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _lookup(registry: Mapping[str, _T], name: str, what: str) -> _T:
    if name not in registry:
        raise ValueError(f"unknown {what} activation {name!r}; choose from {sorted(registry)}")
    return registry[name]


def _check_input(X: ArrayLike, n_in: int, dtype: np.dtype, where: str) -> NDArray[np.floating]:
    X_arr = np.asarray(X)
    if X_arr.ndim != 2 or X_arr.shape[1] != n_in:
        raise ValueError(f"{where}: X must have shape (N, {n_in}), got {X_arr.shape}")
    # asarray does not copy when X already has the model dtype.
    return np.asarray(X_arr, dtype=dtype)


def _prepare_target(
    y: ArrayLike, a_L: NDArray[np.floating], output: str, where: str
) -> NDArray[Any]:
    """Integer labels ``(N,)`` for softmax, else a target of ``a_L``'s shape and dtype.

    Casting float targets to the model dtype keeps ``a^L - y`` (and so every gradient) in
    that dtype: a float64 one-hot must not silently turn float32 gradients into float64.
    """
    y_arr = np.asarray(y)
    N, C = a_L.shape
    if output == "softmax" and y_arr.ndim == 1:
        if not np.issubdtype(y_arr.dtype, np.integer):
            raise TypeError(
                f"{where}: 1-D softmax targets must be integer class labels, got {y_arr.dtype}"
            )
        if y_arr.shape != (N,):
            raise ValueError(f"{where}: labels must have shape ({N},), got {y_arr.shape}")
        if N and (y_arr.min() < 0 or y_arr.max() >= C):
            raise ValueError(
                f"{where}: class labels must lie in [0, {C - 1}], "
                f"got range [{y_arr.min()}, {y_arr.max()}]"
            )
        return y_arr
    if y_arr.ndim == 1 and C == 1:
        y_arr = y_arr.reshape(-1, 1)
    if y_arr.shape != a_L.shape:
        raise ValueError(f"{where}: y must have shape {a_L.shape}, got {y_arr.shape}")
    return np.asarray(y_arr, dtype=a_L.dtype)
