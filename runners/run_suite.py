"""Run a benchmark suite of bench.toml and write a result directory.

    /usr/bin/python3 runners/run_suite.py --threads 1,4 [--suite quick] ...
    make run-suite THREADS=1,4 [SUITE= ALLOCATORS= ...]       (the same, after deps and build)

Each option matches a make variable of `make run-suite` (in parentheses in
--help). The matrix workload x allocator(+variant) x threads x repetition
runs round by round, each round every cell once in a seeded shuffled order,
after one unrecorded warm-up per cell. Every run is one row of runs.jsonl
(written at once) and runs.csv (at the end or on interruption); see
records.py for the directory layout. Exit status: 0 when the suite is
complete (failed runs are rows, not errors), 2 for a bad request, 130 when
interrupted (resume with RESUME=<dir>), 1 when the result directory could not
be written during the suite.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import bench_config
import machine
from plan import Options, Plan, PlanError, make_plan, resolve
from execute import ensure_launcher
from records import ResultDir, ResultDirError
from suite import Interrupted, run_suite_loop

REPO = Path(__file__).resolve().parent.parent
EXIT_BAD_REQUEST = 2
EXIT_INTERRUPTED = 130
EXIT_WRITE_FAILED = 1


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in _list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers, e.g. 1,4")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="run_suite.py", description=__doc__.split("\n\n")[0],
        epilog="An option left out takes the suite's value, else bench.toml's [defaults].",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    a = ap.add_argument
    a("--threads", type=_ints, metavar="1,4", help="thread counts (THREADS=); default: the suite's")
    a("--suite", help="suite of bench.toml: quick, default, paper, ... (SUITE=); default: [defaults] suite")
    a("--allocators", type=_list, metavar="a,b",
      help="allocators (ALLOCATORS=); default: every allocator, leaving out unbuilt ones built here")
    a("--workloads", type=_list, metavar="x,y", help="workloads (WORKLOADS=); default: the suite's")
    a("--variants", type=_list, metavar="v,w",
      help="variants of bench.toml to add as columns allocator+variant (VARIANTS=); default: the suite's")
    a("--reps", type=int, metavar="N", help="repetitions per cell (REPS=); default: the suite's, else 5")
    a("--runtime", type=float, metavar="S",
      help="seconds per run for workloads measured by time (RUNTIME=); default: the suite's")
    a("--timeout", type=float, metavar="S", help="time limit per run in seconds (TIMEOUT=); default: the suite's")
    a("--out", type=Path, metavar="DIR",
      help="result directory (OUT=); default: results/<YYYYmmdd-HHMMSS>-<suite>")
    a("--resume", type=Path, metavar="DIR",
      help="complete an interrupted result directory (RESUME=): runs only the missing "
           "(cell, repetition) pairs, with the matrix, options and seed of its meta.json")
    a("--pin", default="", metavar="CPUS", help="CPU list for taskset -c, e.g. 0 or 0-1 (PIN=)")
    a("--config", type=Path, default=REPO / "bench.toml", metavar="FILE",
      help="the bench.toml to use (CONFIG=)")
    a("--timer", choices=("direct", "hyperfine"), default="direct",
      help="direct: wait4 per run; hyperfine: each cell also timed by hyperfine as a whole "
           "program, statistics in hf.* columns (TIMER=)")
    a("--seed", type=int, metavar="N", help="shuffle seed (SHUFFLE_SEED=); default: from the clock, recorded")
    a("--larson-profile", metavar="NAME",
      help="run a [larson_profiles] entry as workload larson:<NAME> (make larson PROFILE=)")
    a("--warmup", type=int, default=1, metavar="N", help="unrecorded warm-up runs per cell (default 1)")
    a("--cflags", default=None, help="workload CFLAGS to record in meta.json; default: asked from make")
    a("--progress", choices=("auto", "line", "runs"), default="auto",
      help="progress display: an updating line, one line per run, or auto (line on a terminal)")
    return ap


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _options(args: argparse.Namespace) -> Options:
    return Options(suite=args.suite, allocators=args.allocators, workloads=args.workloads,
                   variants=args.variants, threads=args.threads, reps=args.reps, runtime=args.runtime,
                   timeout=args.timeout, pin=args.pin, timer=args.timer, seed=args.seed,
                   larson_profile=args.larson_profile, warmup=args.warmup)


def _versions(cfg: bench_config.Config, plan: Plan, revision: str) -> dict:
    """Per column label, what ran: a package version, this tree's revision, or for
    a variant with its own library the commit that library was built from."""
    out = {}
    for c in plan.cells:
        label = f"{c.allocator}+{c.variant}" if c.variant else c.allocator
        if label in out:
            continue
        a, v = cfg.allocators[c.allocator], cfg.variants.get(c.variant)
        if v and v.revision_file:
            out[label] = _revision_of(resolve(cfg, v.revision_file), resolve(cfg, v.preload))
        else:
            out[label] = revision if a.built_here else machine.package_version(a.version_package or a.package)
    return out


def _revision_of(revision_file: Path, library: Path) -> str:
    """The commit named in revision_file, if it was written with the library or after it."""
    try:
        if revision_file.stat().st_mtime + 1 >= library.stat().st_mtime:
            return revision_file.read_text().split()[0]
    except (OSError, IndexError):
        pass
    return f"unknown ({revision_file} is missing, empty or older than {library})"


def _start(args: argparse.Namespace) -> tuple[Plan, ResultDir, dict]:
    """A checked plan, a prepared result directory and its meta.json (new or resumed)."""
    if args.resume:
        res = ResultDir(args.resume)
        meta = res.read_meta()
        cfg = bench_config.load(meta["config_path"])
        plan = make_plan(cfg, Options(**meta["options"]))
        stored = [tuple(c.values()) for c in meta["matrix"]["cells"]]
        if [tuple(c.to_dict().values()) for c in plan.cells] != stored:
            raise PlanError(f"the matrix of {res.path} no longer matches {cfg.path} (it changed since); "
                            "restore that bench.toml or start a new result directory")
        res.prepare()
        if res.drop_torn_tail():
            print(f"warning: dropped an unfinished last line of {res.jsonl}", file=sys.stderr)
        meta["resumed_at"] = meta.get("resumed_at", []) + [_now()]
        meta["status"] = "running"
        return plan, res, meta

    cfg = bench_config.load(args.config)
    opts = _options(args)
    if opts.seed is None:
        opts.seed = time.time_ns() % 2**32
    plan = make_plan(cfg, opts)
    tag = f"larson-{plan.options.larson_profile}" if plan.options.larson_profile else plan.suite
    out = args.out or REPO / "results" / f"{datetime.now():%Y%m%d-%H%M%S}-{tag}"
    res = ResultDir(out)
    if res.jsonl.exists():
        raise ResultDirError(f"{out} already holds results; complete it with RESUME={out} "
                             "or choose another OUT=")
    res.prepare()
    git = machine.git_info(REPO)
    meta = {
        "status": "running",
        "start_time": _now(),
        "end_time": None,
        "command_line": shlex.join([sys.executable] + sys.argv),
        "config_path": str(cfg.path.resolve()),
        "shuffle_seed": plan.options.seed,
        "suite": plan.suite,
        "git": git,
        **machine.machine_info(REPO, args.cflags),
        "allocator_versions": _versions(cfg, plan, git["revision"]),
        "options": plan.options.to_dict(),
        "matrix": {"cells": [c.to_dict() for c in plan.cells], "reps": plan.options.reps,
                   "labels": list(dict.fromkeys(c.label for c in plan.cells))},
        "warnings": plan.warnings,
        "bench_toml": cfg.text,
    }
    (res.path / "bench.toml").write_text(cfg.text)
    return plan, res, meta


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        plan, res, meta = _start(args)
    except (bench_config.ConfigError, PlanError, ResultDirError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_REQUEST
    plan.launcher = ensure_launcher(REPO / "build")
    if plan.launcher is None:
        plan.warnings.append("cannot build runners/rusage_exec.c (is gcc installed?), so max_rss_kb "
                             "includes the runner's own peak RSS")
    meta["rss_source"] = "rusage_exec" if plan.launcher else "wait4 (includes the runner's RSS)"
    meta["warnings"] = plan.warnings
    for w in plan.warnings:
        print(f"warning: {w}", file=sys.stderr)
    res.write_meta(meta)
    seed = meta["shuffle_seed"]
    what = (f"Larson profile {plan.options.larson_profile} (suite {plan.suite})"
            if plan.options.larson_profile else f"suite {plan.suite}")
    print(f"{what}: {len(plan.cells)} cells x {plan.options.reps} reps, "
          f"shuffle seed {seed}, results in {res.path}", flush=True)
    tty = {"auto": None, "line": True, "runs": False}[args.progress]
    status, code = "complete", 0
    try:
        made, total = run_suite_loop(plan, res, seed, sys.stdout, tty)
    except Interrupted as e:
        status, code = "interrupted", EXIT_INTERRUPTED
        print(f"\n{e.signame}: stopped; every finished run is in {res.path}", flush=True)
    except OSError as e:  # e.g. the disk filled up during the suite
        print(f"\nerror: cannot write to {res.path} ({e.strerror}); every run recorded before is in "
              f"runs.jsonl; free some space and resume with RESUME={res.path}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    rows = res.write_csv()
    meta.update(status=status, end_time=_now(), rows=rows)
    res.write_meta(meta)
    if status == "interrupted":
        print(f"resume with: make run-suite RESUME={res.path}\n"
              f"         or: {shlex.join([sys.executable, sys.argv[0], '--resume', str(res.path)])}")
        return code
    failed = sum(1 for r in res.rows() if r.get("status") != "ok")
    print(f"done: {rows} runs recorded ({made} now), {failed} not ok")
    print(f"results: {res.path}")
    print(f"analyse: /usr/bin/python3 analysis/quick_analyze.py {res.path}")
    return code


if __name__ == "__main__":
    sys.exit(main())
