"""Writes the results: ``results.json`` (everything measured), ``results.md`` (the tables,
targets first) and ``results.png`` (a chart, when matplotlib is installed)."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional

from .common import Section, md_table


def _status(met: Optional[bool]) -> str:
    return {True: "met", False: "NOT met", None: "not judged"}[met]


def targets_table(sections: List[Section]) -> str:
    rows = [[t.name, t.goal, t.value, _status(t.met) + (f" ({t.note})" if t.note else "")]
            for s in sections for t in s.targets]
    return md_table(["target (from the issue)", "goal", "measured", "status"], rows)


def markdown(sections: List[Section], meta: Dict[str, Any]) -> str:
    blas = meta["environment"]["blas"]
    libs = blas.get("libraries") or [blas]
    blas_line = "; ".join(
        f"{lib.get('internal_api') or lib.get('name')} {lib.get('version') or ''} "
        f"({lib.get('num_threads', '?')} threads)" for lib in libs)
    env = meta["environment"]
    lines = [
        f"# tensorgrad benchmarks ({meta['mode']} mode)",
        "",
        f"{meta['started']}; Python {env['python']}, numpy {env['numpy']}; {env['cpu']} "
        f"({env['cpu_count']} CPUs); BLAS: {blas_line}; threads for every contender: "
        f"{env['threads']} ({meta['threads_how']}); environment: {env['env'] or 'none set'}; "
        f"commit {env['git_commit']}; total {meta['seconds']:.1f} s.",
        "",
        "Every time is the median over repeated timed blocks after warm-up (min .. max in "
        "brackets); every ratio compares medians measured in the same run, with the "
        "contenders' blocks interleaved.",
        "",
        _load_line(meta),
        "",
        "## Targets",
        "",
        targets_table(sections),
    ]
    for s in sections:
        lines += ["", f"## {s.title}", "", s.markdown]
        if s.notes:
            lines += [""] + [f"- {n}" for n in s.notes]
    chart_msg = str(meta.get("chart", ""))
    if chart_msg.startswith("chart written"):
        # Named, not linked: the docs site embeds this file, where a relative link breaks.
        lines += ["", "Chart: `results.png` next to this file (MLP step time by batch size, "
                      "and each target's measured value over its goal)."]
    elif chart_msg:
        lines += ["", chart_msg + "."]
    return "\n".join(lines) + "\n"


def summary(sections: List[Section], meta: Dict[str, Any], out: str) -> str:
    """A short plain-text report for the terminal: the targets not met (and not judged) with
    their goal and measured value, the names of those met, and where the rest is."""
    rows = [(t.name, t.goal, t.value, _status(t.met)) for s in sections for t in s.targets]
    widths = (36, 24, 50)  # about 115 columns; longer cells wrap onto extra lines
    met = [r[0] for r in rows if r[3] == "met"]
    lines = [f"tensorgrad benchmarks, {meta['mode']} mode: {meta['seconds']:.0f} s; "
             f"{len(met)} of {len(rows)} targets met."]
    for status, title in (("NOT met", "Not met"), ("not judged", "Not judged")):
        group = [r for r in rows if r[3] == status]
        if group:
            lines += ["", f"{title} ({len(group)}):"]
            lines += _row(("target", "goal", "measured"), widths)
            for r in group:
                lines += _row(r[:3], widths)
    if met:
        lines += ["", f"Met ({len(met)}):"]
        lines += textwrap.wrap("; ".join(met), 112, initial_indent="  ", subsequent_indent="  ")
    for s in sections:
        if s.summary:
            lines += [""] + s.summary
    failed = [s.name for s in sections if s.title.endswith("FAILED")]
    if failed:
        lines += ["", f"FAILED: {', '.join(failed)} (traceback above)"]
    share = meta.get("other_programs_cpu_share")
    if share is not None and share > 0.1:
        lines += ["", f"Other programs used {share:.0%} of the CPU meanwhile: times are "
                      "inflated and noisy."]
    lines += ["", f"Every target with its goal and value, and the tables: {out}/results.md",
              f"Chart: {out}/results.png; data: {out}/results.json"]
    return "\n".join(lines)


def _row(cells: Any, widths: Any) -> List[str]:
    wrapped = [textwrap.wrap(" ".join(str(c).replace("<br>", " ").split()), w) or [""]
               for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    return ["  ".join(f"{(w[i] if i < len(w) else ''):<{width}}"
                      for w, width in zip(wrapped, widths)).rstrip() for i in range(height)]


def _load_line(meta: Dict[str, Any]) -> str:
    share = meta.get("other_programs_cpu_share")
    load = meta.get("load_average_before")
    text = (f"Other programs used {share:.0%} of the machine's CPU time during the run"
            if share is not None else "CPU use by other programs unknown")
    if load:
        text += f"; load average before it: {load[0]:.2f}"
    if share is not None and share > 0.1:
        return text + (". **The machine was shared: times are inflated and noisy, above all "
                       "with multi-threaded BLAS; ratios of interleaved contenders hold up "
                       "better.**")
    return text + "."


def jsonable(x: Any) -> Any:
    """``x`` with numpy scalars made Python numbers and non-finite floats made None."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        return x.item()
    return x


