"""Load result directories into one pandas frame (the analysis's only reader).

A result directory, as `make run-suite` writes it, holds:

- ``runs.jsonl``: one JSON object per run, appended run by run (preferred);
- ``runs.csv``: the same rows flattened (used when the jsonl is absent);
- ``meta.json``: the run's identity; every key optional. Used here: ``suite``,
  ``start`` (or ``start_time``), ``git.revision``, ``git.dirty``, ``status``,
  ``command_line`` (or ``command``);
- ``logs/``: per-run output, hakmem statistics and maybe learner traces
  (``logs/*learn*.jsonl`` or ``learn_trace*.jsonl`` at the top).

Row fields read here (everything else is carried along untouched):

===================  ======================================================
workload             required; e.g. "larson", "json", "larson:small"
allocator            required; base name: system, mimalloc, jemalloc, tcmalloc, hakmem
threads              required; int
variant              optional ("" when absent)
label                optional; ``allocator+variant`` (derived when absent)
rep                  optional; repetition number
status               optional ("ok" when absent); anything else is a failed run
exit_code            optional; error: optional text
metric               optional; "ops_per_sec" (higher is better, the default) or
                     "ns_per_op" (lower is better): which column a workload reports
ops_per_sec          at least one of the two metric columns is required
ns_per_op
max_rss_kb           peak RSS from wait4, KiB (else ``metric.rss_peak_kb``)
ctx_switches_invol   optional; involuntary context switches (the note on
                     runs the scheduler placed differently, table.py)
phases               object name -> seconds        (csv ``phase.<name>``)
latency_ns           object p50, p90, p99, p99.9, max (csv ``lat.<p>``)
metrics              object                        (csv ``metric.<name>``)
hakmem_stats         object, nested                (csv ``hakmem.<dotted.path>``)
===================  ======================================================

jsonl rows are flattened to the csv's column names, so both sources give the
same frame. Derived columns added: ``label``, ``metric``, ``value`` (the
row's metric), ``rss_kb``, ``ok`` (status "ok" and a value present) and
``source`` (the directory or file the row came from).

Bad input raises `ResultsError` whose message is one sentence naming the
file and what is wrong; the command-line tools print it and exit 2.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS = ("workload", "allocator", "threads")
METRICS = ("ops_per_sec", "ns_per_op")
# jsonl object fields and the csv prefix their members are flattened to.
NESTED_PREFIX = {
    "phases": "phase.",
    "latency_ns": "lat.",
    "metrics": "metric.",
    "hakmem_stats": "hakmem.",
}


class ResultsError(Exception):
    """Bad input: the message is one sentence naming the file and the problem."""


@dataclass
class ResultSet:
    """Runs of one or more result directories, pooled into one frame."""

    runs: pd.DataFrame
    dirs: list[Path]  # the result directories (a file's parent when given a file)
    meta: list[dict] = field(default_factory=list)  # meta.json of each dir ({} if absent)

    def identity(self) -> str:
        """'suite default, 2026-11-21 20:00 UTC, git abc1234 (dirty)' per directory."""
        return "; ".join(describe_meta(m, d) for m, d in zip(self.meta, self.dirs))

    def variant_builds(self) -> list[str]:
        """'hakmem+before: built from 3dd295989e' for each column whose library is
        not its allocator's (meta.json's allocator_versions), once per directory."""
        lines = []
        for m in self.meta:
            versions = m.get("allocator_versions")
            if not isinstance(versions, dict):
                continue
            for label, version in versions.items():
                allocator = label.split("+", 1)[0]
                if "+" in label and version != versions.get(allocator):
                    v = str(version)
                    lines.append(f"{label}: built from {v[:10]}" if v.isalnum() else f"{label}: {v}")
        return lines

    def commands(self) -> list[str]:
        """The command line that made each directory (meta.json), where recorded."""
        return [str(m.get("command_line") or m.get("command")) for m in self.meta
                if m.get("command_line") or m.get("command")]

    def learn_traces(self) -> list[Path]:
        """Learner trace files of every directory, sorted by path."""
        found: set[Path] = set()
        for d in self.dirs:
            found.update(d.glob("learn_trace*.jsonl"))
            found.update(d.glob("logs/**/*learn*.jsonl"))
        return sorted(found)


def describe_meta(meta: dict, directory: Path) -> str:
    """One line naming a result directory: suite, start date, git revision."""
    suite = meta.get("suite") or "unknown suite"
    start = str(meta.get("start") or meta.get("start_time") or "unknown date")
    start = start.replace("T", " ").replace("Z", " UTC").replace("+00:00", " UTC")
    git = meta.get("git") if isinstance(meta.get("git"), dict) else {}
    rev = str(git.get("revision") or "unknown")[:10]
    dirty = " (dirty)" if git.get("dirty") else ""
    status = meta.get("status")
    tail = f", {status}" if status and status != "complete" else ""
    return f"{directory.name}: suite {suite}, {start}, git {rev}{dirty}{tail}"


def find_runs_file(path: Path) -> Path:
    """The runs file a path names: the file itself, or a directory's runs.jsonl
    (preferred) or runs.csv. Raises ResultsError when there is none."""
    if path.is_dir():
        for name in ("runs.jsonl", "runs.csv"):
            if (path / name).is_file():
                return path / name
        inside = sorted(d.name for d in path.iterdir() if d.is_dir() and
                        ((d / "runs.jsonl").is_file() or (d / "runs.csv").is_file()))
        hint = (f"pass one of its result directories ({', '.join(inside[:3])}{', ...' if len(inside) > 3 else ''})"
                if inside else "pass a result directory written by `make run-suite`")
        raise ResultsError(f"{path} holds no results (neither runs.jsonl nor runs.csv); {hint}.")
    if not path.exists():
        raise ResultsError(f"{path} does not exist; pass a result directory or its runs.jsonl / runs.csv.")
    if path.suffix not in (".jsonl", ".csv"):
        raise ResultsError(
            f"{path} is neither a runs.jsonl nor a runs.csv file; pass a result directory or one of those files."
        )
    return path


def flatten(row: dict) -> dict:
    """A jsonl row with its nested objects flattened to the csv's dotted names."""
    flat: dict = {}
    for key, value in row.items():
        if key in NESTED_PREFIX and isinstance(value, dict):
            _flatten_into(flat, NESTED_PREFIX[key], value)
        elif isinstance(value, (dict, list)):
            flat[key] = json.dumps(value)
        else:
            flat[key] = value
    return flat


