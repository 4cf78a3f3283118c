"""Helpers for the runner's tests: a bench.toml pointing at a fake workload, and runner calls.

The fake (tests/fixtures/fake_workload.c, compiled once per session) reports
as its allocator the name of the directory it is run from, so each test
allocator gets its own bin/<identity>/ directory through bench.toml's `bindir`.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE.parent.parent / "runners" / "run_suite.py"
QUICK_ANALYZE = HERE.parent.parent / "analysis" / "quick_analyze.py"
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable

BENCH_TOML = """\
[defaults]
baseline = "sysa"
suite = "basic"
reps = 2
timeout_s = 20

[allocators.sysa]
identity = "glibc"
bindir = "bin/glibc"
package = "libc6"

[allocators.mima]
identity = "mimalloc"
bindir = "bin/mimalloc"
package = "libmimalloc-dev"

[allocators.hak]
identity = "hakmem"
bindir = "bin/hakmem"
built_here = true
stats_env = "HAKMEM_STATS_FILE"
trace_env = "HAKMEM_LEARN_TRACE"

[allocators.wrong]
identity = "jemalloc"
bindir = "bin/glibc"
package = "libjemalloc-dev"

[allocators.system]
identity = "glibc"
bindir = "bin/glibc"
package = "libc6"

[workloads.ok]
program = "fake"
args = ["--mode", "ok"]

[workloads.timed]
program = "fake"
args = ["--mode", "ok"]
length = "seconds"
metric = "ns_per_op"

[workloads.slow]
program = "fake"
args = ["--mode", "ok", "--sleep-ms", "150"]

[workloads.crash]
program = "fake"
args = ["--mode", "crash"]

[workloads.hang]
program = "fake"
args = ["--mode", "hang"]

[workloads.silent]
program = "fake"
args = ["--mode", "silent"]

[workloads.fail]
program = "fake"
args = ["--mode", "fail"]

[suites.basic]
workloads = ["ok", "timed"]
threads = [1, 2]
reps = 2
runtime = 0.5

[suites.basic.args]
ok = ["--ops", "10"]

[variants.v1]
allocator = "hak"
env = { HAKMEM_X = "1" }

[variants.v2]
allocator = "hak"
env = { HAKMEM_X = "2" }

[variants.pre]
allocator = "sysa"
preload = "lib/libempty.so"
env = { PRE = "yes" }

[variants.other]
allocator = "sysa"
preload = "lib/libother.so"
build = "make other-lib REV=<commit>"
revision_file = "lib/libother.commit"

[larson_profiles.small]
args = "2 8 128 1024 1 12345 T"
"""


def make_tree(path: Path, fake_program: Path) -> Path:
    """path with bench.toml and bin/{glibc,mimalloc,hakmem}/fake."""
    for identity in ("glibc", "mimalloc", "hakmem"):
        d = path / "bin" / identity
        d.mkdir(parents=True)
        shutil.copy(fake_program, d / "fake")
    (path / "bench.toml").write_text(BENCH_TOML)
    return path


def run_suite(tree: Path, *args: str, out: str | Path = "out", timeout: float = 120,
              config: Path | None = None) -> subprocess.CompletedProcess:
    """Run the runner on tree's bench.toml with result directory tree/out."""
    argv = [PYTHON, str(RUNNER), "--config", str(config or tree / "bench.toml"), "--cflags=-O2",
            "--progress", "runs"]
    if out is not None:
        argv += ["--out", str(tree / out)]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=timeout)


def rows(result_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (result_dir / "runs.jsonl").read_text().splitlines()]


def pairs(rs: list[dict]) -> list[tuple]:
    return [(r["workload"], r["label"], r["threads"], r["rep"]) for r in rs]