def write(sections: List[Section], meta: Dict[str, Any], out: Path, plot: bool = True) -> str:
    """Write the three files into ``out``; returns a message about the chart."""
    out.mkdir(parents=True, exist_ok=True)
    meta["chart"] = chart(sections, out / "results.png") if plot else "chart skipped (--no-plot)"
    doc = {"meta": meta,
           "targets": [t.to_dict() for s in sections for t in s.targets],
           "benchmarks": {s.name: s.to_dict() for s in sections}}
    (out / "results.json").write_text(json.dumps(jsonable(doc), indent=1) + "\n")
    (out / "results.md").write_text(markdown(sections, meta))
    return str(meta["chart"])


def chart(sections: List[Section], path: Path) -> str:
    """MLP step time against batch size per contender (one panel per dtype), and each
    target's measured value over its goal (below 1 is met)."""
    try:
        import matplotlib
    except ImportError:
        return ("chart skipped: matplotlib is not installed "
                "(pip install matplotlib, or pip install -e '.[bench]')")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .mlp_step import FLOOR, FW_PROCESS, REF, label

    by_name = {s.name: s for s in sections}
    mlp = by_name.get("mlp_step")
    dtypes = mlp.data["config"]["dtypes"] if mlp else []
    ratios = [(t.name, t.score) for s in sections for t in s.targets if t.score is not None]
    panels = len(dtypes) + (1 if ratios else 0)
    if panels == 0:
        return "chart skipped: nothing to plot"
    widths = [1.0] * len(dtypes) + ([1.4] if ratios else [])  # room for the target names
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5), squeeze=False,
                             gridspec_kw={"width_ratios": widths})
    for ax, dtype in zip(axes[0], dtypes):
        assert mlp is not None
        # The reference and floor re-timed beside the frameworks would only double lines.
        rows = [r for r in mlp.data["results"] if r["dtype"] == dtype and not (
            r.get("process") == FW_PROCESS and r["contender"] in (REF, FLOOR))]
        for name in dict.fromkeys(label(r) for r in rows):
            pts = sorted((r["batch"], r["median"], r["min"], r["max"]) for r in rows
                         if label(r) == name)
            b = [p[0] for p in pts]
            med = [p[1] * 1e3 for p in pts]
            err = [[(p[1] - p[2]) * 1e3 for p in pts], [(p[3] - p[1]) * 1e3 for p in pts]]
            ax.errorbar(b, med, yerr=err, marker="o", capsize=3, label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel("ms per training step (median, min..max)")
        ax.set_title(f"MLP 784-256-128-10 step, {dtype}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    if ratios:
        ax = axes[0][-1]
        names = [n for n, _ in ratios]
        vals = [v for _, v in ratios]
        ax.barh(range(len(vals)), vals, color=["tab:green" if v <= 1 else "tab:red"
                                               for v in vals])
        ax.axvline(1.0, color="black", lw=1)
        ax.set_yticks(range(len(vals)))
        # Wrapped so that long target names stay inside the figure.
        ax.set_yticklabels([textwrap.fill(n, 34) for n in names], fontsize=6)
        ax.invert_yaxis()
        ax.set_xlabel("measured / goal (<= 1 is met)")
        ax.set_title("targets")
    fig.tight_layout()
    # bbox_inches="tight" grows the canvas to whatever the labels need: nothing is clipped.
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"chart written to {path}"
