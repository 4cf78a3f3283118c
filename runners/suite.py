"""The suite loop: warm-ups, then the schedule run by run, each run one recorded row.

Given a checked Plan and a prepared ResultDir, `run_suite_loop` runs the
(cell, rep) pairs of the seeded schedule that have no row yet, appends one
row per run, and returns normally or raises Interrupted on SIGINT/SIGTERM
after the run in progress was killed (its partial row is never written).
The CLI (run_suite.py) owns meta.json and the messages around the loop.
"""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import execute
import hyperfine
from matrix import Cell, Run, pair_key, schedule
from plan import Plan, stats_path, trace_path
from progress import Progress
from records import ResultDir


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: stop after writing what was measured."""

    def __init__(self, signame: str) -> None:
        super().__init__(signame)
        self.signame = signame


def _on_signal(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def full_schedule(plan: Plan, seed: int) -> list[Run]:
    """Every run of the plan; hyperfine mode has one round (hyperfine does the repetitions)."""
    rounds = 1 if plan.options.timer == "hyperfine" else plan.options.reps
    return schedule(plan.cells, rounds, seed)


def measure(plan: Plan, run: Run, res: ResultDir, run_id: str) -> dict:
    """Run one (cell, rep) and return its row."""
    cell = run.cell
    stats_file = stats_path(res.logs, run_id) if plan.allocator(cell).stats_env else None
    for stale in (stats_path(res.logs, run_id), trace_path(res.logs, run_id)):
        stale.unlink(missing_ok=True)
    overrides = plan.env_overrides(cell, res.logs, run_id)
    argv = plan.argv(cell)
    env = {**os.environ, **overrides}
    workload = plan.workloads[cell.workload]
    row: dict = {
        "workload": cell.workload, "allocator": cell.allocator, "variant": cell.variant,
        "label": cell.label, "threads": cell.threads, "rep": run.rep, "round": run.round,
        "order": run.order, "timer": plan.options.timer, "metric": workload.metric,
        "run_id": run_id, "cmd": argv, "env": overrides,
    }
    if plan.options.timer == "hyperfine":
        row.update(hyperfine.measure(argv, overrides, env, plan.options.reps, res.logs, run_id,
                                     plan.options.timeout))
    try:
        out = execute.spawn_and_wait(argv, env, res.logs / f"{run_id}.stdout",
                                     res.logs / f"{run_id}.stderr", plan.options.timeout, plan.launcher)
    except OSError as e:
        row.update(status="failed", exit_code=None, signal="", error=f"cannot run {argv[0]}: {e.strerror}")
        return row
    result = execute.parse_result_line(out.stdout)
    status, error = execute.judge(out, result, plan.allocator(cell).identity)
    if status == "ok" and row.get("hf.error"):
        status, error = "failed", row["hf.error"]
    row.update(status=status, exit_code=out.exit_code, signal=out.signal, error=error,
               wall_s=round(out.wall_s, 6), user_s=round(out.user_s, 6), sys_s=round(out.sys_s, 6),
               max_rss_kb=out.max_rss_kb, ctx_switches_vol=out.ctx_switches_vol,
               ctx_switches_invol=out.ctx_switches_invol)
    row.update(result_fields(result))
    if stats_file is not None:
        stats = read_stats(stats_file)
        if stats is not None:
            row["hakmem_stats"] = stats
    trace = trace_path(res.logs, run_id)
    if trace.exists():
        row["learn_trace"] = str(trace.relative_to(res.path))
    return row


def result_fields(result: dict | None) -> dict:
    """The workload's own figures, flattened: phase.<name>, lat.<p>, metric.<name>, param.<name>."""
    if not result:
        return {}
    fields = {k: result.get(k) for k in ("ops", "ops_per_sec", "ns_per_op", "seconds", "checksum", "seed")}
    fields["detected_allocator"] = result.get("allocator")
    fields["allocator_object"] = result.get("allocator_object")
    for key, prefix in (("phases", "phase"), ("latency_ns", "lat"), ("metrics", "metric"), ("params", "param")):
        value = result.get(key)
        if isinstance(value, dict):
            for name, v in value.items():
                fields[f"{prefix}.{name}"] = v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
    return fields


def read_stats(path: Path) -> dict | None:
    """hakmem's statistics file as an object, or None if absent or not a JSON object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def warm_up(plan: Plan, cells: list[Cell], res: ResultDir, progress: Progress) -> None:
    """One unrecorded run per cell; a failure is logged and announced, not recorded."""
    for cell in cells:
        for i in range(plan.options.warmup):
            progress.start(f"warm-up {cell.label} {cell.workload} t{cell.threads}")
            run_id = f"warmup-{cell.key}.{i}"
            env = {**os.environ, **plan.env_overrides(cell, res.logs, run_id)}
            try:
                out = execute.spawn_and_wait(plan.argv(cell), env, res.logs / f"{run_id}.stdout",
                                             res.logs / f"{run_id}.stderr", plan.options.timeout, plan.launcher)
                status, error = execute.judge(out, execute.parse_result_line(out.stdout),
                                              plan.allocator(cell).identity)
            except OSError as e:
                status, error = "failed", e.strerror
            if status != "ok":
                progress.message(f"warning: warm-up of {cell.workload} {cell.label} t{cell.threads} "
                                 f"{status}: {error} (logs/{run_id}.stderr)")


def run_suite_loop(plan: Plan, res: ResultDir, seed: int, progress_stream=None,
                   tty: bool | None = None) -> tuple[int, int]:
    """Run every missing pair; returns (runs made now, runs in the whole schedule).

    Raises Interrupted on SIGINT/SIGTERM; every row written before stays.
    """
    runs = full_schedule(plan, seed)
    done = res.done_pairs()
    pending = [r for r in runs if pair_key(r.cell.workload, r.cell.label, r.cell.threads, r.rep) not in done]
    progress = Progress(len(pending), progress_stream, tty)
    old_int = signal.signal(signal.SIGINT, _on_signal)
    old_term = signal.signal(signal.SIGTERM, _on_signal)
    try:
        if plan.options.timer == "direct" and plan.options.warmup > 0:
            warm_up(plan, list(dict.fromkeys(r.cell for r in pending)), res, progress)
        progress.runs_begin()
        for run in pending:
            label = f"{run.cell.workload} {run.cell.label} t{run.cell.threads} rep {run.rep}"
            progress.start(label)
            row = measure(plan, run, res, run.run_id)
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                res.append(row)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            detail = row.get("error") or _figure(row)
            progress.done(label, row["status"], detail)
    finally:
        progress.close()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
    return len(pending), len(runs)


def _figure(row: dict) -> str:
    metric = row.get("metric")
    value = row.get(metric) if metric else None
    return f"{metric}={value:.4g}" if isinstance(value, (int, float)) else ""
