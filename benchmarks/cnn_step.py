"""Benchmark: one CNN training step (forward, softmax cross-entropy, backward, SGD).

Network: Conv2d(C, 8, 3, padding=1) -> ReLU -> Conv2d(8, 16, 3, padding=1) -> ReLU ->
MaxPool2d(2) -> Flatten -> Linear(16 * H/2 * W/2, 10), on 8x8 (the digits) and 28x28 (MNIST
sized) single-channel images at batch 32 and 256, random data from a fixed seed.

Contenders, timed in this process with interleaved blocks:
- tensorgrad: ``nn.Conv2d``, ``nn.MaxPool2d``, ``nn.Linear``, ``F.cross_entropy``,
  ``optim.SGD`` (the code a user writes);
- numpy im2col (hand-written): the same step written directly in numpy, the way one would by
  hand: channels-last im2col with ``sliding_window_view`` and one copy, one GEMM per
  equation (``Z = cols W + b``, ``dW = cols^T dZ``, ``dcols = dZ W^T``), col2im by strided
  adds, max pooling by a reshape (windows do not overlap) and its backward by a mask.
Before timing, both take one step from the same parameters and their updates are compared.

PyTorch eager (``torch.nn`` with the same parameters, ``torch.set_num_threads(threads)``),
when installed, runs in a fresh process of its own (``python -m benchmarks.cnn_step
--torch-worker``) with the numpy step timed again beside it, so its ratio compares two
figures of one process and nothing PyTorch loads can slow numpy down here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .common import (
    ROOT,
    Mode,
    Section,
    Target,
    Timing,
    compare,
    fmt_ratio,
    fmt_timing,
    log,
    md_table,
    ratio,
)

SIZES = (8, 28)
BATCHES = (32, 256)
CHANNELS = (1, 8, 16)
LR = 0.01
SEED = 0
GOAL = 1.3  # tensorgrad / hand-written numpy at batch 256 (issue 9)
REF = "numpy im2col (hand-written)"
TG = "tensorgrad"
TORCH = "pytorch (eager)"
AGREE_TOL = {"float32": 1e-4, "float64": 1e-10}

Params = List[np.ndarray]  # w1 (8, C, 3, 3), b1, w2 (16, 8, 3, 3), b2, w3 (F, 10), b3


def init_params(size: int, dtype: str, seed: int = SEED) -> Params:
    rng = np.random.default_rng(seed)
    c0, c1, c2 = CHANNELS
    feat = c2 * (size // 2) ** 2

    def u(shape: tuple, fan_in: int) -> np.ndarray:
        b = 1 / np.sqrt(fan_in)
        return rng.uniform(-b, b, shape).astype(dtype)

    return [u((c1, c0, 3, 3), c0 * 9), u((c1,), c0 * 9), u((c2, c1, 3, 3), c1 * 9),
            u((c2,), c1 * 9), u((feat, 10), feat), u((10,), feat)]


def make_batch(size: int, batch: int, dtype: str) -> Tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([SEED, size, batch])
    X = rng.standard_normal((batch, CHANNELS[0], size, size)).astype(dtype)
    return X, rng.integers(0, 10, batch).astype(np.int64)


# --------------------------------------------------------------------------- hand-written numpy


def _im2col(a: np.ndarray) -> np.ndarray:
    """Channels-last ``a (N, H, W, C)``, 3x3 kernel, padding 1, stride 1 ->
    ``cols (N H W, 9 C)``, columns in (kh, kw, c) order."""
    N, H, W, C = a.shape
    ap = np.zeros((N, H + 2, W + 2, C), a.dtype)
    ap[:, 1:-1, 1:-1] = a
    win = sliding_window_view(ap, (3, 3), axis=(1, 2))  # (N, H, W, C, 3, 3)
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(N * H * W, 9 * C)


def _col2im(dcols: np.ndarray, N: int, H: int, W: int, C: int) -> np.ndarray:
    d = dcols.reshape(N, H, W, 3, 3, C)
    dp = np.zeros((N, H + 2, W + 2, C), dcols.dtype)
    for i in range(3):
        for j in range(3):
            dp[:, i:i + H, j:j + W] += d[:, :, :, i, j]
    return dp[:, 1:-1, 1:-1]


def _wmat(w: np.ndarray) -> np.ndarray:
    """(O, C, 3, 3) -> (9 C, O), rows in (kh, kw, c) order: W of ``Z = cols W``."""
    return w.transpose(2, 3, 1, 0).reshape(-1, w.shape[0])


class NumpyStep:
    """The hand-written step (see the module docstring)."""

    name = REF

    def __init__(self, params: Params, lr: float) -> None:
        self.p = [a.copy() for a in params]
        self.lr = lr

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        w1, b1, w2, b2, w3, b3 = self.p
        N, _, H, W = X.shape
        c1, c2 = w1.shape[0], w2.shape[0]
        cols1 = _im2col(X.transpose(0, 2, 3, 1))
        W1 = _wmat(w1)
        z1 = cols1 @ W1 + b1
        a1 = np.maximum(z1, 0)
        cols2 = _im2col(a1.reshape(N, H, W, c1))
        W2 = _wmat(w2)
        z2 = cols2 @ W2 + b2
        a2 = np.maximum(z2, 0).reshape(N, H // 2, 2, W // 2, 2, c2)
        pooled = a2.max(axis=(2, 4))  # (N, H/2, W/2, c2)
        flat = pooled.transpose(0, 3, 1, 2).reshape(N, -1)  # NCHW flatten, as nn.Flatten
        logits = flat @ w3 + b3
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        dlogits = e / e.sum(axis=1, keepdims=True)
        dlogits[np.arange(N), y] -= 1
        dlogits /= N
        dw3 = flat.T @ dlogits
        db3 = dlogits.sum(axis=0)
        dpooled = (dlogits @ w3.T).reshape(N, c2, H // 2, W // 2).transpose(0, 2, 3, 1)
        mask = a2 == pooled[:, :, None, :, None]
        dz2 = (mask * dpooled[:, :, None, :, None]).reshape(-1, c2)
        dz2 *= z2 > 0
        dW2 = cols2.T @ dz2
        db2 = dz2.sum(axis=0)
        da1 = _col2im(dz2 @ W2.T, N, H, W, c1).reshape(-1, c1)
        dz1 = da1 * (z1 > 0)
        dW1 = cols1.T @ dz1
        db1 = dz1.sum(axis=0)
        lr = self.lr
        w1 -= lr * dW1.reshape(3, 3, -1, c1).transpose(3, 2, 0, 1)
        b1 -= lr * db1
        w2 -= lr * dW2.reshape(3, 3, c1, c2).transpose(3, 2, 0, 1)
        b2 -= lr * db2
        w3 -= lr * dw3
        b3 -= lr * db3

    def params(self) -> Params:
        return self.p


# --------------------------------------------------------------------------- tensorgrad


class TensorgradStep:
    name = TG

    def __init__(self, params: Params, lr: float) -> None:
        import tensorgrad as tg
        import tensorgrad.nn as nn

        c0, c1, c2 = CHANNELS
        dtype = params[0].dtype
        self.model = nn.Sequential(
            nn.Conv2d(c0, c1, 3, padding=1, dtype=dtype), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1, dtype=dtype), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(*params[4].shape, dtype=dtype))
        for p, value in zip(self.model.parameters(), params):
            p.data[...] = value
        self.opt = tg.optim.SGD(self.model.parameters(), lr=lr)
        self.F = __import__("tensorgrad.nn.functional", fromlist=["cross_entropy"])

    def step(self, X: np.ndarray, y: np.ndarray) -> None:
        loss = self.F.cross_entropy(self.model(X), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def params(self) -> Params:
        return [p.data for p in self.model.parameters()]


class TorchStep:
    name = TORCH

    def __init__(self, params: Params, lr: float, threads: int = 2) -> None:
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        c0, c1, c2 = CHANNELS
        dt = torch.float64 if params[0].dtype == np.float64 else torch.float32
        nn = torch.nn
        lin = nn.Linear(*params[4].shape, dtype=dt)
        self.model = nn.Sequential(
            nn.Conv2d(c0, c1, 3, padding=1, dtype=dt), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1, dtype=dt), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), lin)
        mods = [self.model[0], self.model[2]]
        with torch.no_grad():
            for m, (w, b) in zip(mods, (params[0:2], params[2:4])):
                m.weight.copy_(torch.from_numpy(w))
                m.bias.copy_(torch.from_numpy(b))
            lin.weight.copy_(torch.from_numpy(params[4].T.copy()))  # torch keeps (out, in)
            lin.bias.copy_(torch.from_numpy(params[5]))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr)

    def step(self, X: Any, y: Any) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self.model(X), y)
        loss.backward()
        self.opt.step()

    def params(self) -> Params:
        ps = [p.detach().numpy().copy() for p in self.model.parameters()]
        ps[4] = ps[4].T
        return ps


def agreement(a: Params, b: Params) -> float:
    """Largest relative difference between two parameter lists (after one step)."""
    return max(float(np.abs(x - y).max() / (np.abs(y).max() + 1e-30)) for x, y in zip(a, b))


# --------------------------------------------------------------------------- the run


def _cases(sizes: Sequence[int], batches: Sequence[int],
           dtypes: Sequence[str]) -> List[Tuple[str, int, int]]:
    return [(d, s, b) for d in dtypes for s in sizes for b in batches]


def _measure(makers: Dict[str, Callable[[Params], Any]], mode: Mode, dtypes: Sequence[str],
             sizes: Sequence[int], batches: Sequence[int], prepare: Callable[..., Any],
             process: str) -> List[Dict[str, Any]]:
    rows: List[Dict[str, Any]] = []
    for dtype, size, batch in _cases(sizes, batches, dtypes):
        params = init_params(size, dtype)
        X, y = make_batch(size, batch, dtype)
        ref = NumpyStep(params, LR)
        ref.step(X, y)
        fns: Dict[str, Callable[[], Any]] = {}
        agree: Dict[str, float] = {}
        for name, make in makers.items():
            c = make(params)
            args = prepare(name, X, y)
            c.step(*args)
            agree[name] = agreement(c.params(), ref.params())
            c = make(params)  # timed from the same start
            fns[name] = (lambda c=c, args=args: c.step(*args))
        timings = compare(fns, mode)
        for name, t in timings.items():
            rows.append({"dtype": dtype, "size": size, "batch": batch, "contender": name,
                         "process": process, **t.to_dict(),
                         "ratio_vs_reference": ratio(t, timings[REF]),
                         "update_rel_diff_vs_reference": agree[name],
                         "agrees_with_reference": agree[name] <= AGREE_TOL[dtype]})
    return rows


def _plain(name: str, X: np.ndarray, y: np.ndarray) -> tuple:
    return X, y


def _torch_worker(argv: List[str]) -> int:
    """``python -m benchmarks.cnn_step --torch-worker JSON_IN JSON_OUT`` (run by `run`)."""
    cfg = json.loads(Path(argv[0]).read_text())
    mode = Mode(**cfg["mode"])
    threads = cfg["threads"]
    import torch

    def prepare(name: str, X: np.ndarray, y: np.ndarray) -> tuple:
        if name == TORCH:
            return torch.from_numpy(X), torch.from_numpy(y)
        return X, y

    makers = {REF: lambda p: NumpyStep(p, LR), TORCH: lambda p: TorchStep(p, LR, threads)}
    rows = _measure(makers, mode, cfg["dtypes"], cfg["sizes"], cfg["batches"], prepare,
                    "pytorch")
    Path(argv[1]).write_text(json.dumps({"rows": rows, "torch": torch.__version__}))
    return 0


def _torch_in_subprocess(mode: Mode, dtypes: Sequence[str], sizes: Sequence[int],
                         batches: Sequence[int], threads: int) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cfg, out = Path(tmp) / "cfg.json", Path(tmp) / "out.json"
        cfg.write_text(json.dumps({"mode": {"name": mode.name, "repeat": mode.repeat,
                                            "block_time": mode.block_time,
                                            "warmup": mode.warmup, "scale": mode.scale},
                                   "threads": threads, "dtypes": list(dtypes),
                                   "sizes": list(sizes), "batches": list(batches)}))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        proc = subprocess.run([sys.executable, "-m", "benchmarks.cnn_step", "--torch-worker",
                               str(cfg), str(out)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=1800)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"the PyTorch process exited with {proc.returncode}: "
                               f"{proc.stderr[-1500:]}")
        data: Dict[str, Any] = json.loads(out.read_text())
    return data


def run(mode: Mode, dtypes: Sequence[str], sizes: Sequence[int] = SIZES,
        batches: Sequence[int] = BATCHES, frameworks: bool = True,
        threads: int = 2) -> Section:
    """Time the CNN step (see the module docstring) and return the report section."""
    t0 = time.perf_counter()
    makers = {REF: lambda p: NumpyStep(p, LR), TG: lambda p: TensorgradStep(p, LR)}
    rows = _measure(makers, mode, dtypes, sizes, batches, _plain, "main")
    notes = ["tensorgrad and the hand-written numpy step are timed in this process with "
             "interleaved blocks; ratios are of medians."]
    if not frameworks:
        notes.append("PyTorch not run (--no-frameworks).")
    elif importlib.util.find_spec("torch") is None:
        notes.append("PyTorch not installed: skipped.")
    else:
        log("  cnn_step: PyTorch in a fresh process")
        try:
            data = _torch_in_subprocess(mode, dtypes, sizes, batches, threads)
        except Exception as e:  # optional: report it, keep our figures
            notes.append(f"PyTorch failed in its own process: {e}")
        else:
            rows += data["rows"]
            notes.append(f"PyTorch {data['torch']} rows (†) were timed in a fresh process of "
                         f"their own with torch.set_num_threads({threads}), beside the numpy "
                         "step timed again there (the † reference row); their ratios are to "
                         "that reference.")
    for r in rows:
        if not r["agrees_with_reference"]:
            notes.append(f"{r['contender']} ({r['dtype']}, {r['size']}x{r['size']}, batch "
                         f"{r['batch']}): update differs from the numpy step's by "
                         f"{r['update_rel_diff_vs_reference']:.1e}; its time is not comparable.")
    section = Section(
        name="cnn_step",
        title="CNN training step (conv 3x3 x2, max pool, linear; SGD)",
        data={"config": {"sizes": list(sizes), "batches": list(batches), "channels": CHANNELS,
                         "lr": LR, "seed": SEED, "dtypes": list(dtypes)},
              "results": rows},
        markdown=_markdown(rows, dtypes, sizes, batches),
        notes=notes,
    )
    section.targets = _targets(rows, dtypes, sizes, batches)
    section.seconds = time.perf_counter() - t0
    return section


def _targets(rows: List[Dict[str, Any]], dtypes: Sequence[str], sizes: Sequence[int],
             batches: Sequence[int]) -> List[Target]:
    out = []
    if 256 not in batches:
        return out
    for size in sizes:
        values, met, worst = [], True, None
        for r in rows:
            if (r["contender"] == TG and r["batch"] == 256 and r["size"] == size
                    and r["dtype"] in dtypes):
                x = r["ratio_vs_reference"]
                met = met and x is not None and x <= GOAL and r["agrees_with_reference"]
                worst = x if worst is None else max(worst, x)
                values.append(f"{r['dtype']} {fmt_ratio(x)}")
        if values:
            out.append(Target(f"CNN step {size}x{size}, batch 256",
                              f"<= {GOAL:.2f}x hand-written numpy im2col", ", ".join(values),
                              met, score=None if worst is None else worst / GOAL))
    return out


def _markdown(rows: List[Dict[str, Any]], dtypes: Sequence[str], sizes: Sequence[int],
              batches: Sequence[int]) -> str:
    parts = []
    for dtype in dtypes:
        cell = {(r["contender"] + (" †" if r["process"] == "pytorch" else ""),
                 r["size"], r["batch"]): r for r in rows if r["dtype"] == dtype}
        names = list(dict.fromkeys(k[0] for k in cell))
        table = []
        for name in names:
            row = [name]
            for size in sizes:
                for b in batches:
                    r = cell.get((name, size, b))
                    if r is None:
                        row.append("n/a")
                        continue
                    t = Timing(r["median"], r["min"], r["max"], r["number"], r["repeat"])
                    flag = "" if r["agrees_with_reference"] else " (disagrees!)"
                    row.append(f"{fmt_timing(t)}<br>{fmt_ratio(r['ratio_vs_reference'])} "
                               f"numpy{flag}")
            table.append(row)
        header = ["contender"] + [f"{s}x{s}, batch {b}" for s in sizes for b in batches]
        parts.append(f"**{dtype}** — time per step, median (min .. max); ratio of medians to "
                     "the hand-written numpy im2col step of the same process.\n\n"
                     + md_table(header, table))
    return "\n\n".join(parts)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--torch-worker"]:
        sys.exit(_torch_worker(sys.argv[2:]))
    sys.exit("run through benchmarks/run.py (--only cnn_step)")