def _flatten_into(out: dict, prefix: str, obj: dict) -> None:
    for key, value in obj.items():
        if isinstance(value, dict):
            _flatten_into(out, f"{prefix}{key}.", value)
        else:
            out[f"{prefix}{key}"] = value


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a runs.jsonl. A truncated last line (a suite killed mid-write)
    is skipped with a warning; any other line that is not a JSON object is an
    error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ResultsError(f"{path} is not a runs.jsonl file (it is not UTF-8 text).") from None
    rows = []
    numbered = [(i, ln) for i, ln in enumerate(lines, 1) if ln.strip()]
    for pos, (lineno, line) in enumerate(numbered):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if pos == len(numbered) - 1 and pos > 0:
                print(f"warning: {path} line {lineno} is truncated; ignoring it", file=sys.stderr)
                continue
            raise ResultsError(f"{path} is not a runs.jsonl file (line {lineno} is not JSON).") from None
        if not isinstance(obj, dict):
            raise ResultsError(f"{path} is not a runs.jsonl file (line {lineno} is not a JSON object).")
        rows.append(flatten(obj))
    return rows


def read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=True, dtype={"variant": str, "label": str, "status": str})
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        raise ResultsError(f"{path} is not a runs.csv file (pandas cannot parse it as CSV).") from None


