"""state_dict / load_state_dict and the .npz files: bit-exact round trips, and every kind of
bad input raising a clear error while leaving the model exactly as it was."""
from __future__ import annotations

import io
import math
import os
import pickle
import stat
import tempfile
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
    with pytest.raises(SerializationError, match="keys must be"):
        tg.save({object(): np.zeros(1)}, tmp_path / "m.npz")
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
    with pytest.raises(SerializationError, match="'0.weight' of .*obj.npz.* object array"):
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


# ----------------------------------------------------------------------------- checkpoints
def _same(a, b, path="obj"):
    """a and b equal with the same types all the way down (arrays: dtype, shape, bits)."""
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), path
        for (ka, va), kb in zip(a.items(), b.keys()):
            assert type(ka) is type(kb), (path, ka)
            _same(va, b[kb], f"{path}[{ka!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, tg.Tensor):
        assert a.requires_grad == b.requires_grad, path
        _same(a.data, b.data, path)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), path
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), path
    elif isinstance(a, float) and a != a:
        assert b != b, path
    else:
        assert a == b, path
        if isinstance(a, float):
            assert math.copysign(1, a) == math.copysign(1, b), path


def test_nested_structures_round_trip_exactly(tmp_path):
    from collections import OrderedDict

    obj = {
        "ints": [0, -1, 2**70, True, False], "floats": (0.1, -0.0, 1e308, 5e-324),
        "specials": [float("nan"), float("inf"), -float("inf")], "none": None,
        "text": "héllo\n\"$dict\"", "empty": [[], (), {}, ""],
        "np": [np.float32(1.5), np.int8(-3), np.bool_(True), np.float64(2.0), np.uint64(2**63)],
        "arrays": {"f16": np.arange(3, dtype=np.float16), "0d": np.array(7),
                   "c": np.array([1 + 2j]), "strided": np.arange(12.0).reshape(3, 4)[:, ::2],
                   "bools": np.array([[True], [False]]), "empty": np.zeros((0, 2), np.int32)},
        "tensors": [tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3], dtype=np.int64)],
        ("tuple", 1): {1: "int key", 2.5: "float key", None: "none key", False: "bool key"},
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        "nested": [[[{"deep": (1, [2.0, {"x": np.ones(1)}])}]]],
        "__tensorgrad__": np.ones(2),  # the structure member's name, as a user key
    }
    path = tmp_path / "ckpt.npz"
    tg.save(obj, path)
    back = tg.load(path)
    _same(obj, back)
    p = tg.load(path)["tensors"][0]
    assert p.requires_grad and p.is_leaf and isinstance(p, tg.Tensor)


def test_model_and_optimizer_in_one_checkpoint_resume_exactly(tmp_path):
    x = tg.tensor(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32))

    def train(model, opt, sched, steps):
        for _ in range(steps):
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()
            sched.step()

    model = make(0)
    opt = tg.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    sched = tg.optim.StepLR(opt, step_size=2, gamma=0.5)
    train(model, opt, sched, 3)
    path = tmp_path / "ckpt.pt"   # any suffix, written exactly there
    tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "epoch": 3}, path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    ckpt = tg.load(path)
    _same(opt.state_dict(), ckpt["optimizer"])      # int keys, tuple betas, "step" ints
    assert ckpt["epoch"] == 3 and type(ckpt["epoch"]) is int

    model2 = make(5)
    opt2 = tg.optim.Adam(model2.parameters(), lr=0.5)
    sched2 = tg.optim.StepLR(opt2, step_size=7)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    train(model, opt, sched, 4)
    train(model2, opt2, sched2, 4)
    assert_same(model2, model.state_dict())
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_module_save_is_readable_by_numpy_and_old_files_still_load(tmp_path):
    m = make(0)
    m.save(tmp_path / "new.npz")
    with np.load(tmp_path / "new.npz", allow_pickle=False) as f:  # plain .npy members
        np.testing.assert_array_equal(f["0.weight"], m[0].weight.data)
    # the format Module.save wrote before: a flat archive of name.npy members
    with zipfile.ZipFile(tmp_path / "old.npz", "w") as zf:
        for name, arr in m.state_dict().items():
            with zf.open(name + ".npy", "w") as member:
                np.lib.format.write_array(member, arr)
    back = tg.load(tmp_path / "old.npz")
    assert type(back).__name__ == "OrderedDict"
    _same(dict(back), dict(m.state_dict()))
    make(3).load(tmp_path / "old.npz")


