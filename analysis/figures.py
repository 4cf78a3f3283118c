#!/usr/bin/python3
"""The paper's figures, drawn from a result directory alone.

    figures.py RESULTS [more dirs] [--out DIR] [--baseline mimalloc] [--only fig1_throughput_ratio,...]

writes PNG and PDF files under RESULTS/figures/ (or --out):

  fig1_throughput_ratio   throughput / baseline per workload, one panel per thread count
  fig2_scaling            throughput (or ns/op) against threads, one panel per workload
  fig3_rss_ratio          peak RSS / baseline per workload, one panel per thread count
  fig4_hakmem_phases      hakmem's per-phase cycle shares (timing statistics)
  fig5_latency            p50, p99, p99.9 latency per allocator, one panel per workload
  fig6_learner            hakmem's learner over time (learner trace)

A figure whose data is absent is skipped with one line saying why; the
others are still drawn. A cell whose runs all failed is marked "x failed"
where its bar would be. Whiskers are 95 % percentile-bootstrap intervals
(stats.py). Colours are fixed per allocator (plotstyle.py); every figure
carries the result directory's identity (suite, date, git revision).
"""
from __future__ import annotations

import argparse
import math
import numbers
import re
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import EngFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

import plotstyle  # noqa: E402
import results  # noqa: E402
import stats  # noqa: E402
import table  # noqa: E402

PHASE_COLUMN = re.compile(r"^hakmem\.timing\.phases\.(?P<phase>[^.]+)\.(?P<field>cycles|share)$")
# The timing contract's phase order (allocators/hakmem/src/profile/timing.h).
PHASE_ORDER = ["hak_alloc", "hak_free", "tiny_refill", "mid_refill", "l25_refill", "large_alloc",
               "syscall_mmap", "syscall_munmap", "syscall_populate", "whale_get", "whale_put",
               "learn_tick"]
PERCENTILES = ["p50", "p99", "p99.9"]
LEARN_STATES = ["LEARN", "CANARY", "FROZEN"]


class Context:
    """What every figure function gets: the runs, the cells, the baseline, the caption."""

    def __init__(self, rs: results.ResultSet, baseline: str = "mimalloc"):
        self.rs = rs
        self.runs = rs.runs
        self.baseline = baseline
        self.cells = table.summarise(rs.runs, baseline)
        self.caption = rs.identity()

    def labels(self, frame: pd.DataFrame) -> list[str]:
        """Labels present in frame, in the table's order."""
        return sorted(frame["label"].unique(), key=lambda lbl: table.label_sort_key(lbl, self.baseline))


FigureResult = Figure | str  # a figure, or the reason it was skipped


def metric_label(metric: str) -> str:
    return "latency (ns/op, lower is better)" if metric == "ns_per_op" else "throughput (ops/s)"


def _grouped_bars(ax, groups: list[str], labels: list[str], height: Callable, whisker: Callable,
                  failed: Callable = lambda g, lbl: False) -> None:
    """Bars for each group (x) and label (one bar per label, fixed colour).
    height(group, label) -> value or NaN; whisker(...) -> (lo, hi) or NaN;
    failed(...) -> True marks the slot of a cell whose runs all failed."""
    width = 0.8 / max(1, len(labels))
    for j, label in enumerate(labels):
        xs = np.arange(len(groups)) + (j - (len(labels) - 1) / 2) * width
        hs = np.array([height(g, label) for g in groups], dtype=float)
        lohi = np.array([whisker(g, label) for g in groups], dtype=float).reshape(len(groups), 2)
        err = np.vstack([hs - lohi[:, 0], lohi[:, 1] - hs])
        has_err = np.isfinite(err).any()
        err = np.where(np.isfinite(err), np.clip(err, 0, None), 0)
        ax.bar(xs, np.nan_to_num(hs), width, yerr=err if has_err else None, capsize=2,
               error_kw={"elinewidth": 0.8}, **plotstyle.bar_style(label))
        for x, g in zip(xs, groups):
            if failed(g, label):
                ax.plot([x], [0], marker="x", color="black", markersize=6, clip_on=False)
                ax.annotate("failed", (x, 0), xytext=(0, 5), textcoords="offset points", rotation=90,
                            ha="center", va="bottom", fontsize=6)
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels(groups, rotation=30, ha="right", fontsize=8)


