"""The results table: one row per workload x threads x allocator (label),
with medians, intervals, ratios to a baseline and their marks, plus the
summary below it (geometric means, wins and losses, failed runs).

`summarise` computes the numbers (a pandas frame, one row per cell);
`render` prints them as text, markdown or csv. The statistics themselves
live in stats.py.
"""
from __future__ import annotations

import math
from collections import Counter

import pandas as pd

import stats

CELL_KEYS = ["workload", "threads", "label"]
ALLOCATOR_ORDER = ["system", "mimalloc", "jemalloc", "tcmalloc", "hakmem"]
SUPPORTED, UNSUPPORTED = "*", "~"
FORMATS = ("text", "markdown", "csv")
# A cell whose runs of one allocator were preempted this differently (most
# involuntary context switches over fewest, the most at least
# PLACEMENT_MIN_SWITCHES) had its threads placed differently by the
# scheduler from run to run: on 2 cores, 4 producer/consumer threads run
# several times faster when each pair shares a core, for every allocator.
PLACEMENT_SPREAD = 4.0
PLACEMENT_MIN_SWITCHES = 10_000


def label_sort_key(label: str, baseline: str) -> tuple:
    """Baseline first, then the known allocators in a fixed order, each base
    before its variants, then anything else alphabetically."""
    base, _, variant = label.partition("+")
    rank = ALLOCATOR_ORDER.index(base) if base in ALLOCATOR_ORDER else len(ALLOCATOR_ORDER)
    return (label != baseline, rank, base, variant)


def failure_summary(statuses: pd.Series) -> str:
    """'2 crashed:SIGSEGV, 1 timeout' for the non-ok statuses."""
    counts = Counter(s for s in statuses if s != "ok")
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def _cell_stats(group: pd.DataFrame) -> dict:
    ok = group[group["ok"]]
    med, lo, hi = stats.median_ci(ok["value"].to_numpy())
    rss = ok["rss_kb"].dropna().to_numpy()
    rmed, rlo, rhi = stats.median_ci(rss)
    first = group.iloc[0]
    statuses = group["status"].where(group["ok"] | (group["status"] != "ok"), "ok (no value)")
    return {
        "allocator": first["allocator"],
        "variant": first["variant"],
        "metric": first["metric"],
        "n_runs": len(group),
        "n_ok": len(ok),
        "failures": failure_summary(statuses),
        "median": med,
        "ci_lo": lo,
        "ci_hi": hi,
        "rss_kb": rmed,
        "rss_lo": rlo,
        "rss_hi": rhi,
        "_values": ok["value"].to_numpy(),
        "_rss": rss,
    }


def _add_ratios(cells: pd.DataFrame, baseline: str) -> None:
    """Fill the ratio columns of each cell against the baseline of its
    workload and thread count (in place)."""
    for c in ("speed_ratio", "speed_lo", "speed_hi", "rss_ratio", "rss_lo_ratio", "rss_hi_ratio"):
        cells[c] = math.nan
    cells["speed_supported"] = False
    cells["rss_supported"] = False
    for (_, _), group in cells.groupby(["workload", "threads"], sort=False):
        base = group[group["label"] == baseline]
        if base.empty:
            continue
        b = base.iloc[0]
        for i, row in group.iterrows():
            higher = row["metric"] == "ops_per_sec"
            cells.at[i, "speed_ratio"] = stats.oriented_ratio(row["median"], b["median"], higher)
            cells.at[i, "speed_lo"], cells.at[i, "speed_hi"] = stats.ratio_ci(row["_values"], b["_values"], higher)
            cells.at[i, "speed_supported"] = row["label"] != baseline and not stats.intervals_overlap(
                row["ci_lo"], row["ci_hi"], b["ci_lo"], b["ci_hi"]
            )
            cells.at[i, "rss_ratio"] = stats.oriented_ratio(row["rss_kb"], b["rss_kb"], True)
            cells.at[i, "rss_lo_ratio"], cells.at[i, "rss_hi_ratio"] = stats.ratio_ci(row["_rss"], b["_rss"], True)
            cells.at[i, "rss_supported"] = row["label"] != baseline and not stats.intervals_overlap(
                row["rss_lo"], row["rss_hi"], b["rss_lo"], b["rss_hi"]
            )


