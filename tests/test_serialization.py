"""state_dict / load_state_dict and the .npz files: bit-exact round trips, and every kind of
bad input raising a clear error while leaving the model exactly as it was."""
from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn as nn
from tensorgrad.serialization import SerializationError


def make(seed=0, dtype=None):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 5, dtype=dtype), nn.ReLU(), nn.Linear(5, 3, dtype=dtype))


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same(model, snap):
    sd = model.state_dict()
    assert list(sd) == list(snap)
    for k in snap:
        assert sd[k].dtype == snap[k].dtype
        np.testing.assert_array_equal(sd[k], snap[k])


# ----------------------------------------------------------------------------- state dicts
def test_state_dict_is_an_ordered_copy():
    m = make()
    sd = m.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    sd["0.weight"][...] = 7
    assert not np.any(m[0].weight.data == 7)


def test_state_dict_round_trip_is_bit_exact_and_in_place():
    src, dst = make(0), make(1)
    arrays = [p.data for p in dst.parameters()]
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert_same(dst, src.state_dict())
    # the same arrays were written into, so an optimizer holding them keeps working
    assert all(p.data is a for p, a in zip(dst.parameters(), arrays))


def test_optimizer_keeps_working_after_load():
    m = make(0)
    opt = tg.optim.SGD(m.parameters(), lr=0.1)
    m.load_state_dict(make(1).state_dict())
    before = m[0].weight.data.copy()
    m(tg.ones(2, 4)).sum().backward()
    opt.step()
    assert not np.array_equal(m[0].weight.data, before)


def test_load_keeps_the_parameter_dtype():
    m = make(0, dtype=np.float32)
    src = make(1, dtype=np.float64).state_dict()
    m.load_state_dict(src)
    assert all(p.dtype == np.float32 for p in m.parameters())
    np.testing.assert_array_equal(m[0].weight.data, src["0.weight"].astype(np.float32))


def test_load_accepts_tensors_and_lists():
    m = nn.Linear(2, 1)
    m.load_state_dict({"weight": tg.tensor([[1.0], [2.0]]), "bias": [3]})
    np.testing.assert_array_equal(m.weight.data, [[1], [2]])
    np.testing.assert_array_equal(m.bias.data, [3])


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.pop("2.bias"), ["Missing", "'2.bias'"]),
    (lambda d: d.update({"3.weight": np.zeros(1)}), ["Unexpected", "'3.weight'"]),
    (lambda d: d.update({"0.weight": np.zeros((5, 4), np.float32)}),
     ["size mismatch", "'0.weight'", "(5, 4)", "(4, 5)"]),
    (lambda d: d.update({"0.bias": np.array(["a"] * 5)}), ["'0.bias'", "dtype"]),
    (lambda d: d.update({"0.bias": np.zeros(5, complex)}), ["'0.bias'", "complex"]),
])
def test_bad_state_dict_raises_and_changes_nothing(edit, words):
    m = make(0)
    snap = snapshot(m)
    sd = make(1).state_dict()  # valid values for the other entries
    edit(sd)
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(sd)
    for w in words:
        assert w in str(info.value)
    assert "unchanged" in str(info.value)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    assert_same(m, snap)


def test_all_problems_are_listed_at_once():
    m = make(0)
    sd = make(1).state_dict()
    del sd["0.bias"]
    sd["extra"] = np.zeros(1)
    sd["2.weight"] = np.zeros((3, 5))
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(sd)
    msg = str(info.value)
    assert "'0.bias'" in msg and "'extra'" in msg and "'2.weight'" in msg


def test_non_strict_load_reports_and_loads_the_rest():
    m = make(0)
    sd = make(1).state_dict()
    del sd["2.bias"]
    sd["extra"] = np.zeros(1)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(m[0].weight.data, sd["0.weight"])
    # shapes are checked even when not strict
    sd["0.weight"] = np.zeros((1, 1))
    with pytest.raises(nn.StateDictError, match="size mismatch"):
        m.load_state_dict(sd, strict=False)


def test_load_state_dict_wants_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        make().load_state_dict([("0.weight", np.zeros((4, 5)))])