def _ratio_figure(ctx: Context, col: str, lo: str, hi: str, what: str, better: str) -> FigureResult:
    """Figures 1 and 3: a ratio column per workload, one panel per thread count."""
    base = ctx.cells[(ctx.cells["label"] == ctx.baseline) & (ctx.cells["n_ok"] > 0)]
    if base.empty:
        return f"no ok {ctx.baseline} runs to normalise to (use --baseline to pick another allocator)"
    cells = ctx.cells.merge(base[["workload", "threads"]], on=["workload", "threads"])
    others = cells[cells["label"] != ctx.baseline]
    if others[col].notna().sum() == 0:
        return f"no cell has {what} data for both {ctx.baseline} and another allocator"
    threads = sorted(others["threads"].unique())
    labels = ctx.labels(others)
    fig, axes = plotstyle.new_figure(len(threads), 1, panel_w=max(6.0, 0.9 * others["workload"].nunique() + 2))
    for ax, t in zip(axes, threads):
        sub = others[others["threads"] == t].set_index(["workload", "label"])
        groups = sorted(sub.index.get_level_values(0).unique())

        def get(g, lbl, c):
            return sub.at[(g, lbl), c] if (g, lbl) in sub.index else math.nan

        _grouped_bars(ax, groups, labels, lambda g, lbl: get(g, lbl, col),
                      lambda g, lbl: (get(g, lbl, lo), get(g, lbl, hi)), lambda g, lbl: get(g, lbl, "n_ok") == 0)
        ax.axhline(1.0, color=plotstyle.colour(ctx.baseline), linewidth=1, linestyle="--")
        ax.set_xlabel("workload", fontsize=8)
        ax.set_ylabel(f"{what} / {ctx.baseline}'s\n({better})", fontsize=9)
        ax.set_title(f"{t} thread{'s' if t != 1 else ''}", fontsize=10)
    title = f"{what[:1].upper() + what[1:]} relative to {ctx.baseline} (dashed line = {ctx.baseline}; whiskers: 95% bootstrap CI of the ratio)"
    return plotstyle.finish(fig, title, ctx.caption, labels)


def fig_throughput_ratio(ctx: Context) -> FigureResult:
    return _ratio_figure(ctx, "speed_ratio", "speed_lo", "speed_hi", "throughput",
                         ">1 = faster; ns/op workloads inverted")


def fig_rss_ratio(ctx: Context) -> FigureResult:
    if ctx.runs["rss_kb"].notna().sum() == 0:
        return "no run records its peak RSS (max_rss_kb or metric.rss_peak_kb)"
    return _ratio_figure(ctx, "rss_ratio", "rss_lo_ratio", "rss_hi_ratio", "peak RSS", "<1 = leaner")


def fig_scaling(ctx: Context) -> FigureResult:
    ok = ctx.cells[ctx.cells["n_ok"] > 0]
    counts = sorted(ok["threads"].unique())
    if len(counts) < 2:
        return f"one thread count only ({', '.join(map(str, counts)) or 'none'}); run with THREADS=1,2,4 for scaling"
    workloads = sorted(ok["workload"].unique())
    labels = ctx.labels(ok)
    fig, axes = plotstyle.new_figure(len(workloads), 3)
    for ax, w in zip(axes, workloads):
        sub = ok[ok["workload"] == w]
        for lbl in labels:
            s = sub[sub["label"] == lbl].sort_values("threads")
            if s.empty:
                continue
            err = np.vstack([s["median"] - s["ci_lo"], s["ci_hi"] - s["median"]])
            err = np.where(np.isfinite(err), np.clip(err, 0, None), 0)
            ax.errorbar(s["threads"], s["median"], yerr=err, color=plotstyle.colour(lbl), marker="o",
                        markersize=3, linewidth=1.2, capsize=2, linestyle=plotstyle.linestyle(lbl))
        ax.set_xticks(counts)
        ax.set_xlabel("threads")
        ax.set_ylabel(metric_label(sub["metric"].iloc[0]), fontsize=8)
        ax.yaxis.set_major_formatter(EngFormatter())
        ax.set_title(w, fontsize=10)
        ax.set_ylim(bottom=0)
    return plotstyle.finish(fig, "Thread scaling (median, whiskers: 95% bootstrap CI)", ctx.caption, labels)


