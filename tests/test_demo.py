"""The digits demo: learns quickly, reaches the advertised accuracy with the defaults, and its
command line (flags, --save, --plot, progress bar) works with and without the optional
packages."""
from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import tensorgrad.nn as nn
from tensorgrad.examples import digits


def quiet(_msg):
    pass


def test_a_few_epochs_reach_90_percent():
    result = digits.train(epochs=2, progress=False, log=quiet)
    assert result.test_accuracy >= 0.90
    assert len(result.history) == 2
    assert result.history[1]["loss"] < result.history[0]["loss"]
    assert result.seconds < 10


def test_full_default_run_reaches_97_percent():
    result = digits.train(progress=False, log=quiet)
    assert result.test_accuracy >= 0.97
    assert result.train_accuracy >= 0.99
    assert len(result.history) == digits.EPOCHS


def test_same_seed_same_numbers():
    a = digits.train(epochs=1, seed=3, progress=False, log=quiet)
    b = digits.train(epochs=1, seed=3, progress=False, log=quiet)
    assert a.history == b.history
    for (_, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_split_is_stratified_and_standardised_on_train_only():
    X_tr, X_te, y_tr, y_te = digits.load_split(0)
    assert len(y_tr) + len(y_te) == 1797 and len(y_te) == 360
    np.testing.assert_allclose(np.bincount(y_te) / len(y_te), np.bincount(y_tr) / len(y_tr),
                               atol=0.01)
    used = X_tr.std(axis=0) > 0
    np.testing.assert_allclose(X_tr.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(X_tr.std(axis=0)[used], 1, rtol=1e-4)
    assert not np.allclose(X_te.mean(axis=0)[used], 0, atol=1e-5)  # test stats not used


def test_sgd_and_deeper_networks():
    result = digits.train(epochs=3, lr=0.05, hidden=(32, 16), optimizer="sgd",
                          progress=False, log=quiet)
    assert result.test_accuracy >= 0.85
    assert [m.out_features for m in result.model if isinstance(m, nn.Linear)] == [32, 16, 10]
    with pytest.raises(ValueError, match="optimizer"):
        digits.train(epochs=1, optimizer="lbfgs", progress=False, log=quiet)


def test_main_prints_epochs_and_saves(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # plain lines even where tqdm exists
    path = tmp_path / "model.npz"
    assert digits.main(["--epochs", "2", "--hidden", "32", "--seed", "1", "--batch-size", "64",
                        "--lr", "0.01", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "64-32-10" in out
    assert "epoch   1/2" in out and "epoch   2/2" in out and "test acc" in out
    assert "final: train accuracy" in out and "wall time" in out
    model = digits.build_model((32,))
    model.load(path)
    X_tr, X_te, y_tr, y_te = digits.load_split(1)
    final = float(out.split("test accuracy ")[1].split("%")[0])
    assert digits.accuracy(model, X_te, y_te) * 100 == pytest.approx(final, abs=0.01)


@pytest.mark.parametrize("flag", ["--save", "--plot"])
def test_an_unwritable_destination_is_refused_before_training(tmp_path, capsys, monkeypatch,
                                                              flag):
    monkeypatch.setattr(digits, "train", lambda **kw: pytest.fail("trained first"))
    with pytest.raises(SystemExit) as info:
        digits.main([flag, str(tmp_path / "missing" / "out.npz")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and "does not exist" in err and "missing" in err
    with pytest.raises(SystemExit):
        digits.main([flag, str(tmp_path)])
    assert "is a directory" in capsys.readouterr().err


def test_progress_bar_uses_tqdm_when_installed(capsys, monkeypatch):
    calls = []

    class FakeTqdm:
        def __init__(self, iterable, **kwargs):
            self.iterable = iterable
            calls.append(kwargs)

        def __iter__(self):
            return iter(self.iterable)

        def set_postfix(self, **kwargs):
            calls.append(kwargs)

        @staticmethod
        def write(msg):
            print("TQDM:", msg)

    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    digits.main(["--epochs", "1"])
    out = capsys.readouterr().out
    assert "TQDM: epoch   1/1" in out
    assert calls[0]["desc"] == "epochs" and "loss" in calls[1]


def test_plot_without_matplotlib_says_so_before_training(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as info:
        digits.main(["--plot", "curves.png"])
    assert info.value.code == 2
    err = capsys.readouterr()
    assert "matplotlib" in err.err and "pip install" in err.err
    assert "epoch" not in err.out


def test_plot_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    assert digits.main(["--epochs", "1", "--plot", str(path), "--no-progress"]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv", [["--hidden", "0"], ["--hidden", "12,x"], ["--epochs", "0"],
                                  ["--lr", "-1"], ["--batch-size", "a"], ["--optimizer", "x"]])
def test_bad_flags_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as info:
        digits.main(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_hidden_flag_parses_lists():
    assert digits.parser().parse_args(["--hidden", "128,64"]).hidden == (128, 64)


def test_runs_with_python_dash_m():
    root = Path(digits.__file__).resolve().parents[2]
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "-m", "tensorgrad.examples.digits", "--epochs", "1",
                           "--no-progress"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "final: train accuracy" in proc.stdout
