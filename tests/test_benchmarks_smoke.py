"""Smoke tests of the benchmark suite (benchmarks/): the scripts run end to end in their tiny
mode, write well-formed results, and their checks can fail. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import common, contenders, memory, mlp_step, report, training  # noqa: E402
from benchmarks.run import FRAMEWORKS, NAMES, parse_args  # noqa: E402


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole suite in tiny mode, once, as `make bench` runs it (a fresh interpreter)."""
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--tiny", "--no-frameworks",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the terminal gets a short plain summary, not the markdown tables
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("tensorgrad benchmarks, tiny mode") and "targets met" in lines[0]
    assert "## " not in proc.stdout and "<br>" not in proc.stdout and "|" not in proc.stdout
    # targets not met in detail (most, in this mode), the met ones by name only
    assert len(lines) < 90 and max(map(len, lines)) <= 120
    assert f"{out}/results.md" in proc.stdout
    assert "a few seconds" in proc.stderr  # how long it takes, said up front
    return out


def test_suite_writes_json_markdown_and_chart_message(tiny_run: Path) -> None:
    doc = json.loads((tiny_run / "results.json").read_text())
    assert set(doc["benchmarks"]) == set(NAMES)
    env = doc["meta"]["environment"]
    assert env["threads"] >= 1 and env["blas"] and "numpy" in env
    md = (tiny_run / "results.md").read_text()
    for title in ("## Targets", "## MLP training step", "## Per-op overhead", "## Deep graph",
                  "## Memory", "## Training"):
        assert title in md
    assert "](" not in md  # the docs site embeds results.md; relative links would break there
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not (tiny_run / "results.png").exists()
    else:
        assert (tiny_run / "results.png").stat().st_size > 0


def test_every_timing_is_ordered_and_positive(tiny_run: Path) -> None:
    doc = json.loads((tiny_run / "results.json").read_text())
    rows = doc["benchmarks"]["mlp_step"]["results"]
    assert {r["batch"] for r in rows} == {1, 32}
    assert {r["dtype"] for r in rows} == {"float32", "float64"}
    names = {r["contender"] for r in rows}
    assert {"numpy reference", "tensorgrad", "GEMM floor"} <= names
    for r in rows:
        assert 0 < r["min"] <= r["median"] <= r["max"]
        assert r["repeat"] == len(r["samples"]) >= 3
    for r in rows:  # tensorgrad must compute the reference's update, or its time means nothing
        if r["contender"].startswith("tensorgrad"):
            assert r["agrees_with_reference"] is True, r


def test_targets_cover_the_issue(tiny_run: Path) -> None:
    doc = json.loads((tiny_run / "results.json").read_text())
    names = " | ".join(t["name"] for t in doc["targets"])
    for fragment in ("MLP step, batch 1", "MLP step, batch 32", "per-op overhead",
                     "deep chain", "peak RSS", "no Tensor leak", "training time"):
        assert fragment in names
    for t in doc["targets"]:
        assert t["met"] in (True, False, None)


def test_memory_and_leak_results_are_sane(tiny_run: Path) -> None:
    doc = json.loads((tiny_run / "results.json").read_text())
    rss = {(r["dtype"], r["case"]): r for r in doc["benchmarks"]["memory"]["rss"]}
    base = rss[("float32", "baseline")]["raw_bytes_median"]
    # 2048 x 784 float32 inputs alone are 6 MiB on top of the interpreter.
    assert rss[("float32", "numpy reference")]["raw_bytes_median"] > base + 6 * 2**20
    for row in doc["benchmarks"]["memory"]["tensor_count"]:
        assert row["before"] > 0 and row["after"] == row["before"]


def test_training_reaches_the_same_accuracy(tiny_run: Path) -> None:
    doc = json.loads((tiny_run / "results.json").read_text())
    acc = {(r["dtype"], r["contender"]): r["test_accuracy"]
           for r in doc["benchmarks"]["training"]["results"]}
    for dtype in ("float32", "float64"):
        # Same start, same batches, same arithmetic: the same predictions (1 epoch here).
        assert acc[(dtype, "tensorgrad")] == acc[(dtype, "numpy reference")] > 0.5


