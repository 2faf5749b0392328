"""Train a small convolutional network on the embedded handwritten digits.

    python -m tensorgrad.examples.cnn                  # or: make demo-cnn
    python -m tensorgrad.examples.cnn --epochs 5 --channels 8,16 --seed 1

The 1797 8x8 images are split 80/20, stratified by class, as in the MLP demo
(`tensorgrad.examples.digits`), shaped as images ``(N, 1, 8, 8)`` and scaled by the training
pixels' mean and std. The network

    Conv2d(1, 16, 3, padding=1) -> ReLU -> Conv2d(16, 32, 3, padding=1) -> ReLU
    -> MaxPool2d(2) -> Flatten -> Dropout(0.25) -> Linear(32 * 4 * 4, 10)

is trained by Adam (learning rate annealed along a cosine) on the cross-entropy of mini-batches
of 32 and reaches about 99% test accuracy (99.4% with the default seed; 98.1-99.4% over seeds
0-3) in a few seconds of CPU time, above the MLP's 98%. ``--max-shift 1`` adds random
one-pixel shifts of the training images.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Callable, Optional, Sequence

import numpy as np

import tensorgrad as tg
import tensorgrad.nn as nn
import tensorgrad.nn.functional as F
from tensorgrad.data import DataLoader, load_digits, train_test_split
from tensorgrad.examples.digits import Result, _positive, _progress, _unwritable, accuracy

# The defaults of both `train` and the command line.
EPOCHS, LR, CHANNELS, SEED, BATCH_SIZE, SHIFT = 15, 3e-3, (16, 32), 0, 32, 0
DROPOUT = 0.25  # before the classifier


def build_model(channels: Sequence[int] = CHANNELS, n_out: int = 10) -> nn.Sequential:
    """Two 3x3 convolutions (same padding) with ReLU, a 2x2 max pool, dropout and a linear
    classifier: ``(N, 1, 8, 8) -> (N, n_out)`` logits."""
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(DROPOUT),
        nn.Linear(c2 * 4 * 4, n_out),
    )


def load_images(seed: int) -> tuple:
    """(X_train, X_test, y_train, y_test): the MLP demo's stratified split, images shaped
    (N, 1, 8, 8) and scaled by one mean and one std of the training pixels (not per pixel:
    a convolution's weights are shared across positions, and so are the statistics)."""
    X, y = load_digits(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=seed, stratify=y)
    mean, std = X_tr.mean(), X_tr.std()
    return ((X_tr - mean) / std).reshape(-1, 1, 8, 8), ((X_te - mean) / std).reshape(-1, 1, 8, 8), \
        y_tr, y_te


def shift(images: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Each image moved by up to `max_shift` pixels along each axis (zeros, i.e. the mean,
    fill in): a cheap augmentation that teaches the network small translations."""
    if max_shift == 0:
        return images
    n, _, h, w = images.shape
    p = max_shift
    padded = np.pad(images, ((0, 0), (0, 0), (p, p), (p, p)))
    dy, dx = rng.integers(0, 2 * p + 1, size=(2, n))
    rows = (dy[:, None] + np.arange(h))[:, :, None]
    cols = (dx[:, None] + np.arange(w))[:, None, :]
    return padded[np.arange(n)[:, None, None], 0, rows, cols][:, None]


def train(epochs: int = EPOCHS, lr: float = LR, channels: Sequence[int] = CHANNELS,
          seed: int = SEED, batch_size: int = BATCH_SIZE, max_shift: int = SHIFT,
          progress: bool = True, log: Optional[Callable[[str], Any]] = None) -> Result:
    """Train the CNN and return a `Result` (model, per-epoch history, final accuracies, wall
    time); one line per epoch goes to `log`. Same arguments, same seed: the same numbers."""
    X_tr, X_te, y_tr, y_te = load_images(seed)
    tg.manual_seed(seed)
    model = build_model(channels)
    opt = tg.optim.Adam(model.parameters(), lr=lr)
    schedule = tg.optim.CosineAnnealingLR(opt, T_max=epochs)  # settles the last epochs
    loader = DataLoader(X_tr, y_tr, batch_size=batch_size, shuffle=True, seed=seed)
    rng = np.random.default_rng(seed)
    result = Result(model)
    start = time.perf_counter()
    epochs_iter, write = _progress(range(1, epochs + 1), progress)
    log = log or write
    for epoch in epochs_iter:
        model.train()
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(shift(xb.data, rng, max_shift)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        schedule.step()
        model.eval()
        row = {"epoch": epoch, "loss": total / len(y_tr),
               "train_accuracy": accuracy(model, X_tr, y_tr),
               "test_accuracy": accuracy(model, X_te, y_te)}
        result.history.append(row)
        if hasattr(epochs_iter, "set_postfix"):
            epochs_iter.set_postfix(loss=f"{row['loss']:.4f}", test=f"{row['test_accuracy']:.3f}")
        log(f"epoch {epoch:3d}/{epochs}  loss {row['loss']:.4f}  "
            f"train acc {100 * row['train_accuracy']:6.2f}%  "
            f"test acc {100 * row['test_accuracy']:6.2f}%  "
            f"({time.perf_counter() - start:.1f} s)")
    result.seconds = time.perf_counter() - start
    result.train_accuracy = accuracy(model, X_tr, y_tr)
    result.test_accuracy = accuracy(model, X_te, y_te)
    return result


def _channels(text: str) -> tuple:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        sizes = ()
    if len(sizes) != 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected two positive channel counts separated by a comma, like 16,32; got {text!r}")
    return sizes


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tensorgrad.examples.cnn",
        description="Train a small CNN on the embedded 8x8 handwritten digits with tensorgrad.")
    p.add_argument("--epochs", type=_positive(int), default=EPOCHS,
                   help="passes over the training set (default: %(default)s)")
    p.add_argument("--lr", type=_positive(float), default=LR,
                   help="Adam's learning rate (default: %(default)s)")
    p.add_argument("--channels", type=_channels, default=CHANNELS,
                   help="channels of the two convolutions (default: 16,32)")
    p.add_argument("--seed", type=int, default=SEED,
                   help="seed of the split, the initialisation, the shuffling and the shifts "
                        "(default: %(default)s)")
    p.add_argument("--batch-size", type=_positive(int), default=BATCH_SIZE,
                   help="mini-batch size (default: %(default)s)")
    p.add_argument("--max-shift", type=int, choices=(0, 1, 2), default=SHIFT,
                   help="random shift of each training image, in pixels (default: %(default)s)")
    p.add_argument("--save", metavar="PATH", help="write the trained weights to PATH (.npz)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status (0 on success)."""
    p = parser()
    args = p.parse_args(argv)
    if args.save:
        problem = _unwritable(args.save)
        if problem:
            p.error(f"--save {args.save}: {problem}")  # before training, not after it
    c1, c2 = args.channels
    print(f"digits CNN: conv3x3({c1})-relu-conv3x3({c2})-relu-maxpool2-dropout-linear(10), "
          f"adam lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs, "
          f"shift <= {args.max_shift} px, seed {args.seed}")
    result = train(epochs=args.epochs, lr=args.lr, channels=args.channels, seed=args.seed,
                   batch_size=args.batch_size, max_shift=args.max_shift,
                   progress=not args.no_progress)
    print(f"final: train accuracy {100 * result.train_accuracy:.2f}%, test accuracy "
          f"{100 * result.test_accuracy:.2f}%, wall time {result.seconds:.2f} s")
    if args.save:
        result.model.save(args.save)
        print(f"saved the weights to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
