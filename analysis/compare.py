"""Compare two result sets cell by cell (`quick_analyze.py --compare OLD NEW`).

For each cell (workload, threads, allocator label) present in both, the
change is NEW's median speed relative to OLD's, oriented like the table
(+ = faster: new/old - 1 for ops/s, old/new - 1 for ns/op), and the two
sets of repetitions are tested with a two-sided Mann-Whitney U test at
stats.ALPHA. A *regression* is a significant slowdown; a cell that ran in
OLD and only failed in NEW is reported as newly failing.
"""
from __future__ import annotations

import math

import pandas as pd

import stats
import table


def _values(runs: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    return {key: g for key, g in runs.groupby(table.CELL_KEYS, sort=False)}


def compare(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """One row per cell of either side: workload, threads, label, metric,
    old_n, new_n (ok runs), old_median, new_median, change (fraction, + =
    faster), p, significant, rss_change (fraction, new/old - 1), state
    ("compared", "only in OLD", "only in NEW", "failed in NEW",
    "failed in OLD", "failed in both")."""
    a, b = _values(old), _values(new)
    rows = []
    for key in list(a) + [k for k in b if k not in a]:
        ga, gb = a.get(key), b.get(key)
        g = ga if ga is not None else gb
        row = dict(zip(table.CELL_KEYS, key), metric=g.iloc[0]["metric"])
        va = ga[ga["ok"]]["value"].to_numpy() if ga is not None else []
        vb = gb[gb["ok"]]["value"].to_numpy() if gb is not None else []
        row.update(old_n=len(va), new_n=len(vb), old_median=math.nan, new_median=math.nan,
                   change=math.nan, p=math.nan, significant=False, rss_change=math.nan)
        if ga is None or gb is None:
            row["state"] = "only in NEW" if ga is None else "only in OLD"
        elif len(va) == 0 or len(vb) == 0:
            row["state"] = "failed in both" if len(va) == len(vb) else ("failed in NEW" if len(vb) == 0 else "failed in OLD")
        else:
            higher = row["metric"] == "ops_per_sec"
            row["old_median"], row["new_median"] = stats.median_ci(va)[0], stats.median_ci(vb)[0]
            row["change"] = stats.oriented_ratio(row["new_median"], row["old_median"], higher) - 1.0
            row["p"] = stats.mann_whitney_p(va, vb)
            row["significant"] = bool(row["p"] < stats.ALPHA)
            ra, rb = ga[ga["ok"]]["rss_kb"].dropna(), gb[gb["ok"]]["rss_kb"].dropna()
            if len(ra) and len(rb):
                row["rss_change"] = rb.median() / ra.median() - 1.0
            row["state"] = "compared"
        rows.append(row)
    result = pd.DataFrame(rows)
    return result.sort_values(["workload", "threads", "label"], kind="stable").reset_index(drop=True)


def regressions(diff: pd.DataFrame, pct: float) -> pd.DataFrame:
    """Cells with a significant slowdown larger than pct percent, and cells
    that ran in OLD but only failed in NEW."""
    slow = diff["significant"] & (diff["change"] < -pct / 100.0)
    return diff[slow | (diff["state"] == "failed in NEW")]


def _pct(v: float) -> str:
    return f"{v * 100:+.1f}%" if math.isfinite(v) else "-"


def render(diff: pd.DataFrame, old_name: str, new_name: str, fmt: str) -> str:
    """The comparison as text, markdown or csv."""
    if fmt == "csv":
        return diff.to_csv(index=False, float_format="%.6g")
    header = ["workload", "threads", "allocator", "runs old/new", "old median", "new median",
              "change (+ = faster)", "p (Mann-Whitney U)", "significant", "RSS change"]
    rows = []
    for _, r in diff.iterrows():
        if r["state"] != "compared":
            rows.append([r["workload"], str(r["threads"]), r["label"], f"{r['old_n']}/{r['new_n']}",
                         "-", "-", r["state"], "-", "-", "-"])
            continue
        rows.append([r["workload"], str(r["threads"]), r["label"], f"{r['old_n']}/{r['new_n']}",
                     table.fmt_value(r["old_median"], r["metric"]), table.fmt_value(r["new_median"], r["metric"]),
                     _pct(r["change"]), f"{r['p']:.4f}", "yes" if r["significant"] else "no", _pct(r["rss_change"])])
    lines = [f"OLD: {old_name}", f"NEW: {new_name}", ""]
    lines += (table.markdown if fmt == "markdown" else table.align)(header, rows)
    lines += [
        "",
        f"test: two-sided Mann-Whitney U on the repetitions of each cell, significant at p < {stats.ALPHA}.",
        "change: NEW's median relative to OLD's, + = faster (ops/s: new/old - 1; ns/op: old/new - 1).",
        "Small samples limit the test: with 3 repetitions a side the smallest possible p is 0.1; use REPS=5 or more.",
    ]
    return "\n".join(lines) + "\n"