def test_compare_interleaves_and_summarises() -> None:
    calls: list = []
    mode = common.Mode("t", repeat=4, block_time=0.0, warmup=1)
    out = common.compare({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, mode)
    assert calls == ["a", "b"] + ["a", "b"] * 4  # warm-up each, then alternating blocks
    assert out["a"].repeat == 4 and out["a"].number == 1
    t = common.Timing.from_samples([3.0, 1.0, 2.0], number=5)
    assert (t.median, t.min, t.max) == (2.0, 1.0, 3.0)
    assert common.ratio(t, common.Timing.from_samples([4.0], 1)) == 0.5
    a, b = common.Timing.from_samples([2.0, 4.0], 1), common.Timing.from_samples([1.0, 4.0], 1)
    assert common.paired_ratio(a, b) == 1.5  # round by round: 2.0 and 1.0
    assert common.paired_ratio(a, t) is None  # not timed together


def test_fmt_time_units() -> None:
    assert common.fmt_time(1.5) == "1.5 s"
    assert common.fmt_time(0.0025) == "2.5 ms"
    assert common.fmt_time(3e-6) == "3 us"
    assert common.fmt_time(None) == "n/a"


def test_results_go_to_an_untracked_folder_unless_asked() -> None:
    from benchmarks.run import DEFAULT_OUT, TRACKED

    assert parse_args([]).out == DEFAULT_OUT == ROOT / "build" / "benchmarks"
    assert parse_args(["--update-results"]).out == TRACKED == ROOT / "benchmarks" / "results"
    assert parse_args(["--out", "x"]).out == Path("x")
    with pytest.raises(SystemExit):
        parse_args(["--out", "x", "--update-results"])
    ignored = subprocess.run(["git", "check-ignore", "-q", str(DEFAULT_OUT / "results.md")],
                             cwd=ROOT, capture_output=True)
    if ignored.returncode != 128:  # 128: not a git checkout (an sdist); nothing to check
        assert ignored.returncode == 0, "build/benchmarks must be ignored by git"


def test_summary_is_short_and_plain() -> None:
    long = "x" * 300
    sections = [common.Section("a", "A", {}, "| t |<br>", targets=[
        common.Target("MLP step, batch 1: tensorgrad / reference " + long, "<= 1.2", "1.05<br>x",
                      True),
        common.Target("peak RSS", "<= 2x", "3x", False)])]
    meta = {"mode": "quick", "seconds": 83.2, "other_programs_cpu_share": 0.5}
    text = report.summary(sections, meta, "build/benchmarks")
    assert "1 of 2 targets met" in text and "Not met (1):" in text and "inflated" in text
    assert "peak RSS" in text and "3x" in text and "Met (1):" in text
    assert "<br>" not in text and max(map(len, text.splitlines())) <= 120


def test_only_rejects_unknown_names() -> None:
    assert parse_args(["--only", "per_op,depth"]).only == ["per_op", "depth"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "nonsense"])


