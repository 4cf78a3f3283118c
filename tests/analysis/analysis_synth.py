"""Synthetic result directories with known values, for the analysis tests.

Rows follow the runner's format (see analysis/results.py): `row()` builds
one run, `write_dir()` writes runs.jsonl, runs.csv (flattened the runner's
way), meta.json and, optionally, a learner trace.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

ALLOCATORS = ["system", "mimalloc", "jemalloc", "tcmalloc", "hakmem"]
META = {
    "suite": "synthetic",
    "git": {"revision": "0123456789abcdef", "dirty": True},
    "start": "2026-11-21T20:00:00Z",
    "status": "complete",
}
PHASES = {"hak_alloc": 126479, "hak_free": 48206, "syscall_munmap": 131666, "whale_get": 9000}


def row(workload: str, allocator: str, threads: int, rep: int, value: float, metric: str = "ops_per_sec",
        variant: str = "", status: str = "ok", rss_kb: float = 10240.0, **extra) -> dict:
    """One run. `value` is the workload's metric; the other metric is derived."""
    ok = status == "ok"
    ops_per_sec = value if metric == "ops_per_sec" else 1e9 / value
    r = {
        "workload": workload, "allocator": allocator, "variant": variant,
        "label": allocator + (f"+{variant}" if variant else ""), "threads": threads, "rep": rep,
        "order": rep, "round": rep, "status": status, "exit_code": 0 if ok else -11,
        "error": "" if ok else "killed by SIGSEGV", "metric": metric,
        "ops": 1000000 if ok else None, "ops_per_sec": ops_per_sec if ok else None,
        "ns_per_op": 1e9 / ops_per_sec if ok else None, "seconds": 1.0, "wall_s": 1.1, "user_s": 1.0,
        "sys_s": 0.1, "max_rss_kb": rss_kb if ok else None, "checksum": 42,
        "phases": {"run": 1.0},
        "latency_ns": {"p50": 50.0 * (1 + rep / 10), "p90": 80.0, "p99": 200.0, "p99.9": 900.0, "max": 5000.0},
        "metrics": {"rss_peak_kb": rss_kb, "rss_after_free_kb": rss_kb / 2},
    }
    r.update(extra)
    return r


def cell(workload: str, allocator: str, values, metric: str = "ops_per_sec", rss_kb: float = 1000.0,
         status: str = "ok") -> list[dict]:
    """One cell at 1 thread: a run per value, reps 0, 1, ... (hand-made tables)."""
    return [row(workload, allocator, 1, i, v, metric, status=status, rss_kb=rss_kb)
            for i, v in enumerate(values)]


def matrix(workloads=(("larson", "ops_per_sec"), ("json", "ns_per_op")), threads=(1, 2), reps: int = 5,
           timing: bool = True) -> list[dict]:
    """A full small matrix with deterministic, slightly noisy values: each
    allocator k has a base value (k + 1) x 1e6 ops/s (or (k + 1) x 100 ns/op)
    and rss (k + 1) x 1024 KiB, +-1 % across repetitions; plus a
    `hakmem+timing` variant carrying timing statistics when `timing`."""
    rows = []
    labels = [(a, "") for a in ALLOCATORS] + ([("hakmem", "timing")] if timing else [])
    for w, metric in workloads:
        for t in threads:
            for k, (alloc, variant) in enumerate(labels):
                for rep in range(reps):
                    jitter = 1 + 0.01 * ((rep * 7 + k) % 5 - 2) / 2
                    base = (k + 1) * (1e6 if metric == "ops_per_sec" else 100.0) * t
                    extra = {}
                    if variant == "timing":
                        phases = {n: {"cycles": c * (rep + 1), "calls": 1000} for n, c in PHASES.items()}
                        extra["hakmem_stats"] = {"tiny": {"allocs": 10}, "timing": {"phases": phases}}
                    rows.append(row(w, alloc, t, rep, base * jitter, metric, variant,
                                    rss_kb=(k + 1) * 1024 * jitter, **extra))
    return rows


def learn_trace() -> list[dict]:
    """A trace in hakmem's format (learn.c): cap events carry the CAP as
    `new`, strategy events the threshold as `new`, state events the state
    as `new`; window events carry `state` and `strategy`."""
    events = []
    states = ["LEARN", "CANARY", "FROZEN", "FROZEN"]
    for i in range(20):
        t = i * 0.5
        for cls in range(3):
            events.append({"t": t, "event": "cap", "class": cls, "class_size": 2048 << cls,
                           "old": 64 + 8 * (i - 1) * (cls + 1), "new": 64 + 8 * i * (cls + 1),
                           "hit_rate": 0.5 + 0.02 * i - 0.01 * cls, "target": 0.65, "samples": 300})
        if i % 5 == 0 and i:
            events.append({"t": t, "event": "strategy", "old": 1 << (20 + (i // 5 - 1) % 2),
                           "new": 1 << (20 + (i // 5) % 2), "state": states[i // 5]})
            events.append({"t": t, "event": "state", "old": states[i // 5 - 1], "new": states[i // 5],
                           "reason": "window", "strategy": 1 << (20 + (i // 5) % 2)})
        events.append({"t": t + 0.25, "event": "window", "state": states[i // 5],
                       "strategy": 1 << (20 + (i // 5) % 2), "samples": 1024})
    return events


def flat(r: dict) -> dict:
    """A row flattened to the csv's column names."""
    out = {}
    prefixes = {"phases": "phase.", "latency_ns": "lat.", "metrics": "metric.", "hakmem_stats": "hakmem."}

    def walk(prefix, obj):
        for k, v in obj.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            else:
                out[prefix + k] = v

    for k, v in r.items():
        if k in prefixes and isinstance(v, dict):
            walk(prefixes[k], v)
        else:
            out[k] = v
    return out


def write_csv(path: Path, rows: list[dict]) -> None:
    flats = [flat(r) for r in rows]
    cols: list[str] = []
    for f in flats:
        cols += [c for c in f if c not in cols]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(flats)


def write_dir(path: Path, rows: list[dict], meta: dict | None = META, with_csv: bool = True,
              trace: list[dict] | None = None, flat_jsonl: bool = False) -> Path:
    """A result directory. `flat_jsonl` writes the jsonl rows with phases,
    latency_ns and metrics already flattened (as the runner does) instead of
    nested."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "logs").mkdir(exist_ok=True)
    with open(path / "runs.jsonl", "w") as fh:
        for r in rows:
            if flat_jsonl:
                stats = r.get("hakmem_stats")
                r = {k: v for k, v in flat(r).items() if not k.startswith("hakmem.")}
                if stats is not None:
                    r["hakmem_stats"] = stats
            fh.write(json.dumps(r) + "\n")
    if with_csv:
        write_csv(path / "runs.csv", rows)
    if meta is not None:
        (path / "meta.json").write_text(json.dumps(meta))
    if trace is not None:
        with open(path / "logs" / "hakmem+learn1.larson.1.0.learn.jsonl", "w") as fh:
            for e in trace:
                fh.write(json.dumps(e) + "\n")
    return path


if __name__ == "__main__":  # write a demo directory: synth.py DIR
    import sys

    write_dir(Path(sys.argv[1]), matrix(), trace=learn_trace())
