"""TIMER=hyperfine: time a cell as a whole program with hyperfine.

For each cell, hyperfine runs the exact command (environment passed with
`env VAR=value ...`, no shell) once to warm up and then REPS times, and
exports its statistics as JSON into logs/. The runner then makes one direct,
recorded run of the cell (which carries the workload's own figures and the
allocator identity check) and stores hyperfine's statistics beside them in
that row as `hf.mean_s`, `hf.stddev_s`, `hf.median_s`, `hf.min_s`,
`hf.max_s`, `hf.user_s`, `hf.system_s` and `hf.runs`. So in this mode a
cell has one row (rep 0), whose `timer` column is "hyperfine".
"""
from __future__ import annotations

import json
import shlex
from pathlib import Path

from execute import spawn_and_wait

STATS = ("mean", "stddev", "median", "min", "max", "user", "system")


def hyperfine_argv(argv: list[str], env: dict[str, str], runs: int, export: Path) -> list[str]:
    """The hyperfine command that times `env ... argv` runs times after one warm-up."""
    inner = (["env"] + [f"{k}={v}" for k, v in env.items()] if env else []) + argv
    return ["hyperfine", "--shell=none", "--style", "basic", "--warmup", "1", "--runs", str(runs),
            "--export-json", str(export), shlex.join(inner)]


def measure(argv: list[str], env_overrides: dict[str, str], full_env: dict[str, str], runs: int,
            logs: Path, run_id: str, timeout_s: float | None) -> dict:
    """Run hyperfine on the command; returns the hf.* fields (hf.error if it failed)."""
    export = logs / f"{run_id}.hyperfine.json"
    cmd = hyperfine_argv(argv, env_overrides, runs, export)
    limit = timeout_s * (runs + 1) if timeout_s else None
    out = spawn_and_wait(cmd, full_env, logs / f"{run_id}.hyperfine.stdout",
                         logs / f"{run_id}.hyperfine.stderr", limit)
    fields: dict = {"hf.cmd": shlex.join(cmd)}
    if out.timed_out or out.signal or out.exit_code != 0:
        fields["hf.error"] = (f"hyperfine exited with {out.signal or out.exit_code}"
                              f"{' after the time limit' if out.timed_out else ''}; see {run_id}.hyperfine.stderr")
        return fields
    try:
        result = json.loads(export.read_text())["results"][0]
    except (OSError, ValueError, KeyError, IndexError):
        fields["hf.error"] = f"hyperfine wrote no readable {export.name}"
        return fields
    for s in STATS:
        if isinstance(result.get(s), (int, float)):
            fields[f"hf.{s}_s"] = result[s]
    fields["hf.runs"] = len(result.get("times") or [])
    return fields