# ----------------------------------------------------------------------------- files
def test_file_round_trip_is_bit_exact(tmp_path):
    src = make(0)
    path = tmp_path / "model.npz"
    src.save(path)
    dst = make(1)
    dst.load(str(path))
    assert_same(dst, src.state_dict())


def test_float64_and_odd_names_survive(tmp_path):
    sd = {"file": np.array([np.pi, np.nextafter(1.0, 2.0), -0.0, np.inf]),
          "allow_pickle": np.arange(6, dtype=np.int32).reshape(2, 3),
          "a.b/c": np.float32(1.5), "empty": np.zeros((0, 3))}
    path = tmp_path / "odd"
    tg.save(sd, path)
    assert os.path.exists(path)  # exactly the given name, no ".npz" appended
    back = tg.load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == np.asarray(sd[k]).dtype and back[k].shape == np.shape(sd[k])
        np.testing.assert_array_equal(back[k], sd[k])
    assert np.signbit(back["file"][2])


def test_numpy_reads_our_files_and_we_read_numpys(tmp_path):
    tg.save({"w": np.ones(3)}, tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz") as f:
        np.testing.assert_array_equal(f["w"], 1)
    np.savez(tmp_path / "b.npz", w=np.arange(3.0))
    np.testing.assert_array_equal(tg.load(tmp_path / "b.npz")["w"], [0, 1, 2])


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    tg.save(make(0).state_dict(), buf)
    buf.seek(0)
    assert_same(make(0), tg.load(buf))


def test_save_rejects_bad_values(tmp_path):
    with pytest.raises(TypeError, match="state_dict"):
        tg.save(make(), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="dtype"):
        tg.save({"x": np.array([object()])}, tmp_path / "m.npz")
    with pytest.raises(TypeError, match="names"):
        tg.save({1: np.zeros(1)}, tmp_path / "m.npz")
    assert not os.listdir(tmp_path)  # nothing half-written left behind


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.npz"
    make(0).save(path)
    old = path.read_bytes()
    with pytest.raises(TypeError):
        tg.save({"good": np.ones(2), "bad": np.array(["x"])}, path)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["m.npz"]


class _Evil:
    """Unpickling this would create a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_files_are_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    with open(path, "wb") as f:
        pickle.dump({"0.weight": _Evil(str(marker))}, f)
    m = make()
    snap = snapshot(m)
    with pytest.raises(SerializationError, match="pickle"):
        m.load(path)
    assert not marker.exists()
    assert_same(m, snap)


def test_object_arrays_inside_an_npz_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, **{"0.weight": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(SerializationError):
        tg.load(path)


@pytest.mark.parametrize("cut", [0, 10, 100, 0.5, -30])
def test_truncated_files_raise_and_change_nothing(tmp_path, cut):
    path = tmp_path / "m.npz"
    make(1).save(path)
    data = path.read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut >= 0 else len(data) + cut)
    path.write_bytes(data[:n])
    m = make(0)
    snap = snapshot(m)
    with pytest.raises(SerializationError, match="m.npz"):
        m.load(path)
    assert_same(m, snap)


def test_corrupted_bytes_raise(tmp_path):
    path = tmp_path / "m.npz"
    make(1).save(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
    start = info.header_offset + 30 + len(info.filename) + 200  # inside the first array
    data[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    m = make(0)
    snap = snapshot(m)
    with pytest.raises(SerializationError, match="corrupt"):
        m.load(path)
    assert_same(m, snap)


def test_a_single_npy_is_not_a_state_dict(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.ones(3))
    with pytest.raises(SerializationError, match="single array"):
        tg.load(path)


def test_missing_file(tmp_path):
    m = make()
    snap = snapshot(m)
    with pytest.raises(FileNotFoundError):
        m.load(tmp_path / "nope.npz")
    assert_same(m, snap)


@pytest.mark.parametrize("problem", ["keys", "shapes"])
def test_file_that_does_not_fit_changes_nothing(tmp_path, problem):
    path = tmp_path / "m.npz"
    other = (nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3), nn.Linear(3, 1))
             if problem == "keys" else nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)))
    other.save(path)
    m = make()
    snap = snapshot(m)
    with pytest.raises(nn.StateDictError, match="Unexpected" if problem == "keys" else "size"):
        m.load(path)
    assert_same(m, snap)
