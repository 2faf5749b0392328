"""Train a multilayer perceptron on the embedded handwritten digits.

    python -m tensorgrad.examples.digits                 # or: tensorgrad-digits, make demo
    python -m tensorgrad.examples.digits --hidden 128,64 --epochs 30 --save model.npz

The 1797 8x8 images (64 features, classes 0-9) are split 80/20, stratified by class; the
features are standardised with the training set's mean and std only. The default network
64-128-10 with ReLU, trained by Adam on the cross-entropy of mini-batches of 32, reaches
about 98% test accuracy (97.5-99.4% over seeds 0-9) in about a second.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F
from tensorgrad.data import DataLoader, load_digits, standardize, train_test_split

# The defaults of both `train` and the command line.
EPOCHS, LR, HIDDEN, SEED, BATCH_SIZE, OPTIMIZER = 20, 3e-3, (128,), 0, 32, "adam"


@dataclass
class Result:
    """What `train` returns: the trained model, one dict per epoch (epoch, loss,
    train_accuracy, test_accuracy), the final accuracies (fractions in [0, 1]) and the
    wall time of the training in seconds."""

    model: nn.Module
    history: list = field(default_factory=list)
    train_accuracy: float = 0.0
    test_accuracy: float = 0.0
    seconds: float = 0.0


def build_model(hidden: Sequence[int], n_in: int = 64, n_out: int = 10) -> nn.Sequential:
    """Linear -> ReLU for each hidden width, then a Linear to the `n_out` logits."""
    sizes = [n_in, *hidden]
    layers: list = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(sizes[-1], n_out))
    return nn.Sequential(*layers)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of the rows of X (N, 64) whose largest logit is the label y (N,)."""
    with tg.no_grad():
        logits = model(tg.tensor(X))
    return float(np.mean(np.argmax(logits.data, axis=1) == y))


def load_split(seed: int) -> tuple:
    """(X_train, X_test, y_train, y_test): stratified 80/20 split, standardised float32."""
    X, y = load_digits(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=seed, stratify=y)
    X_tr, X_te, _, _ = standardize(X_tr, X_te)
    return X_tr, X_te, y_tr, y_te


