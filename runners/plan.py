"""From bench.toml and the command line to a checked plan: cells and how to run each.

Everything that can be wrong with a request is found here, before any run:
unknown suite, workload, allocator, variant or Larson profile (the message
lists the known ones), a library that is not installed (it names the Debian
package), a program that was not built, or one built before a change to its
sources (`make -q` says so: run-suite-only does not build, and a suite would
measure the old code under the new name). An allocator built here (hakmem)
whose programs are absent is left out with a warning unless it was asked for
by name. This module runs nothing but `make -q`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench_config import Allocator, Config, Workload
from matrix import Cell, expand


# The allocator whose build (plain glibc) serves preload variants: build/system/<program>.
SYSTEM_BUILD = "system"


class PlanError(Exception):
    """The request cannot be run; the message says why and what to do."""


@dataclass
class Options:
    """The user's request; None means "the suite's (or bench.toml's) default"."""

    suite: str | None = None
    allocators: list[str] | None = None
    workloads: list[str] | None = None
    variants: list[str] | None = None
    threads: list[int] | None = None
    reps: int | None = None
    runtime: float | None = None
    timeout: float | None = None
    pin: str = ""
    timer: str = "direct"  # or "hyperfine"
    seed: int | None = None
    larson_profile: str | None = None
    warmup: int = 1  # unrecorded warm-up runs per cell

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Plan:
    """A checked request: the cells and every value needed to run them."""

    config: Config
    options: Options  # resolved: every None filled in
    suite: str
    cells: list[Cell]
    workloads: dict[str, Workload]
    suite_args: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)
    launcher: Path | None = None  # rusage_exec, for the command's own peak RSS

    def allocator(self, cell: Cell) -> Allocator:
        return self.config.allocators[cell.allocator]

    def program_path(self, cell: Cell) -> Path:
        """The binary a cell runs: the allocator's build, or the system build for a preload variant."""
        variant = self.config.variants.get(cell.variant)
        owner = SYSTEM_BUILD if variant and variant.preload else cell.allocator
        return bindir(self.config, owner) / self.workloads[cell.workload].program

    def env_overrides(self, cell: Cell, logs: Path, run_id: str) -> dict[str, str]:
        """Environment variables a cell sets on top of the runner's own: the variant's,
        and the allocator's statistics and trace files under logs/ when it has them."""
        env: dict[str, str] = {}
        variant = self.config.variants.get(cell.variant)
        if variant:
            env.update(variant.env)
            if variant.preload:
                env["LD_PRELOAD"] = str(resolve(self.config, variant.preload))
        a = self.allocator(cell)
        for var, path in ((a.stats_env, stats_path(logs, run_id)), (a.trace_env, trace_path(logs, run_id))):
            if var and var not in env:
                env[var] = str(path)
        return env

    def argv(self, cell: Cell) -> list[str]:
        """The full command of a cell (taskset prefix included when PIN= is set)."""
        w = self.workloads[cell.workload]
        args = w.args + self.suite_args.get(cell.workload, [])
        if w.thread_token:
            args = [str(cell.threads) if a == w.thread_token else a for a in args]
        else:
            args = args + ["--threads", str(cell.threads)]
            if w.length == "seconds":
                args += ["--seconds", f"{self.options.runtime:g}"]
        prefix = ["taskset", "-c", self.options.pin] if self.options.pin else []
        return prefix + [str(self.program_path(cell))] + args


def stats_path(logs: Path, run_id: str) -> Path:
    """Where a run's allocator statistics file goes (allocators with `stats_env`)."""
    return logs / f"{run_id}.stats.json"


def trace_path(logs: Path, run_id: str) -> Path:
    """Where a run's learner trace goes (allocators with `trace_env`)."""
    return logs / f"{run_id}.learn.jsonl"


