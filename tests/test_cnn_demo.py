"""The CNN demo (python -m tensorgrad.examples.cnn): learns, beats the MLP demo's accuracy with
its defaults, and its command line works."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import tensorgrad.nn as nn
from tensorgrad.examples import cnn


def quiet(_msg):
    pass


def test_an_unwritable_save_path_is_refused_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cnn, "train", lambda **kw: pytest.fail("trained first"))
    with pytest.raises(SystemExit) as info:
        cnn.main(["--save", str(tmp_path / "missing" / "cnn.npz")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--save" in err and "does not exist" in err


def test_two_epochs_learn():
    result = cnn.train(epochs=2, progress=False, log=quiet)
    assert result.test_accuracy >= 0.93
    assert len(result.history) == 2
    assert result.history[1]["loss"] < result.history[0]["loss"]


def test_full_default_run_reaches_98_5_percent():
    result = cnn.train(progress=False, log=quiet)
    assert result.test_accuracy >= 0.985
    assert len(result.history) == cnn.EPOCHS


def test_images_and_model_shapes():
    X_tr, X_te, y_tr, y_te = cnn.load_images(0)
    assert X_tr.shape == (1437, 1, 8, 8) and X_te.shape == (360, 1, 8, 8)
    assert abs(float(X_tr.mean())) < 1e-4 and abs(float(X_tr.std()) - 1) < 1e-4
    model = cnn.build_model((4, 8))
    assert model(X_te[:5]).shape == (5, 10)
    assert [type(m) for m in model][:5] == [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.MaxPool2d]


def test_shift_moves_each_image_by_at_most_one_pixel():
    rng = np.random.default_rng(0)
    images = np.zeros((50, 1, 8, 8), np.float32)
    images[:, 0, 3, 4] = 1.0
    moved = cnn.shift(images, rng, 1)
    rows, cols = np.nonzero(moved[:, 0].reshape(50, 8, 8).sum(0))
    assert moved.shape == images.shape and moved.sum() == 50
    assert set(rows) <= {2, 3, 4} and set(cols) <= {3, 4, 5} and len(set(rows)) > 1


def test_main_prints_epochs_and_saves(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # plain lines even where tqdm exists
    path = tmp_path / "cnn.npz"
    assert cnn.main(["--epochs", "1", "--channels", "4,8", "--max-shift", "1",
                     "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "conv3x3(4)" in out and "epoch   1/1" in out and "test acc" in out
    assert "final: train accuracy" in out
    model = cnn.build_model((4, 8))
    model.load(path)