@pytest.mark.parametrize("bad, words", [
    (lambda: None, ["<lambda>", "function"]),
    (np.array([1, "a"], dtype=object), ["dtype object"]),
    (np.array(["text"]), ["<U4"]),
    (object(), ["object"]),
    ({1 + 2j: 1}, ["key"]),
    (b"bytes", ["bytes"]),
    ({1, 2}, ["set"]),
    (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), ["MaskedArray"]),  # the mask would be lost
])
def test_unsavable_objects_raise_before_any_file_is_touched(tmp_path, bad, words):
    path = tmp_path / "ckpt.npz"
    path.write_bytes(b"precious")
    with pytest.raises(SerializationError) as info:
        tg.save({"model": {"w": np.ones(2)}, "extra": [0, bad]}, path)
    msg = str(info.value)
    assert "['extra']['1']" in msg or "key" in words
    for w in words:
        assert w in msg
    assert path.read_bytes() == b"precious" and os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_cycle_is_refused(tmp_path):
    a = [1]
    a.append(a)
    with pytest.raises(SerializationError, match="cycle"):
        tg.save(a, tmp_path / "c.npz")
    shared = [np.ones(1)]
    tg.save([shared, shared], tmp_path / "c.npz")  # shared, not cyclic: fine
    assert len(tg.load(tmp_path / "c.npz")) == 2


def test_missing_directory_raises_before_writing(tmp_path):
    with pytest.raises(SerializationError, match="does not exist"):
        tg.save({"w": np.ones(1)}, tmp_path / "no" / "such" / "ckpt.npz")
    assert os.listdir(tmp_path) == []


def test_save_never_writes_through_a_planted_symlink(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_bytes(b"do not touch")
    target = tmp_path / "model.npz"
    # every name the old code (or an obvious variant) would have used
    for name in [f"model.npz.{os.getpid()}.tmp", "model.npz.tmp", ".model.npz.tmp",
                 f".model.npz.{os.getpid()}.tmp"]:
        (tmp_path / name).symlink_to(victim)
    # and mkstemp's own names, for a while: force its first candidates to collide
    names = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: names)
    (tmp_path / ".model.npz.aaaa.tmp").symlink_to(victim)
    tg.save({"w": np.ones(2)}, target)
    assert victim.read_bytes() == b"do not touch"
    np.testing.assert_array_equal(tg.load(target)["w"], [1, 1])
    assert not target.is_symlink()
    leftovers = {p.name for p in tmp_path.iterdir()} - {"victim", "model.npz"}
    assert all((tmp_path / n).is_symlink() for n in leftovers)   # only the planted links