def resolve(cfg: Config, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else cfg.root / p


def bindir(cfg: Config, allocator: str) -> Path:
    a = cfg.allocators.get(allocator)
    return resolve(cfg, a.bindir) if a and a.bindir else cfg.root / "build" / allocator


def _pick(asked: list[str] | None, known: dict, default: list[str], what: str, hint: str) -> list[str]:
    names = asked if asked is not None else default
    for n in names:
        if n not in known:
            raise PlanError(f"unknown {what} '{n}' (known: {', '.join(known)}); {hint}")
    return list(dict.fromkeys(names))


def larson_workload(cfg: Config, profile: str) -> Workload:
    """A Larson profile as a workload `larson:<profile>` of the program larson."""
    if profile not in cfg.larson_profiles:
        raise PlanError(f"unknown Larson profile '{profile}' (known: {', '.join(cfg.larson_profiles)}); "
                        "choose one with PROFILE= or add it to [larson_profiles] in bench.toml")
    p = cfg.larson_profiles[profile]
    base = cfg.workloads.get("larson")
    return Workload(name=f"larson:{profile}", program=base.program if base else "larson",
                    args=p.args.split(), length="ops", metric="ops_per_sec",
                    description=p.description, thread_token="T")


def make_plan(cfg: Config, opts: Options) -> Plan:
    """Resolve the request against bench.toml and check that every cell can run."""
    o = Options(**opts.to_dict())
    o.suite = _pick([o.suite] if o.suite else None, cfg.suites, [cfg.defaults.get("suite", "default")],
                    "suite", "choose one with SUITE=")[0]
    suite = cfg.suites[o.suite]
    workloads = dict(cfg.workloads)
    if o.larson_profile:
        w = larson_workload(cfg, o.larson_profile)
        workloads[w.name] = w
        o.workloads = [w.name]
    else:
        o.workloads = _pick(o.workloads, cfg.workloads, suite.workloads, "workload",
                            "choose from them with WORKLOADS=")
    named = set(o.allocators or [])
    o.allocators = _pick(o.allocators, cfg.allocators, list(cfg.allocators), "allocator",
                         "choose from them with ALLOCATORS=")
    named_variants = set(o.variants or [])
    o.variants = _pick(o.variants, cfg.variants, suite.variants, "variant",
                       "choose from them with VARIANTS=")
    o.threads = o.threads or list(suite.threads)
    if any(t <= 0 for t in o.threads):
        raise PlanError(f"THREADS={','.join(map(str, o.threads))} must list positive thread counts")
    o.reps = o.reps if o.reps is not None else (suite.reps or int(cfg.defaults.get("reps", 5)))
    if o.reps <= 0:
        raise PlanError(f"REPS={o.reps} must be at least 1")
    o.runtime = o.runtime if o.runtime is not None else suite.runtime
    o.timeout = o.timeout if o.timeout is not None else (suite.timeout_s or cfg.defaults.get("timeout_s", 300))
    if o.timer not in ("direct", "hyperfine"):
        raise PlanError(f"TIMER={o.timer} is not a timer (known: direct, hyperfine)")

    plan = Plan(config=cfg, options=o, suite=o.suite, cells=[], workloads=workloads,
                suite_args=dict(suite.args))
    programs = sorted({workloads[w].program for w in o.workloads})
    columns: list[tuple[str, str]] = []
    for a in o.allocators:
        if _usable(plan, a, "", programs, explicit=a in named):
            columns.append((a, ""))
    for v in o.variants:
        if _usable(plan, cfg.variants[v].allocator, v, programs, explicit=v in named_variants):
            columns.append((cfg.variants[v].allocator, v))
    if not columns:
        raise PlanError("no allocator left to run: " + "; ".join(plan.warnings)
                        + "; build them with make or choose others with ALLOCATORS=")
    plan.cells = expand(o.workloads, columns, o.threads)
    # what runs, as explicit names: a resumed suite must neither add nor drop a column
    o.allocators = [a for a, v in columns if not v]
    o.variants = [v for _, v in columns if v]
    stale = stale_builds(cfg, _built_files(plan, columns, programs))
    if stale:
        raise PlanError(f"{', '.join(stale)}: older than {'its' if len(stale) == 1 else 'their'} sources "
                        "(make -q says so), so the suite would measure code that is no longer the tree's; "
                        "build with make all first (make run-suite builds before it runs)")
    if o.pin and not shutil.which("taskset"):
        raise PlanError("PIN= needs taskset, which is not installed; install the Debian package util-linux")
    if o.timer == "hyperfine" and not shutil.which("hyperfine"):
        raise PlanError("TIMER=hyperfine needs hyperfine, which is not installed; "
                        "install the Debian package hyperfine")
    return plan


def _built_files(plan: Plan, columns: list[tuple[str, str]], programs: list[str]) -> list[Path]:
    """The programs and preload libraries the columns run that this tree's Makefile makes."""
    cfg = plan.config
    files: list[Path] = []
    for allocator, variant in columns:
        a, v = cfg.allocators[allocator], cfg.variants.get(variant)
        preload = v.preload if v and v.preload else a.preload
        owner = SYSTEM_BUILD if v and v.preload else allocator
        files += [bindir(cfg, owner) / p for p in programs]
        if preload and a.built_here and not (v and v.build):  # `build` libraries have no rule
            files.append(resolve(cfg, preload))
    return list(dict.fromkeys(files))


def stale_builds(cfg: Config, files: list[Path]) -> list[str]:
    """Those of `files` that `make -q` in the configuration's directory says are out of date.

    Empty when there is no Makefile or make there, or when make cannot tell (a
    file without a rule): the check guards against stale builds, it does not
    stand in for the build.
    """
    root = cfg.root
    files = [f for f in files if f.is_relative_to(root)]
    if not files or not (root / "Makefile").exists() or not shutil.which("make"):
        return []

    def out_of_date(targets: list[Path]) -> int:
        try:
            return subprocess.run(["make", "-q", "--no-print-directory", "-C", str(root),
                                   *[str(t.relative_to(root)) for t in targets]],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60).returncode
        except (OSError, subprocess.SubprocessError):
            return 0

    if out_of_date(files) != 1:
        return []
    return [str(f.relative_to(root)) for f in files if out_of_date([f]) == 1]


def missing_link_libraries(link: str) -> list[str]:
    """Names X of `-lX` flags in `link` that the compiler cannot find as libX.so or libX.a."""
    cc = os.environ.get("CC", "gcc")
    missing = []
    for flag in link.split():
        if not flag.startswith("-l"):
            continue
        name = flag[2:]
        found = False
        for file in (f"lib{name}.so", f"lib{name}.a"):
            try:
                out = subprocess.run([cc, f"-print-file-name={file}"], capture_output=True, text=True,
                                     timeout=30).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                return []  # no compiler to ask: the build will say it
            found = found or os.path.isabs(out)
        if not found:
            missing.append(name)
    return missing


def _usable(plan: Plan, allocator: str, variant: str, programs: list[str], explicit: bool) -> bool:
    """True if the column can run; False (with a warning) if it may be left out; else PlanError."""
    cfg = plan.config
    a = cfg.allocators[allocator]
    v = cfg.variants.get(variant)
    label = f"{allocator}+{variant}" if variant else allocator
    problem = ""
    if v and v.preload and not resolve(cfg, v.preload).exists():
        if v.build:  # a library `make all` does not make: nothing to leave out quietly
            raise PlanError(f"{label}: its preload library {v.preload} does not exist; "
                            f"make it with {v.build}")
        problem = f"{label}: its preload library {v.preload} does not exist"
    elif not a.built_here and a.preload and not resolve(cfg, a.preload).exists():
        raise PlanError(f"{label}: the library {a.preload} is not installed; "
                        f"install the Debian package {a.package or '(see bench.toml)'}")
    elif not a.built_here and not a.preload:
        for lib in missing_link_libraries(a.link):
            raise PlanError(f"{label}: the library lib{lib}.so (link {a.link!r}) is not installed; "
                            f"install the Debian package {a.package or '(see bench.toml)'}")
    if not problem:
        owner = SYSTEM_BUILD if v and v.preload else allocator
        missing = [p for p in programs if not os.access(bindir(cfg, owner) / p, os.X_OK)]
        if missing:
            where = bindir(cfg, owner)
            problem = f"{label}: {', '.join(missing)} not built in {where}"
    if not problem:
        return True
    if a.built_here and not explicit:
        plan.warnings.append(f"{problem}; left out (build it with make)")
        return False
    raise PlanError(f"{problem}; build it with make (make all) first")
