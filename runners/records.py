"""The result directory: runs.jsonl, runs.csv, meta.json, bench.toml and logs/.

Layout of a result directory:
    runs.jsonl   one JSON object per recorded run, appended, flushed and
                 fsync'd after each run (a crash of the runner loses at most
                 the run in progress)
    runs.csv     the same rows, flat (union of columns), rewritten at the end
                 and on interruption
    meta.json    machine, revision, options, matrix, seed, status
    bench.toml   a copy of the configuration used
    logs/        <run-id>.stdout, <run-id>.stderr, hakmem statistics files,
                 hyperfine exports, warm-up logs
Rows are never edited once written; RESUME only appends.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

from matrix import pair_key

MIN_FREE_BYTES = 10 * 1024 * 1024

# Columns every row has, in this order; anything else follows, sorted.
CORE_COLUMNS = [
    "workload", "allocator", "variant", "label", "threads", "rep", "round", "order", "timer",
    "status", "exit_code", "signal", "error", "metric", "ops", "ops_per_sec", "ns_per_op",
    "seconds", "wall_s", "user_s", "sys_s", "max_rss_kb", "ctx_switches_vol", "ctx_switches_invol",
    "checksum", "detected_allocator",
    "seed", "run_id", "cmd", "env",
]


class ResultDirError(Exception):
    """The result directory cannot be used; the message says why and what to do."""


def flatten(prefix: str, value: object, out: dict) -> None:
    """Numbers, strings and booleans of nested `value` as out['prefix.a.b']."""
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, (int, float, str, bool)) or value is None:
        out[prefix] = value


def csv_row(row: dict) -> dict:
    """The flat form of a jsonl row: hakmem_stats -> hakmem.*, cmd and env as text."""
    flat: dict = {}
    for key, value in row.items():
        if key == "hakmem_stats":
            stats: dict = {}
            flatten("hakmem", value, stats)
            flat.update({k: v for k, v in stats.items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool)})
        elif key == "cmd" and isinstance(value, list):
            flat[key] = " ".join(value)
        elif key == "env" and isinstance(value, dict):
            flat[key] = " ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, (dict, list)):
            flat[key] = json.dumps(value, sort_keys=True)
        else:
            flat[key] = value
    return flat


def columns_of(rows: list[dict]) -> list[str]:
    """CORE_COLUMNS (always, even if empty) first, then every other column seen, sorted."""
    seen: set[str] = set()
    for r in rows:
        seen.update(r)
    return CORE_COLUMNS + sorted(seen - set(CORE_COLUMNS))


class ResultDir:
    """A result directory being written (or resumed)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.logs = self.path / "logs"
        self.jsonl = self.path / "runs.jsonl"
        self.csv = self.path / "runs.csv"
        self.meta_path = self.path / "meta.json"

    def prepare(self) -> None:
        """Create the directory and check it is writable with room to spare, before any run."""
        try:
            self.logs.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-probe"
            probe.write_text("probe\n")
            probe.unlink()
        except OSError as e:
            raise ResultDirError(
                f"cannot write the result directory {self.path} ({e.strerror}); "
                "choose a writable place with OUT=") from e
        free = shutil.disk_usage(self.path).free
        if free < MIN_FREE_BYTES:
            raise ResultDirError(
                f"the disk of {self.path} has only {free // 1024} KiB free (need "
                f"{MIN_FREE_BYTES // (1024 * 1024)} MiB); free some space or choose another OUT=")

    # -- rows -----------------------------------------------------------
    def rows(self) -> list[dict]:
        """Every complete row of runs.jsonl (a torn last line is skipped)."""
        if not self.jsonl.exists():
            return []
        rows = []
        for line in self.jsonl.read_text(errors="replace").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                rows.append(value)
        return rows

    def done_pairs(self) -> set[tuple[str, str, int, int]]:
        """(workload, label, threads, rep) of every recorded row: what RESUME skips."""
        return {pair_key(r["workload"], r["label"], r["threads"], r["rep"]) for r in self.rows()
                if {"workload", "label", "threads", "rep"} <= r.keys()}

    def append(self, row: dict) -> None:
        """Append one row to runs.jsonl, flushed and fsync'd before returning."""
        line = json.dumps(row, sort_keys=False) + "\n"
        with open(self.jsonl, "ab") as f:
            f.write(line.encode())
            f.flush()
            os.fsync(f.fileno())

    def drop_torn_tail(self) -> bool:
        """Cut a last line without its newline (the runner died while writing it); True if cut."""
        if not self.jsonl.exists():
            return False
        data = self.jsonl.read_bytes()
        if not data or data.endswith(b"\n"):
            return False
        with open(self.jsonl, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
            os.fsync(f.fileno())
        return True

    def write_csv(self) -> int:
        """Rewrite runs.csv from runs.jsonl; returns the number of rows."""
        flat = [csv_row(r) for r in self.rows()]
        tmp = self.csv.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns_of(flat), extrasaction="ignore")
            writer.writeheader()
            for r in flat:
                writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
        os.replace(tmp, self.csv)
        return len(flat)

    # -- meta -----------------------------------------------------------
    def read_meta(self) -> dict:
        try:
            return json.loads(self.meta_path.read_text())
        except (OSError, ValueError) as e:
            raise ResultDirError(
                f"{self.meta_path} is missing or unreadable, so {self.path} cannot be resumed; "
                "give RESUME= a result directory written by run-suite") from e

    def write_meta(self, meta: dict) -> None:
        tmp = self.meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
        os.replace(tmp, self.meta_path)