def test_frameworks_option_names_modules() -> None:
    from benchmarks import frameworks

    assert set(FRAMEWORKS) == {m for _, m in frameworks.OPTIONAL}
    assert parse_args(["--frameworks", "mygrad,jax"]).frameworks == ["mygrad", "jax"]
    assert parse_args([]).frameworks is None
    for bad in (["--frameworks", "tensorflow"], ["--frameworks", "torch", "--no-frameworks"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


# Only the frameworks that import in a fraction of a second: the point is where they are
# imported, not their figures. PyTorch and JAX go the same way (mlp_step.run).
CHEAP_FRAMEWORKS = ("mygrad", "autograd")
ALL_FRAMEWORK_MODULES = ("torch", "jax", "jaxlib", "mygrad", "autograd")


def test_main_process_never_imports_the_frameworks(tmp_path: Path) -> None:
    """The MLP step with frameworks enabled: they are timed in a subprocess of their own,
    and none of them is ever imported into the process that times tensorgrad."""
    argv = ["--tiny", "--only", "mlp_step", "--dtype", "float32", "--no-plot",
            "--frameworks", ",".join(CHEAP_FRAMEWORKS), "--out", str(tmp_path)]
    script = (
        "import json, sys\n"
        "from benchmarks import run\n"
        f"rc = run.main({argv!r})\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {ALL_FRAMEWORK_MODULES!r})\n"
        "print(json.dumps({'rc': rc, 'loaded': loaded}))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                                     os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"rc": 0, "loaded": []}, out
    section = json.loads((tmp_path / "results.json").read_text())["benchmarks"]["mlp_step"]
    rows = section["results"]
    assert {r["contender"] for r in rows if r["process"] == "main"} >= {
        "numpy reference", "tensorgrad", "GEMM floor"}
    assert not {r["contender"] for r in rows if r["process"] == "main"} & {
        "mygrad", "hips autograd"}
    installed = [m for m in CHEAP_FRAMEWORKS if importlib.util.find_spec(m) is not None]
    md = (tmp_path / "results.md").read_text()
    if not installed:
        assert section["frameworks_process"] is None
        assert any(n.startswith("mygrad skipped: not installed") for n in section["notes"])
        return
    fw = [r for r in rows if r["process"] == "frameworks"]
    # The reference is timed again beside the frameworks, and their ratios are to it.
    for batch in (1, 32):
        ref = next(r for r in fw if r["contender"] == "numpy reference" and r["batch"] == batch)
        assert ref["ratio_vs_reference"] == 1.0
        others = [r for r in fw if r["batch"] == batch
                  and r["contender"] not in ("numpy reference", "GEMM floor")]
        assert others
        for r in others:
            assert r["ratio_vs_reference"] == pytest.approx(r["median"] / ref["median"])
            assert r["agrees_with_reference"] is True, r
    assert "numpy reference †" in md and "GEMM floor †" in md
    assert sorted(section["frameworks_process"]["ran"]) == sorted(
        {"mygrad": "mygrad", "autograd": "hips autograd"}[m] for m in installed)


def test_frameworks_python_option_checks_the_interpreter() -> None:
    assert parse_args([]).frameworks_python is None
    assert parse_args(["--frameworks-python", sys.executable]).frameworks_python == \
        os.path.abspath(sys.executable)
    for bad in (["--frameworks-python", "/no/such/python"],
                ["--frameworks-python", sys.executable, "--no-frameworks"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


@pytest.mark.skipif(os.name == "nt", reason="the stand-in interpreter is a shell script")
def test_frameworks_run_in_the_given_interpreter_and_a_missing_one_is_noted(
        tmp_path: Path) -> None:
    """--frameworks-python: the worker is started by that interpreter, in this checkout with
    it on PYTHONPATH, and a framework it cannot import is a note and a target not judged."""
    # A package named jax that fails to import, so the framework is missing whatever is
    # installed here; the stand-in interpreter logs how it was started, then runs Python.
    (tmp_path / "block" / "jax").mkdir(parents=True)
    (tmp_path / "block" / "jax" / "__init__.py").write_text(
        "raise ImportError('jax is blocked in this test')\n")
    log_file = tmp_path / "started.txt"
    fake = tmp_path / "fake-python"
    fake.write_text(f'#!/bin/sh\necho "$PWD" > "{log_file}"\necho "$PYTHONPATH" >> "{log_file}"\n'
                    f'echo "$@" >> "{log_file}"\n'
                    f'PYTHONPATH="{tmp_path / "block"}:$PYTHONPATH" exec "{sys.executable}" "$@"\n')
    fake.chmod(0o755)
    section = mlp_step.run(common.MODES["tiny"], ["float32"], batches=(1,),
                           framework_modules=["jax"],
                           frameworks_python=str(fake))
    cwd, pythonpath, args = log_file.read_text().splitlines()
    assert Path(cwd) == ROOT and str(ROOT) in pythonpath.split(os.pathsep)
    assert args.startswith("-m benchmarks.frameworks_worker") and "--modules jax" in args
    assert any(n.startswith("jax (jit) skipped: `import jax` failed in") and "blocked" in n
               for n in section.notes), section.notes
    assert {r["process"] for r in section.data["results"]} == {"main"}
    assert section.data["frameworks_process"]["ran"] == []
    versus = [t for t in section.targets if "JAX jit" in t.name]
    assert [(t.name, t.met) for t in versus] == [("MLP step, compiled ahead of JAX jit", None)]
    # The digits training goes the same way (its own worker run), with a note, no target.
    log_file.unlink()
    trained = training.run(common.MODES["tiny"], ["float32"], frameworks=True,
                           framework_modules=["jax"], frameworks_python=str(fake))
    assert "--benchmark training" in log_file.read_text()
    assert any(n.startswith("jax (jit) skipped: `import jax` failed in") for n in trained.notes)
    assert {r["process"] for r in trained.data["results"]} == {"main"}
    assert not [t for t in trained.targets if "JAX jit" in t.name] and not trained.summary


def test_compiled_and_jax_jit_side_by_side() -> None:
    def row(contender: str, process: str, batch: int, rel: float) -> dict:
        return {"dtype": "float32", "batch": batch, "contender": contender, "process": process,
                "median": rel * 1e-3, "min": rel * 1e-3, "max": rel * 1e-3, "number": 1,
                "repeat": 3, "ratio_vs_reference": rel, "ratio_vs_floor": 2.0,
                "agrees_with_reference": True}

    rows = [row("tensorgrad.compile", "main", 1, 0.5), row("jax (jit)", "frameworks", 1, 0.9),
            row("tensorgrad.compile", "main", 32, 1.0), row("jax (jit)", "frameworks", 32, 0.8),
            # a compiled row from the frameworks' process never judges (nor a JAX row here)
            row("tensorgrad.compile", "frameworks", 256, 0.1),
            row("jax (jit)", "main", 256, 9.0)]
    targets, table, lines = mlp_step._versus_jax(rows, [1, 32, 256], jax_wanted=True)
    assert [(t.name, t.met, t.value) for t in targets] == [
        ("MLP step, batch 1, compiled ahead of JAX jit", True,
         "tg.compile 0.50x vs JAX jit 0.90x reference"),
        ("MLP step, batch 32, compiled ahead of JAX jit", False,
         "tg.compile 1.00x vs JAX jit 0.80x reference")]
    assert "| 1 | 500 us (500 us .. 500 us)<br>0.50x ref |" in table and "NOT ahead" in table
    assert lines[1].split() == ["batch", "1:", "tg.compile", "0.50x", "JAX", "jit", "0.90x",
                                "ahead"]
    assert mlp_step._versus_jax(rows[2:3], [32], jax_wanted=False) == ([], "", [])
    assert mlp_step._versus_jax(rows[3:4], [32], jax_wanted=True) == ([], "", [])


def test_training_compiled_and_jax_jit_side_by_side() -> None:
    def row(contender: str, process: str, rel: float) -> dict:
        return {"dtype": "float32", "contender": contender, "process": process,
                "ratio_vs_reference": rel}

    rows = [row("tensorgrad.compile", "main", 0.7), row("jax (jit)", "frameworks", 0.6)]
    (target,), (line,) = training._versus_jax(rows)
    assert target.met is False and target.value == "tg.compile 0.70x vs JAX jit 0.60x reference"
    assert line.endswith("NOT ahead")
    assert training._versus_jax(rows[:1]) == ([], [])
    rows[1]["process"] = "main"  # a JAX row of this process never judges
    assert training._versus_jax(rows) == ([], [])


def test_framework_cpus_hold_xla_to_the_thread_count() -> None:
    from benchmarks.frameworks import framework_cpus, framework_threads_how, usable_cpus

    mine = usable_cpus()
    n = len(mine)
    assert framework_cpus(n) is None and framework_cpus(n + 3) is None
    assert framework_threads_how(n, None, n) == f"XLA's default pool, one thread per CPU ({n})"
    if n > 1 and hasattr(os, "sched_setaffinity"):
        assert framework_cpus(1) == mine[:1]
        assert f"confined to CPU {mine[0]} of {n}" in framework_threads_how(1, mine[:1], n)


def test_a_failing_frameworks_process_keeps_the_main_figures(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the frameworks' process exited with 1")

    monkeypatch.setattr(mlp_step, "frameworks_in_subprocess", crash)
    monkeypatch.setattr(mlp_step.importlib.util, "find_spec", lambda name: object())
    mode = common.Mode("t", repeat=2, block_time=0.0, warmup=1)
    section = mlp_step.run(mode, ["float32"], batches=(1,), framework_modules=["mygrad"])
    assert {r["process"] for r in section.data["results"]} == {"main"}
    assert any("failed in their own process" in n for n in section.notes)
    assert section.data["frameworks_process"] is None


def test_targets_and_tables_keep_the_processes_apart() -> None:
    def row(contender: str, process: str, median: float, rel: float) -> dict:
        return {"dtype": "float32", "batch": 32, "contender": contender, "process": process,
                "median": median, "min": median, "max": median, "number": 1, "repeat": 3,
                "ratio_vs_reference": rel, "ratio_vs_floor": 2.0,
                "agrees_with_reference": True}

    rows = [row("numpy reference", "main", 1.0, 1.0), row("tensorgrad", "main", 1.1, 1.1),
            row("pytorch (eager)", "frameworks", 0.5, 0.4),
            row("numpy reference", "frameworks", 1.25, 1.0),
            # a tensorgrad row from another process must never judge a target
            row("tensorgrad", "frameworks", 9.0, 9.0)]
    (target,) = mlp_step._targets(rows, ["float32"], [32])
    assert target.met is True and target.value == "float32 1.10x"
    md = mlp_step._markdown(rows, ["float32"], [32])
    lines = [line for line in md.splitlines() if line.startswith("| ")][1:]
    assert [line.split(" | ")[0] for line in lines] == [
        "| numpy reference", "| tensorgrad", "| numpy reference †", "| pytorch (eager) †",
        "| tensorgrad †"]


def test_agreement_catches_a_wrong_update() -> None:
    from tensorgrad.reference import init_params

    params = init_params((5, 4, 3), seed=1, dtype=np.float64)
    X = np.random.default_rng(0).standard_normal((6, 5))
    y = np.array([0, 1, 2, 0, 1, 2])
    ref = contenders.ReferenceContender(params, 0.1)
    ref.step(X, y)
    tg_c = contenders.TensorgradContender(params, 0.1)
    tg_c.step(*tg_c.prepare(X, y))
    assert contenders.agreement(tg_c, ref, params) < contenders.AGREE_TOL["float64"]
    wrong = contenders.TensorgradContender(params, 0.2)  # twice the step
    wrong.step(*wrong.prepare(X, y))
    assert contenders.agreement(wrong, ref, params) > 0.5


def test_leak_check_detects_a_kept_graph() -> None:
    class Leaky(contenders.TensorgradContender):
        kept: list = []

        def step(self, x, y):  # type: ignore[no-untyped-def]
            loss = self.tg.ops.cross_entropy(self._logits(x), y)
            loss.backward(retain_graph=True)
            self.kept.append(loss)  # keeps every step's graph alive

    counts = memory.leak_check(Leaky, np.dtype(np.float32), 5)
    assert counts["after"] > counts["before"]
    Leaky.kept.clear()


def test_gemm_floor_picks_an_outer_product_at_batch_1() -> None:
    floor = mlp_step.GemmFloor((6, 5, 4, 3), 1, np.dtype(np.float64))
    choice = floor.choose_outer(common.Mode("t", repeat=2, block_time=0.0, warmup=1))
    assert set(choice) == {"dW1", "dW2", "dW3"}
    floor.step()
    a, g = floor.A[0], floor.dZ[0]
    np.testing.assert_allclose(floor.dW[0], a.T @ g)  # whichever way, the same product


def test_chart_message_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    msg = report.chart([], tmp_path / "x.png")
    assert "matplotlib is not installed" in msg
    assert not (tmp_path / "x.png").exists()


# "jax (eager)" runs the same function as "jax (jit)", only not compiled as a whole; it is
# left out because eager JAX compiles every primitive on first use (seconds).
@pytest.mark.parametrize("adapter", ["pytorch (eager)", "mygrad", "hips autograd", "jax (jit)"])
def test_optional_framework_matches_the_reference(adapter: str) -> None:
    from benchmarks import frameworks

    entry: Any = {a.name: (a, m) for a, m in frameworks.OPTIONAL}[adapter]
    pytest.importorskip(entry[1])
    from tensorgrad.reference import init_params

    for dtype in (np.float32, np.float64):
        params = init_params((7, 5, 3), seed=2, dtype=dtype)
        X = np.random.default_rng(1).standard_normal((4, 7)).astype(dtype)
        y = np.array([0, 2, 1, 2])
        ref = contenders.ReferenceContender(params, 0.1)
        ref.step(X, y)
        c = entry[0](params, 0.1)
        c.step(*c.prepare(X, y))
        err = contenders.agreement(c, ref, params)
        assert err < contenders.AGREE_TOL[np.dtype(dtype).name], (adapter, dtype, err)
        assert all(W.dtype == dtype for W, _ in c.params())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_hand_fused_floor_takes_the_reference_step(dtype: Any) -> None:
    from benchmarks.fused import FusedNumpyContender
    from tensorgrad.reference import init_params

    params = init_params((7, 5, 4, 3), seed=3, dtype=dtype)
    rng = np.random.default_rng(2)
    ref, fused = contenders.ReferenceContender(params, 0.1), FusedNumpyContender(params, 0.1)
    for n in (6, 6, 4):  # buffers reused, then a new batch size
        X, y = rng.standard_normal((n, 7)).astype(dtype), rng.integers(0, 3, n)
        ref.step(X, y)
        fused.step(*fused.prepare(X, y))
    assert contenders.agreement(fused, ref, params) < contenders.AGREE_TOL[np.dtype(dtype).name]
    np.testing.assert_array_equal(fused.predict(X), ref.predict(X))