def _progress(iterable: Any, enabled: bool) -> tuple:
    """(iterable, write): a tqdm bar when tqdm is installed and wanted, else plain lines."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            bar = tqdm(iterable, desc="epochs", unit="epoch", leave=False)
            return bar, tqdm.write
    return iterable, print


def train(epochs: int = EPOCHS, lr: float = LR, hidden: Sequence[int] = HIDDEN,
          seed: int = SEED, batch_size: int = BATCH_SIZE, optimizer: str = OPTIMIZER,
          progress: bool = True, log: Optional[Callable[[str], Any]] = None,
          compile: bool = False) -> Result:
    """Train the MLP and return a `Result`; one line per epoch goes to `log` (default: the
    progress bar's writer, or print). Same arguments, same seed: the same numbers.
    `compile`: run the training step through ``tg.compile`` (same numbers, less overhead)."""
    X_tr, X_te, y_tr, y_te = load_split(seed)
    tg.manual_seed(seed)
    model = build_model(hidden)
    params = list(model.parameters())
    if optimizer == "adam":
        opt: tg.optim.Optimizer = tg.optim.Adam(params, lr=lr)
    elif optimizer == "sgd":
        opt = tg.optim.SGD(params, lr=lr, momentum=0.9)
    else:
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    loader = DataLoader(X_tr, y_tr, batch_size=batch_size, shuffle=True, seed=seed)

    def step(xb: Any, yb: Any) -> tg.Tensor:
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    if compile:
        step = tg.compile(step)
    result = Result(model)
    start = time.perf_counter()
    epochs_iter, write = _progress(range(1, epochs + 1), progress)
    log = log or write
    for epoch in epochs_iter:
        model.train()
        total = 0.0
        for xb, yb in loader:
            loss = step(xb, yb)
            total += loss.item() * len(yb)
        model.eval()
        row = {"epoch": epoch, "loss": total / len(y_tr),
               "train_accuracy": accuracy(model, X_tr, y_tr),
               "test_accuracy": accuracy(model, X_te, y_te)}
        result.history.append(row)
        if hasattr(epochs_iter, "set_postfix"):
            epochs_iter.set_postfix(loss=f"{row['loss']:.4f}", test=f"{row['test_accuracy']:.3f}")
        log(f"epoch {epoch:3d}/{epochs}  loss {row['loss']:.4f}  "
            f"train acc {100 * row['train_accuracy']:6.2f}%  "
            f"test acc {100 * row['test_accuracy']:6.2f}%")
    result.seconds = time.perf_counter() - start
    result.train_accuracy = accuracy(model, X_tr, y_tr)
    result.test_accuracy = accuracy(model, X_te, y_te)
    return result


def plot(history: Sequence[dict], path: str) -> None:
    """Save the loss and accuracy curves to `path` (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["loss"] for h in history])
    ax1.set(xlabel="epoch", ylabel="training loss", title="Cross-entropy")
    ax2.plot(epochs, [100 * h["train_accuracy"] for h in history], label="train")
    ax2.plot(epochs, [100 * h["test_accuracy"] for h in history], label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _hidden(text: str) -> tuple:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive widths separated by commas, like 128 or 128,64; got {text!r}")
    return sizes


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not v > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return v

    parse.__name__ = kind.__name__
    return parse


def _unwritable(path: str) -> Optional[str]:
    """Why `path` cannot be written, or None."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "is a directory; give a file name"
    if not os.path.isdir(directory):
        return f"the directory {directory!r} does not exist; create it first"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"the directory {directory!r} is not writable"
    return None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tensorgrad-digits",
        description="Train an MLP on the embedded 8x8 handwritten digits with tensorgrad.")
    p.add_argument("--epochs", type=_positive(int), default=EPOCHS,
                   help="passes over the training set (default: %(default)s)")
    p.add_argument("--lr", type=_positive(float), default=LR,
                   help="learning rate (default: %(default)s)")
    p.add_argument("--hidden", type=_hidden, default=HIDDEN,
                   help="hidden layer widths, e.g. 128 or 128,64 (default: 128)")
    p.add_argument("--seed", type=int, default=SEED,
                   help="seed of the split, the initialisation and the shuffling "
                        "(default: %(default)s)")
    p.add_argument("--batch-size", type=_positive(int), default=BATCH_SIZE,
                   help="mini-batch size (default: %(default)s)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=OPTIMIZER,
                   help="Adam, or SGD with momentum 0.9 (try --lr 0.05) (default: %(default)s)")
    p.add_argument("--save", metavar="PATH", help="write the trained weights to PATH (.npz)")
    p.add_argument("--plot", metavar="PATH", help="save loss/accuracy curves to PATH "
                   "(needs matplotlib)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--compile", action="store_true",
                   help="replay the training step as generated numpy code (tg.compile)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status (0 on success)."""
    p = parser()
    args = p.parse_args(argv)
    for flag, path in (("--save", args.save), ("--plot", args.plot)):
        if path:
            problem = _unwritable(path)
            if problem:
                p.error(f"{flag} {path}: {problem}")  # before training, not after it
    if args.plot:
        # Checked before training, so a missing package costs no time.
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error("--plot needs matplotlib, which is not installed: pip install matplotlib "
                    "(or pip install 'tensorgrad-numpy[plot]')")
    hidden = ",".join(map(str, args.hidden))
    print(f"digits: MLP 64-{hidden.replace(',', '-')}-10 (ReLU), {args.optimizer} lr={args.lr}, "
          f"batch {args.batch_size}, {args.epochs} epochs, seed {args.seed}")
    result = train(epochs=args.epochs, lr=args.lr, hidden=args.hidden, seed=args.seed,
                   batch_size=args.batch_size, optimizer=args.optimizer,
                   progress=not args.no_progress, compile=args.compile)
    print(f"final: train accuracy {100 * result.train_accuracy:.2f}%, test accuracy "
          f"{100 * result.test_accuracy:.2f}%, wall time {result.seconds:.2f} s")
    if args.save:
        result.model.save(args.save)
        print(f"saved the weights to {args.save}")
    if args.plot:
        plot(result.history, args.plot)
        print(f"saved the curves to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