def phase_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (workload, threads, label) with timing statistics: the median
    share (%) of profiled cycles per phase (columns = phases). Uses
    hakmem.timing.phases.<phase>.cycles, else .share."""
    cols = {m.group("phase"): c for c in runs.columns if (m := PHASE_COLUMN.match(c)) and m.group("field") == "cycles"}
    if not cols:
        cols = {m.group("phase"): c for c in runs.columns if (m := PHASE_COLUMN.match(c))}
    if not cols:
        return pd.DataFrame()
    data = runs[["workload", "threads", "label"]].copy()
    for phase, c in cols.items():
        data[phase] = pd.to_numeric(runs[c], errors="coerce")
    phases = list(cols)
    data = data.dropna(subset=phases, how="all")
    if data.empty:
        return pd.DataFrame()
    data[phases] = data[phases].fillna(0)
    total = data[phases].sum(axis=1).replace(0, np.nan)
    data[phases] = data[phases].div(total, axis=0) * 100
    order = sorted(phases, key=lambda p: (PHASE_ORDER.index(p) if p in PHASE_ORDER else len(PHASE_ORDER), p))
    return data.groupby(["workload", "threads", "label"])[order].median()


def fig_hakmem_phases(ctx: Context) -> FigureResult:
    shares = phase_table(ctx.runs)
    if shares.empty:
        return ("no run carries hakmem timing statistics (hakmem_stats.timing.phases); "
                "run the timing variant (VARIANTS=timing)")
    several_labels = shares.index.get_level_values("label").nunique() > 1
    names = [f"{w}\n{t}T" + (f" {lbl}" if several_labels else "") for w, t, lbl in shares.index]
    fig, (ax,) = plotstyle.new_figure(1, 1, panel_w=max(6.0, 0.8 * len(names) + 2), panel_h=4.0)
    bottom = np.zeros(len(shares))
    cmap = plotstyle.plt.get_cmap("tab20")
    for phase in shares.columns:
        k = PHASE_ORDER.index(phase) if phase in PHASE_ORDER else len(PHASE_ORDER) + list(shares.columns).index(phase)
        ax.bar(names, shares[phase].to_numpy(), 0.7, bottom=bottom, label=phase, color=cmap(k % 20))
        bottom += shares[phase].to_numpy()
    ax.set_ylabel("share of profiled cycles (%)")
    ax.set_xlabel("workload, threads", fontsize=8)
    ax.set_ylim(0, 100)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="phase")
    return plotstyle.finish(fig, "hakmem: per-phase cycle breakdown (median share over repetitions)", ctx.caption)


def fig_latency(ctx: Context) -> FigureResult:
    cols = [f"lat.{p}" for p in PERCENTILES]
    present = [c for c in cols if c in ctx.runs.columns]
    if not present:
        return "no run reports latency percentiles (latency_ns p50, p99, p99.9)"
    runs = ctx.runs[ctx.runs["ok"]].copy()
    for c in present:
        runs[c] = pd.to_numeric(runs[c], errors="coerce")
    runs = runs.dropna(subset=present, how="all")
    if runs.empty:
        return "no ok run reports latency percentiles (latency_ns p50, p99, p99.9)"
    med = runs.groupby(["workload", "threads", "label"])[present].median()
    panels = sorted({(w, t) for w, t, _ in med.index})
    labels = ctx.labels(runs)
    groups = [c.removeprefix("lat.") for c in present]
    fig, axes = plotstyle.new_figure(len(panels), 4, panel_w=3.6, panel_h=2.8)
    for ax, (w, t) in zip(axes, panels):
        sub = med.loc[(w, t)]

        def height(g, lbl):
            return sub.at[lbl, f"lat.{g}"] if lbl in sub.index else math.nan

        _grouped_bars(ax, groups, labels, height, lambda g, lbl: (math.nan, math.nan))
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(EngFormatter(sep=""))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("latency (ns, log scale)", fontsize=8)
        ax.set_xlabel("percentile", fontsize=8)
        ax.set_title(f"{w}, {t}T", fontsize=9)
    return plotstyle.finish(fig, "Per-operation latency percentiles (median over repetitions)", ctx.caption, labels)


def fmt_strategy(value) -> str:
    """A strategy as hakmem traces it (a large threshold in bytes), readable."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= size:
            return f"{v / size:g} {unit}"
    return f"{v:g}"