def test_existing_mode_is_kept_and_new_files_follow_the_umask(tmp_path):
    path = tmp_path / "secret.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    tg.save({"w": np.ones(1)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    tg.save({"w": np.ones(1)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    old = os.umask(0o027)
    try:
        tg.save({"w": np.ones(1)}, tmp_path / "new.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640


def test_saving_through_a_symlink_updates_its_target(tmp_path):
    run3 = tmp_path / "run3.npz"
    tg.save({"w": np.zeros(1)}, run3)
    os.chmod(run3, 0o600)
    latest = tmp_path / "latest.npz"
    latest.symlink_to("run3.npz")  # relative, as people make them
    tg.save({"w": np.ones(1)}, latest)
    assert latest.is_symlink() and os.readlink(latest) == "run3.npz"
    np.testing.assert_array_equal(tg.load(run3)["w"], [1])
    assert stat.S_IMODE(os.stat(run3).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.npz", "run3.npz"]
    # a dangling link: the file it names is created, the link stays
    (tmp_path / "next.npz").symlink_to("run4.npz")
    tg.save({"w": np.ones(1)}, tmp_path / "next.npz")
    assert (tmp_path / "next.npz").is_symlink() and (tmp_path / "run4.npz").is_file()


def test_unwritable_directory_or_file_raises_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    tg.save({"w": np.zeros(1)}, path)
    old = path.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as mp:
        mp.setattr(tempfile, "mkstemp", refuse)
        with pytest.raises(SerializationError, match="Permission denied"):
            tg.save({"w": np.ones(1)}, path)
    assert path.read_bytes() == old
    if os.geteuid() != 0:  # root may write anywhere
        os.chmod(path, 0o444)
        with pytest.raises(SerializationError, match="read-only"):
            tg.save({"w": np.ones(1)}, path)
        os.chmod(path, 0o644)
        os.chmod(tmp_path, 0o555)
        try:
            with pytest.raises(SerializationError, match="cannot create"):
                tg.save({"w": np.ones(1)}, path)
        finally:
            os.chmod(tmp_path, 0o755)
        assert path.read_bytes() == old and os.listdir(tmp_path) == ["m.npz"]


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    tg.save({"w": np.zeros(1)}, path)
    old = path.read_bytes()
    from tensorgrad import serialization

    def crash(f, arrays):
        f.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write", crash)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"w": np.ones(1)}, path)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("content, words", [
    (b"PyTorch state dict, honest\n", ["model.pt", "not an .npz"]),
    (b"", ["model.pt", "empty"]),
    (pickle.dumps({"a": 1}), ["model.pt", "pickle"]),
])
def test_loading_a_non_npz_file_names_it(tmp_path, content, words):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(SerializationError) as info:
        tg.load(path)
    for w in words:
        assert w in str(info.value)


def test_a_torch_zip_checkpoint_is_recognised(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
        zf.writestr("archive/version", "3\n")
    with pytest.raises(SerializationError, match="torch.load"):
        tg.load(path)


def test_a_non_array_member_raises_naming_the_file(tmp_path):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("w.npy", "w") as m:
            np.lib.format.write_array(m, np.ones(2))
        zf.writestr("notes.txt", "hello")
    with pytest.raises(SerializationError, match=r"'notes.txt' of '.*odd.npz'"):
        tg.load(path)


def _with_structure(path, text, arrays=None):
    arrays = {"__tensorgrad__": np.frombuffer(text.encode(), np.uint8), **(arrays or {})}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize("text", [
    "not json", "[1, 2]", '{"format": "other", "version": 1, "root": 1}',
    '{"format": "tensorgrad", "version": 1}',
    '{"format": "tensorgrad", "version": 1, "root": {"$array": "missing"}}',
    '{"format": "tensorgrad", "version": 1, "root": {"$array": "__tensorgrad__"}}',
    '{"format": "tensorgrad", "version": 1, "root": {"$bogus": 1}}',
    '{"format": "tensorgrad", "version": 1, "root": {"$dict": [[1]]}}',
    '{"format": "tensorgrad", "version": 1, "root": {"$dict": [[[1], 2]]}}',
    '{"format": "tensorgrad", "version": 1, "root": {"$scalar": "w"}}',
    '{"format": "tensorgrad", "version": 1, "root": {"$float": "1e5"}}',
    '{"format": "tensorgrad", "version": 1, "root": {"$tensor": "w", "requires_grad": 1,'
    ' "parameter": false}}',
    '{"format": "tensorgrad", "version": 99, "root": 1}',
])
def test_a_malformed_structure_raises_naming_the_file(tmp_path, text):
    path = tmp_path / "bad.npz"
    _with_structure(path, text, {"w": np.ones(3)})
    with pytest.raises(SerializationError, match="bad.npz"):
        tg.load(path)


def test_a_structure_member_that_is_not_bytes(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, __tensorgrad__=np.ones(3))
    with pytest.raises(SerializationError, match="malformed"):
        tg.load(path)