def summarise(runs: pd.DataFrame, baseline: str = "mimalloc") -> pd.DataFrame:
    """One row per cell (workload, threads, label), sorted by workload,
    threads, then label (baseline first). Columns: allocator, variant,
    metric, n_runs, n_ok, failures, median, ci_lo, ci_hi, rss_kb, rss_lo,
    rss_hi, speed_ratio (+ speed_lo/hi: bootstrap interval of the ratio),
    speed_supported, rss_ratio (+ rss_lo_ratio/rss_hi_ratio), rss_supported,
    and, for internal use, _values and _rss (the ok repetitions).
    Cells whose runs all failed have NaN medians and ratios."""
    rows = []
    for key, group in runs.groupby(CELL_KEYS, sort=False):
        rows.append(dict(zip(CELL_KEYS, key), **_cell_stats(group)))
    cells = pd.DataFrame(rows)
    cells["_order"] = [label_sort_key(lbl, baseline) for lbl in cells["label"]]
    cells = cells.sort_values(["workload", "threads", "_order"], kind="stable").reset_index(drop=True)
    _add_ratios(cells, baseline)
    return cells.drop(columns="_order")


def allocator_summary(cells: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per label other than the baseline: geometric means of the speed and
    RSS ratios, wins and losses against the baseline (supported ones and all),
    and the number of cells compared."""
    rows = []
    others = cells[(cells["label"] != baseline) & cells["speed_ratio"].notna()]
    for label, g in sorted(others.groupby("label"), key=lambda kv: label_sort_key(kv[0], baseline)):
        sup = g[g["speed_supported"]]
        rows.append({
            "label": label,
            "cells": len(g),
            "geomean_speed": stats.geomean(g["speed_ratio"]),
            "geomean_rss": stats.geomean(g["rss_ratio"].dropna()),
            "wins": int((g["speed_ratio"] > 1).sum()),
            "losses": int((g["speed_ratio"] < 1).sum()),
            "wins_supported": int((sup["speed_ratio"] > 1).sum()),
            "losses_supported": int((sup["speed_ratio"] < 1).sum()),
        })
    return pd.DataFrame(rows, columns=["label", "cells", "geomean_speed", "geomean_rss", "wins", "losses",
                                       "wins_supported", "losses_supported"])


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------

def fmt_si(v: float) -> str:
    """3 significant digits with an SI suffix: 12.3M, 950k, 1.20G."""
    if not math.isfinite(v):
        return "-"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def fmt_value(v: float, metric: str) -> str:
    if not math.isfinite(v):
        return "-"
    if metric == "ns_per_op":
        return (f"{v:,.0f}" if v >= 100 else f"{v:.3g}") + " ns/op"
    return fmt_si(v) + " ops/s"


def fmt_interval(lo: float, hi: float, fmt) -> str:
    if math.isnan(lo) or math.isnan(hi):
        return "n<2"
    return f"{fmt(lo)} - {fmt(hi)}"


def fmt_mib(kb: float) -> str:
    return f"{kb / 1024:.1f} MiB" if math.isfinite(kb) else "-"


def fmt_ratio(ratio: float, supported: bool, is_baseline: bool, places: int = 2) -> str:
    if is_baseline:
        return "1 (base)"
    if not math.isfinite(ratio):
        return "-"
    return f"{ratio:.{places}f}{SUPPORTED if supported else UNSUPPORTED}"


def display_rows(cells: pd.DataFrame, baseline: str) -> list[list[str]]:
    out = []
    for _, c in cells.iterrows():
        base = c["label"] == baseline
        head = [c["workload"], str(c["threads"]), c["label"], f"{c['n_ok']}/{c['n_runs']}"]
        if c["n_ok"] == 0:
            out.append(head + ["FAILED", c["failures"], "-", "-", "-"])
            continue
        unit = (lambda v: fmt_value(v, c["metric"]).split(" ")[0])
        med = fmt_value(c["median"], c["metric"])
        if c["failures"]:
            med += f" ({c['failures']})"
        out.append(head + [
            med,
            fmt_interval(c["ci_lo"], c["ci_hi"], unit),
            fmt_ratio(c["speed_ratio"], c["speed_supported"], base),
            fmt_mib(c["rss_kb"]),
            fmt_ratio(c["rss_ratio"], c["rss_supported"], base),
        ])
    return out


def table_header(baseline: str) -> list[str]:
    return ["workload", "threads", "allocator", "ok/runs", "median", "95% CI",
            f"speed vs {baseline} (>1 = faster)", "peak RSS", f"RSS vs {baseline} (<1 = leaner)"]


def align(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header] + rows]


def markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    esc = [[cell.replace("|", "\\|") for cell in r] for r in [header] + rows]
    lines = ["| " + " | ".join(esc[0]) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in esc[1:]]


def legend(baseline: str) -> list[str]:
    return [
        f"median over ok runs; 95% CI: percentile bootstrap of the median, {stats.BOOT_RESAMPLES} resamples, "
        f"seed {stats.BOOT_SEED}.",
        f"speed = throughput relative to {baseline}: ops/s / {baseline}'s, or {baseline}'s ns/op / ns/op "
        "for latency workloads (>1 = faster). RSS = peak RSS / "
        f"{baseline}'s (<1 = leaner).",
        f"{SUPPORTED} = the two 95% CIs do not overlap (the spread supports the difference); "
        f"{UNSUPPORTED} = they overlap (not supported).",
    ]


def summary_lines(cells: pd.DataFrame, runs: pd.DataFrame, baseline: str, md: bool) -> list[str]:
    lines: list[str] = []
    per = allocator_summary(cells, baseline)
    if (cells["label"] == baseline).any():
        header = ["allocator", "cells", "geomean speed", "geomean RSS", "wins/losses (supported)", "wins/losses (all)"]
        rows = [[r.label, str(r.cells), f"{r.geomean_speed:.3f}", f"{r.geomean_rss:.3f}",
                 f"{r.wins_supported}/{r.losses_supported}", f"{r.wins}/{r.losses}"] for r in per.itertuples()]
        lines += ["", f"Against {baseline} (geometric mean of the ratios over the cells with both):", ""]
        lines += (markdown if md else align)(header, rows) if rows else [
            f"(no cell where {baseline} and another allocator both have ok runs)"]
    else:
        lines += ["", f"No {baseline} runs: ratios are not computed; choose another --baseline."]
    failed = runs[~runs["ok"]]
    lines += ["", f"Failed, crashed or timed-out runs: {len(failed)}" + (":" if len(failed) else ".")]
    bullet = "- " if md else "  "
    for _, r in failed.sort_values(["workload", "threads", "label", "rep"]).iterrows():
        rep = "" if pd.isna(r["rep"]) else f" rep {int(r['rep'])}"
        status = r["status"] if r["status"] != "ok" else f"ok but no {r['metric']} value"
        error = f": {r['error']}" if r["error"] else ""
        code = r.get("exit_code")
        code = f" (exit {int(code)})" if code is not None and not pd.isna(code) else ""
        lines.append(f"{bullet}{r['workload']} {r['threads']}T {r['label']}{rep}: {status}{code}{error}")
    return lines


def placement_lines(runs: pd.DataFrame, md: bool) -> list[str]:
    """A note on the cells whose runs the scheduler placed differently (see
    PLACEMENT_SPREAD), from the runs' involuntary context switches; none
    when the runs do not record them."""
    if "ctx_switches_invol" not in runs.columns:
        return []
    ok = runs[runs["ok"]].assign(invol=pd.to_numeric(runs["ctx_switches_invol"], errors="coerce"))
    ok = ok[ok["invol"].notna()]
    found = []
    for (w, t), cell in ok.groupby(["workload", "threads"], sort=True):
        spans = []
        for label, g in cell.groupby("label", sort=True):
            lo, hi = int(g["invol"].min()), int(g["invol"].max())
            if hi >= PLACEMENT_MIN_SWITCHES and hi >= PLACEMENT_SPREAD * max(lo, 1):
                spans.append(f"{label} {lo:,} - {hi:,}")
        if spans:
            found.append(f"{w} {t}T ({'; '.join(spans)})")
    if not found:
        return []
    bullet = "- " if md else "  "
    return ["", f"Runs the scheduler placed differently (involuntary context switches of one allocator's "
                f"runs over {PLACEMENT_SPREAD:g}x apart): their medians rank the threads' placement as "
                "much as the allocators:"] + [bullet + f for f in found]


def render(cells: pd.DataFrame, runs: pd.DataFrame, baseline: str, fmt: str, title: str = "") -> str:
    """The table and its summary in `fmt` (text, markdown or csv; csv is the
    cells only, numbers unformatted, one row per cell, failed cells included)."""
    if fmt == "csv":
        return cells.drop(columns=["_values", "_rss"]).to_csv(index=False, float_format="%.6g")
    header, rows = table_header(baseline), display_rows(cells, baseline)
    md = fmt == "markdown"
    lines = [title.replace("\n", "\n\n") if md else title, ""] if title else []
    lines += (markdown if md else align)(header, rows)
    lines += [""] + legend(baseline)
    lines += summary_lines(cells, runs, baseline, md)
    lines += placement_lines(runs, md)
    return "\n".join(lines) + "\n"
