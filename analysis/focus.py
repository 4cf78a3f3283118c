"""Head to head: one allocator against every other, cell by cell, and the bar.

The main table answers "how does each allocator do against the baseline".
An allocator's author asks a different question: in which cells is mine
behind anyone, and where does it use more memory than the baseline allows?
`head_to_head()` answers it from the same cells (table.summarise) with the
focus allocator's speed over each other label's (> 1 = the focus is faster;
for ns/op workloads the ratio is inverted the same way), its RSS over the
baseline's, and the bar per cell: faster than (or level with) every other
label and RSS at most `rss_bar` x the baseline's, with no failed run.
A miss names each allocator the focus is behind with the ratio to three
places (0.996 would print as 1.00 in the columns) and its spread mark, and
a cell behind only by differences the spread does not support counts as a
level miss: the reader can tell noise from a loss.
"""
from __future__ import annotations

import math

import pandas as pd

import stats
import table

DEFAULT_RSS_BAR = 1.10


def _speed_against(focus: pd.Series, other: pd.Series) -> tuple[float, bool]:
    """The focus's speed over `other`'s and whether the spread supports it."""
    if focus["n_ok"] == 0 or other["n_ok"] == 0:
        return math.nan, False
    ratio = stats.oriented_ratio(focus["median"], other["median"], focus["metric"] == "ops_per_sec")
    supported = not stats.intervals_overlap(focus["ci_lo"], focus["ci_hi"], other["ci_lo"], other["ci_hi"])
    return ratio, supported


def head_to_head(cells: pd.DataFrame, focus: str, baseline: str, rss_bar: float = DEFAULT_RSS_BAR) -> pd.DataFrame:
    """One row per (workload, threads) where `focus` ran. Columns: workload,
    threads, one `vs <label>` ratio and `vs <label> supported` flag per other
    label, rss_ratio (against `baseline`), failures (the focus's), misses
    (what of the bar it misses, '' when met)."""
    others = [lbl for lbl in dict.fromkeys(cells["label"]) if lbl != focus]
    others.sort(key=lambda lbl: table.label_sort_key(lbl, baseline))
    rows = []
    for (workload, threads), group in cells.groupby(["workload", "threads"], sort=False):
        mine = group[group["label"] == focus]
        if mine.empty:
            continue
        f = mine.iloc[0]
        row = {"workload": workload, "threads": threads}
        behind, behind_supported = [], False
        for lbl in others:
            o = group[group["label"] == lbl]
            ratio, supported = _speed_against(f, o.iloc[0]) if not o.empty else (math.nan, False)
            row[f"vs {lbl}"], row[f"vs {lbl} supported"] = ratio, supported
            if ratio < 1:
                behind.append(f"{lbl} ({table.fmt_ratio(ratio, supported, False, places=3)})")
                behind_supported |= supported
        base = group[group["label"] == baseline]
        rss = math.nan
        if not base.empty and f["n_ok"] and base.iloc[0]["n_ok"]:
            rss = stats.oriented_ratio(f["rss_kb"], base.iloc[0]["rss_kb"], True)
        row["rss_ratio"] = rss
        misses = ["behind " + ", ".join(behind)] if behind else []
        if rss > rss_bar:
            misses.append(f"RSS {rss:.2f}x {baseline}")
        if f["failures"]:
            misses.insert(0, f"failed runs ({f['failures']})")
        row["failures"] = f["failures"]
        row["misses"] = "; ".join(misses)
        # behind only within the spread, and nothing else missed (RSS, failures)
        row["level_miss"] = bool(behind) and len(misses) == 1 and not behind_supported
        rows.append(row)
    return pd.DataFrame(rows)


def render(h2h: pd.DataFrame, focus: str, baseline: str, rss_bar: float, fmt: str, title: str = "",
           runs: pd.DataFrame | None = None) -> str:
    """The head-to-head table in `fmt` (text, markdown or csv) with a count of
    the cells that meet the bar."""
    if h2h.empty:
        return f"No runs of {focus!r}: nothing to compare; choose --focus among the table's allocators.\n"
    if fmt == "csv":
        return h2h.to_csv(index=False, float_format="%.6g")
    others = [c[3:] for c in h2h.columns if c.startswith("vs ") and not c.endswith(" supported")]
    header = ["workload", "threads"] + [f"vs {o}" for o in others] + [f"RSS vs {baseline}", "bar"]
    rows = []
    for _, r in h2h.iterrows():
        cells = [table.fmt_ratio(r[f"vs {o}"], r[f"vs {o} supported"], False) for o in others]
        rss = "-" if not math.isfinite(r["rss_ratio"]) else f"{r['rss_ratio']:.2f}"
        rows.append([r["workload"], str(r["threads"])] + cells + [rss, r["misses"] or "met"])
    md = fmt == "markdown"
    lines = [title.replace("\n", "\n\n") if md else title, ""] if title else []
    lines += (table.markdown if md else table.align)(header, rows)
    met = int((h2h["misses"] == "").sum())
    level = int(h2h["level_miss"].sum())
    count = f"Cells meeting it: {met} of {len(h2h)}."
    if level:
        count += (f" Of the cells missing it, {level} miss only by differences the spread does not "
                  f"support ({table.UNSUPPORTED}).")
    lines += [
        "",
        f"{focus}'s speed over each allocator's (>1 = {focus} faster), {table.SUPPORTED} = the 95% CIs do not "
        f"overlap, {table.UNSUPPORTED} = they do; RSS = {focus}'s peak RSS / {baseline}'s.",
        f"The bar: at least level with every allocator, RSS at most {rss_bar:.2f}x {baseline}, no failed run.",
        count,
    ]
    if runs is not None:
        lines += table.placement_lines(runs, md)
    return "\n".join(lines) + "\n"