def expand_json_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A csv that kept an object field (phases, latency_ns, metrics,
    hakmem_stats) as JSON text gets it flattened like a jsonl row."""
    for key, prefix in NESTED_PREFIX.items():
        if key not in frame.columns or frame[key].dtype != object:
            continue
        flat = []
        for text in frame[key]:
            try:
                obj = json.loads(text) if isinstance(text, str) and text.startswith("{") else {}
            except json.JSONDecodeError:
                obj = {}
            out: dict = {}
            _flatten_into(out, prefix, obj if isinstance(obj, dict) else {})
            flat.append(out)
        extra = pd.DataFrame(flat, index=frame.index)
        extra = extra[[c for c in extra.columns if c not in frame.columns]]
        frame = pd.concat([frame.drop(columns=key), extra], axis=1)
    return frame


def read_runs(path: Path) -> pd.DataFrame:
    """The rows of one runs file, normalised (see the module docstring)."""
    frame = pd.DataFrame(read_jsonl(path)) if path.suffix == ".jsonl" else expand_json_columns(read_csv(path))
    if frame.empty:
        raise ResultsError(f"{path} holds no runs; let the suite record at least one run.")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if not any(m in frame.columns for m in METRICS):
        missing.append("ops_per_sec or ns_per_op")
    if missing:
        raise ResultsError(f"{path} lacks the column(s) {', '.join(missing)} that every run row needs.")
    return normalise(frame)


def _text(series: pd.Series, default: str) -> pd.Series:
    return series.fillna(default).astype(str).replace({"nan": default, "None": default})


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the derived columns label, metric, value, rss_kb, ok."""
    df = frame.copy()
    n = len(df)
    for col in METRICS + ("max_rss_kb", "metric.rss_peak_kb", "rep"):
        if col not in df.columns:
            df[col] = math.nan
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["workload"] = df["workload"].astype(str)
    df["allocator"] = df["allocator"].astype(str)
    df["threads"] = pd.to_numeric(df["threads"], errors="coerce").fillna(0).astype(int)
    df["variant"] = _text(df["variant"], "") if "variant" in df.columns else pd.Series([""] * n, index=df.index)
    derived = df["allocator"] + df["variant"].map(lambda v: f"+{v}" if v else "")
    if "label" in df.columns:
        df["label"] = _text(df["label"], "").where(lambda s: s != "", derived)
    else:
        df["label"] = derived
    df["status"] = _text(df["status"], "ok") if "status" in df.columns else "ok"
    df["error"] = _text(df["error"], "") if "error" in df.columns else ""
    metric = _text(df["metric"], "ops_per_sec") if "metric" in df.columns else pd.Series(["ops_per_sec"] * n, index=df.index)
    metric = metric.where(metric.isin(METRICS), "ops_per_sec")
    # One metric per workload: the most common one among its rows.
    df["metric"] = metric.groupby(df["workload"]).transform(lambda s: s.mode().iloc[0])
    df["value"] = df["ops_per_sec"].where(df["metric"] == "ops_per_sec", df["ns_per_op"])
    df["rss_kb"] = df["max_rss_kb"].fillna(df["metric.rss_peak_kb"])
    df["ok"] = (df["status"] == "ok") & df["value"].notna() & (df["value"] > 0)
    return df


def read_meta(directory: Path) -> dict:
    """meta.json of a result directory, or {} when absent or unreadable."""
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def load(paths: list[str | Path]) -> ResultSet:
    """Load and pool the runs of every path (result directory or runs file)."""
    if not paths:
        raise ResultsError("no result directory given; pass one, e.g. results/reference.")
    frames, dirs, metas = [], [], []
    for p in map(Path, paths):
        runs_file = find_runs_file(p)
        frame = read_runs(runs_file)
        directory = runs_file.parent
        frame["source"] = str(directory)
        frames.append(frame)
        dirs.append(directory)
        metas.append(read_meta(directory))
    return ResultSet(pd.concat(frames, ignore_index=True), dirs, metas)


def read_learn_trace(path: Path) -> pd.DataFrame:
    """A learner trace (HAKMEM_LEARN_TRACE): JSON lines with at least ``t``
    (seconds since start) and ``event``. hakmem writes:

    - ``cap``: ``class``, ``class_size``, ``old``, ``new`` (the CAP),
      ``hit_rate``, ``target``, ``samples``;
    - ``strategy``: ``old``, ``new`` (large threshold, bytes), ``state``;
    - ``state``: ``old``, ``new`` (LEARN, CANARY, FROZEN), ``strategy``;
    - ``window``: ``state``, ``strategy`` (one summary per window);
    - ``wmax``: ``old``, ``new``, ``candidate``, ``adopted``, scores.

    The result has the columns ``cap``, ``hit_rate``, ``strategy`` and
    ``state`` filled from whichever field carries them (a line that names
    ``cap`` directly is taken as it is). Lines that are not JSON objects with
    a numeric ``t`` are skipped; rows are sorted by t."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return pd.DataFrame()
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("t"), (int, float)):
            rows.append(obj)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    for col in ("event", "new", "cap", "hit_rate", "strategy", "state"):
        if col not in frame.columns:
            frame[col] = None
    frame = frame.astype({c: object for c in ("new", "cap", "strategy", "state")})
    for col in ("cap", "strategy", "state"):
        from_new = (frame["event"] == col) & frame[col].isna()
        frame.loc[from_new, col] = frame.loc[from_new, "new"]
    return frame.sort_values("t", kind="stable").reset_index(drop=True)
