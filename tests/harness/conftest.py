"""Fixtures for the workload tests: which programs exist, running them, reading result lines.

Every program is run with the quick suite's arguments of its workload
followed by SHORT's (later options win), so that a run takes a few
hundredths of a second. Runs are cached per argument list, so the identity,
result-line and determinism tests share them.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

# Arguments that shorten each workload of bench.toml (appended after the
# workload's and the quick suite's arguments), by workload name or, for a
# row that reuses a program under its own name, by program (short_args).
SHORT: dict[str, list[str]] = {
    "larson": ["--seconds", "0.05", "--chunks", "200", "--rounds", "2"],
    "json": ["--ops", "500"],
    "mir": ["--ops", "200"],
    "vm": ["--ops", "20"],
    "tiny_hot": ["--ops", "20000"],
    "mixed": ["--ops", "20000"],
    "mid_mt": ["--ops", "20000"],
    "cross_thread": ["--ops", "20000"],
    "cache_scratch": ["--ops", "5000"],
    "fragmentation": ["--ops", "20000", "--settle-ms", "0"],
    "realloc": ["--ops", "5000"],
    "large": ["--ops", "4", "--max-mb", "8"],
}

RESULT_KEYS = ("workload", "allocator", "allocator_object", "threads", "params", "seed", "ops",
               "seconds", "ops_per_sec", "ns_per_op", "phases", "latency_ns", "metrics",
               "checksum", "status")
LATENCY_KEYS = ("p50", "p90", "p99", "p99.9", "max")
PHASE_KEYS = ("setup", "run", "teardown")
TIMEOUT_S = 60


@dataclass
class Run:
    """One program run: exit status, output, and the parsed last line (or None)."""
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    result: dict | None


class Workloads:
    """The built programs and a cached way to run them."""

    def __init__(self, root: Path, build: Path, cfg) -> None:
        self.root = root
        self.build = build
        self.cfg = cfg
        self._cache: dict[tuple, Run] = {}

    def binary(self, allocator: str, program: str) -> Path:
        """build/<allocator>/<program>, or skip the test (with the reason) if missing."""
        path = self.build / allocator / program
        if not path.exists():
            if self.cfg.allocators[allocator].built_here and not (self.build / "lib" / "libhakmem.a").exists():
                pytest.skip(f"{allocator}: build/lib/libhakmem.a does not exist yet (run `make hakmem`)")
            pytest.skip(f"{path.relative_to(self.root)} is not built (run `make workloads`)")
        return path

    def args_for(self, workload: str) -> list[str]:
        """A workload's bench.toml args + the quick suite's + its short ones."""
        w = self.cfg.workloads[workload]
        suite = self.cfg.suites.get("quick")
        quick = suite.args.get(workload, []) if suite is not None else []
        return [*w.args, *quick, *self.short_args(workload)]

    def short_args(self, workload: str) -> list[str]:
        """SHORT's arguments for a workload: its own row's, else its program's
        (a row like realloc_big runs the realloc program with longer args,
        which test runs must still cut short)."""
        return SHORT.get(workload, SHORT.get(self.cfg.workloads[workload].program, []))

    def run(self, allocator: str, program: str, args: list[str], env: dict | None = None) -> Run:
        """Run build/<allocator>/<program> with args (cached when env is None)."""
        exe = self.binary(allocator, program)
        key = (allocator, program, tuple(args))
        if env is None and key in self._cache:
            return self._cache[key]
        full_env = dict(os.environ)
        full_env.pop("LD_PRELOAD", None)
        if env:
            full_env.update(env)
        p = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=TIMEOUT_S,
                           env=full_env, cwd=self.root)
        result = None
        lines = p.stdout.strip().splitlines()
        if lines:
            try:
                result = json.loads(lines[-1])
            except json.JSONDecodeError:
                result = None
        run = Run(tuple(args), p.returncode, p.stdout, p.stderr, result)
        if env is None:
            self._cache[key] = run
        return run

    def run_workload(self, allocator: str, workload: str, extra: list[str] | None = None) -> Run:
        w = self.cfg.workloads[workload]
        return self.run(allocator, w.program, [*self.args_for(workload), *(extra or [])])


@pytest.fixture(scope="session")
def workloads(root, build_dir, bench_config) -> Workloads:
    return Workloads(root, build_dir, bench_config)


@pytest.fixture(scope="session")
def check_result():
    """The function that asserts a run's result line is complete and consistent."""
    return _check_result


def _check_result(run: Run, workload: str, threads: int) -> dict:
    """Assert that `run` succeeded with a complete, consistent result line; return it."""
    where = f"{workload} {' '.join(run.args)}"
    assert run.returncode == 0, f"{where}: exit {run.returncode}; stderr: {run.stderr.strip()}"
    assert run.result is not None, f"{where}: the last stdout line is not JSON: {run.stdout[-300:]!r}"
    r = run.result
    missing = [k for k in RESULT_KEYS if k not in r]
    assert not missing, f"{where}: result line lacks {missing}"
    assert r["status"] == "ok", f"{where}: status {r['status']}"
    assert r["workload"] in (workload, r["program"])  # a row may reuse a program under another name
    assert r["threads"] == threads and r["params"]["threads"] == threads
    assert r["seed"] == r["params"]["seed"]
    assert isinstance(r["ops"], int) and r["ops"] > 0, f"{where}: ops {r['ops']}"
    assert r["seconds"] > 0 and r["ops_per_sec"] > 0 and r["ns_per_op"] > 0
    assert abs(r["ns_per_op"] - r["seconds"] * 1e9 / r["ops"]) <= 1e-6 * r["ns_per_op"] + 1e-9
    assert set(PHASE_KEYS) <= set(r["phases"])
    assert r["phases"]["run"] >= 0 and r["phases"]["setup"] >= 0 and r["phases"]["teardown"] >= 0
    lat = r["latency_ns"]
    assert set(LATENCY_KEYS) <= set(lat)
    values = [lat[k] for k in LATENCY_KEYS]
    assert values == sorted(values), f"{where}: percentiles out of order: {lat}"
    # The measured phase holds every sampled op: at least half the samples
    # took p50 or more, and the threads ran at most `threads` at a time.
    if lat.get("samples"):
        assert r["seconds"] * 1e9 * threads >= 0.4 * lat["samples"] * lat["p50"], \
            f"{where}: run phase {r['seconds']} s is shorter than its sampled ops"
    assert r["metrics"]["rss_peak_kb"] > 0
    assert len(r["checksum"]) == 16 and int(r["checksum"], 16) >= 0
    return r