def _categories(values: pd.Series, first: list[str]) -> list:
    """Distinct values in display order: `first` (those present or not), then numbers ascending, then text."""
    rest = [v for v in pd.unique(values) if v not in first]
    nums = sorted(v for v in rest if isinstance(v, numbers.Real))
    return first + nums + sorted(str(v) for v in rest if not isinstance(v, numbers.Real))


def _panel_axes(ax, data: pd.DataFrame, field: str, ylabel: str) -> bool:
    """Label a learner panel's axes; True (and a note) when it has no data."""
    ax.set_xlabel("time since start (s)", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    if not data.empty:
        return False
    ax.text(0.5, 0.5, f"no '{field}' in the trace", ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_yticks([])
    return True


def _learn_panel(ax, trace: pd.DataFrame, field: str, ylabel: str, categories: list[str] | None = None,
                 fmt: Callable = str) -> None:
    """One learner panel: `field` over t as a step line held to the trace's
    end. Numbers (categories None) get one line per class when the trace has
    classes; with `categories` the values are drawn as labelled levels."""
    data = trace.dropna(subset=[field]) if field in trace.columns else pd.DataFrame()
    if _panel_axes(ax, data, field, ylabel):
        return
    t_end = float(trace["t"].max())
    if categories is not None:
        levels = _categories(data[field], categories)
        ys = [levels.index(v if v in levels else str(v)) for v in data[field]]
        ax.step(list(data["t"]) + [t_end], ys + ys[-1:], where="post", color="black")
        ax.set_yticks(range(len(levels)))
        ax.set_yticklabels([fmt(v) for v in levels], fontsize=7)
        return
    by_class = "class" in data.columns and data["class"].notna().any()
    for cls, g in data.groupby("class") if by_class else [(None, data)]:
        ys = list(pd.to_numeric(g[field], errors="coerce"))
        name = None if cls is None else f"class {int(cls) if float(cls).is_integer() else cls}"
        ax.step(list(g["t"]) + [t_end], ys + ys[-1:], where="post", label=name, linewidth=1,
                color="black" if cls is None else None)
    if by_class:
        ax.legend(fontsize=6, frameon=False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=field != "hit_rate"))


def _per_strategy(trace: pd.DataFrame, field: str) -> pd.DataFrame:
    """The window lines' `field` (an object keyed by threshold bytes, as
    "elo" and "cost_ns" are) as one column per strategy over t; a cost of 0
    (that strategy has not played yet) is left out."""
    if field not in trace.columns or "event" not in trace.columns:
        return pd.DataFrame()
    rows = trace[(trace["event"] == "window") & trace[field].map(lambda v: isinstance(v, dict))]
    data = pd.DataFrame([{int(k): float(v) for k, v in d.items()} for d in rows[field]], index=rows["t"])
    return data.replace(0.0, np.nan).sort_index(axis=1) if not data.empty else data


def _strategy_panel(ax, trace: pd.DataFrame, field: str, ylabel: str) -> None:
    """One line per strategy of a per-window object (`elo`, `cost_ns`)."""
    data = _per_strategy(trace, field)
    if _panel_axes(ax, data, field, ylabel):
        return
    for k, col in enumerate(data.columns):
        ax.plot(data.index, data[col], marker="o", markersize=2.5, linewidth=1, label=fmt_strategy(col),
                color=plotstyle.plt.get_cmap("viridis")(k / max(len(data.columns) - 1, 1)))
    ax.legend(fontsize=6, frameon=False, ncol=2, title="large threshold", title_fontsize=6)


def _trace_rank(trace: pd.DataFrame) -> tuple:
    """Which trace the learner figure shows: one that reached FROZEN, then
    the one with the most windows, then the longest."""
    frozen = bool((trace.get("state") == "FROZEN").any()) if "state" in trace.columns else False
    windows = int((trace["event"] == "window").sum()) if "event" in trace.columns else 0
    return (frozen, windows, len(trace))


def fig_learner(ctx: Context) -> FigureResult:
    traces = [(p, results.read_learn_trace(p)) for p in ctx.rs.learn_traces()]
    traces = [(p, t) for p, t in traces if not t.empty]
    if not traces:
        return ("no learner trace (learn_trace*.jsonl or logs/*learn*.jsonl) in the result directory; "
                "run a variant with HAKMEM_LEARN=1 that writes one")
    path, trace = max(traces, key=lambda pt: _trace_rank(pt[1]))
    fig, axes = plotstyle.new_figure(4, 2, panel_w=4.6, panel_h=2.8)
    _strategy_panel(axes[0], trace, "elo", "ELO rating per strategy")
    if trace["cap"].notna().any():  # the Mid learner moved CAPs: show them
        _learn_panel(axes[1], trace, "cap", "CAP (blocks cached per class)")
    else:
        _strategy_panel(axes[1], trace, "cost_ns", "measured cost (ns per weighted allocation)")
    _learn_panel(axes[2], trace, "strategy", "leading strategy (large threshold)", categories=[], fmt=fmt_strategy)
    _learn_panel(axes[3], trace, "state", "learner state", categories=LEARN_STATES)
    for ax in axes:  # one time axis for the four panels
        ax.set_xlim(min(0.0, float(trace["t"].min())), max(float(trace["t"].max()), 1e-3))
    return plotstyle.finish(fig, f"hakmem learner over time: {path.name}{_trace_choice(trace, len(traces))}",
                            ctx.caption)


def _trace_choice(trace: pd.DataFrame, n: int) -> str:
    """Why this trace of n was drawn, as _trace_rank chose it (it says
    "froze" only of a trace that did: none may have)."""
    if n <= 1:
        return ""
    why = "one that froze," if _trace_rank(trace)[0] else "none froze; the one"
    return f" (of {n} traces: {why} with the most windows)"


FIGURES: list[tuple[str, Callable[[Context], FigureResult]]] = [
    ("fig1_throughput_ratio", fig_throughput_ratio),
    ("fig2_scaling", fig_scaling),
    ("fig3_rss_ratio", fig_rss_ratio),
    ("fig4_hakmem_phases", fig_hakmem_phases),
    ("fig5_latency", fig_latency),
    ("fig6_learner", fig_learner),
]


def draw_all(ctx: Context, outdir: Path, only: list[str] | None = None) -> list[tuple[str, list[Path] | str]]:
    """Draw and save every figure (or those named in `only`); (name, written
    paths) or (name, reason skipped)."""
    done = []
    for name, draw in FIGURES:
        if only and name not in only:
            continue
        fig = draw(ctx)
        done.append((name, fig if isinstance(fig, str) else plotstyle.save(fig, outdir, name)))
    return done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="figures.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("paths", nargs="+", metavar="RESULTS", help="result directory (or its runs.jsonl / runs.csv)")
    p.add_argument("--out", type=Path, help="output directory (default: <first RESULTS>/figures)")
    p.add_argument("--baseline", default="mimalloc", help="allocator the ratios are against (default: mimalloc)")
    p.add_argument("--only", metavar="NAMES", help="comma-separated figure names to draw (default: all)")
    args = p.parse_args(argv)
    only = args.only.split(",") if args.only else None
    unknown = sorted(set(only or []) - {name for name, _ in FIGURES})
    if unknown:
        p.error(f"unknown figure {', '.join(unknown)}; the figures are {', '.join(n for n, _ in FIGURES)}")
    try:
        rs = results.load(args.paths)
    except results.ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    outdir = args.out or rs.dirs[0] / "figures"
    for name, what in draw_all(Context(rs, args.baseline), outdir, only):
        if isinstance(what, str):
            print(f"skipped {name}: {what}")
        else:
            print(f"wrote {', '.join(str(p) for p in what)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
