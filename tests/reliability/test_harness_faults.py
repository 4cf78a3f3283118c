"""Harness faults, end to end through the suite runner's command line.

Fake workloads (tests/fixtures/fake_workload.c, compiled into tmp_path) crash,
hang, print no result line or run out of memory beside runs that succeed; a
temporary bench.toml points at them (`bindir`, `identity`). Each fault must give one
clear message or row status, the suite must go on, and every measurement
taken before must stay on disk (runs.jsonl, runs.csv). Also: Ctrl-C mid-suite,
a bench.toml with a syntax error, an unknown allocator, a missing allocator
library: each stops with one clear message and a non-zero status.
"""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from fake_workload import build_fake_workload

from .relutil import PYTHON, ROOT, run

RUNNER = ROOT / "runners" / "run_suite.py"

pytestmark = pytest.mark.skipif(not RUNNER.exists(),
                                reason="runners/run_suite.py does not exist yet (the suite runner)")

TOML = """\
[defaults]
baseline = "sys"
suite = "faults"
reps = 1
timeout_s = 30

[allocators.sys]
identity = "glibc"
bindir = "{bindir}"
package = "libc6"

{extra_allocators}

[workloads.good]
program = "fault"
args = ["--mode", "ok", "--identity", "glibc"]

[workloads.segv]
program = "fault"
args = ["--mode", "segv"]

[workloads.hang]
program = "fault"
args = ["--mode", "hang"]

[workloads.silent]
program = "fault"
args = ["--mode", "silent"]

[workloads.oom]
program = "fault"
args = ["--mode", "oom", "--identity", "glibc"]

[workloads.slow]
program = "fault"
args = ["--mode", "ok", "--identity", "glibc", "--sleep-ms", "250"]

[suites.faults]
workloads = ["good", "segv", "hang", "silent", "oom"]
threads = [1, 2]
reps = 1
timeout_s = 3

[suites.slow]
workloads = ["slow"]
threads = [1]
reps = 12
"""


@pytest.fixture(scope="module")
def bindir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("faultbin")
    build_fake_workload(d, "fault")
    return d


def write_toml(path: Path, bindir: Path, extra_allocators: str = "") -> Path:
    path.write_text(TOML.format(bindir=bindir, extra_allocators=extra_allocators))
    return path


def runner_argv(config: Path, out: Path, *args: str) -> list[str]:
    return [PYTHON, str(RUNNER), "--config", str(config), "--out", str(out), "--cflags=-O2",
            "--progress", "runs", "--warmup", "0", *args]


def jsonl_rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines() if line]


def csv_rows(out: Path) -> list[dict]:
    with open(out / "runs.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_faulty_runs_become_rows_and_the_suite_goes_on(tmp_path, bindir):
    config = write_toml(tmp_path / "bench.toml", bindir)
    out = tmp_path / "out"
    proc = run(runner_argv(config, out, "--suite", "faults"), timeout=180)
    assert proc.returncode == 0, proc.stderr
    rows = jsonl_rows(out)
    # Every cell (5 workloads x 2 thread counts) has its row, faulty or not.
    assert sorted((r["workload"], r["threads"]) for r in rows) == sorted(
        (w, t) for w in ("good", "segv", "hang", "silent", "oom") for t in (1, 2))
    by = {(r["workload"], r["threads"]): r for r in rows}
    for t in (1, 2):
        assert by["good", t]["status"] == "ok" and by["good", t]["ops"] == 1000
        assert by["segv", t]["status"] == "crashed:SIGSEGV"
        assert by["hang", t]["status"] == "timeout"
        silent = by["silent", t]
        assert silent["status"] == "failed" and "no result line" in silent["error"]
        oom = by["oom", t]
        assert oom["status"] == "failed" and "out of memory" in oom["error"]
        assert oom["exit_code"] == 3
    # runs.csv holds the same rows as runs.jsonl.
    table = csv_rows(out)
    assert sorted((r["workload"], r["threads"], r["status"]) for r in table) == sorted(
        (r["workload"], str(r["threads"]), r["status"]) for r in rows)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete"
    # Each run's stderr is kept.
    assert list((out / "logs").iterdir())


def wait_for_rows(out: Path, n: int, deadline: float) -> int:
    while time.monotonic() < deadline:
        path = out / "runs.jsonl"
        if path.exists():
            have = len([line for line in path.read_text().splitlines() if line])
            if have >= n:
                return have
        time.sleep(0.05)
    return 0


def test_ctrl_c_keeps_every_finished_run_and_resume_completes(tmp_path, bindir):
    config = write_toml(tmp_path / "bench.toml", bindir)
    out = tmp_path / "out"
    proc = subprocess.Popen(runner_argv(config, out, "--suite", "slow"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_rows(out, 3, time.monotonic() + 60) >= 3, "no rows written in 60 s"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "resume" in stdout.lower() + stderr.lower()
    before = jsonl_rows(out)
    assert 3 <= len(before) < 12
    assert all(r["status"] == "ok" for r in before)
    assert len(csv_rows(out)) == len(before)
    assert json.loads((out / "meta.json").read_text())["status"] == "interrupted"

    resumed = run([PYTHON, str(RUNNER), "--resume", str(out), "--progress", "runs"], timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    after = jsonl_rows(out)
    assert after[:len(before)] == before  # nothing measured earlier was rewritten
    assert sorted(r["rep"] for r in after) == sorted(set(r["rep"] for r in after))
    assert len(after) == 12


def assert_refused(proc, out: Path, *words: str) -> None:
    """Exit non-zero with one clear message naming `words`, nothing run."""
    assert proc.returncode != 0
    message = proc.stderr.strip()
    assert message, "no message on stderr"
    for w in words:
        assert w in message, f"{w!r} not in: {message}"
    assert not (out / "runs.jsonl").exists() or not (out / "runs.jsonl").read_text()


def test_bench_toml_syntax_error_names_file_and_line(tmp_path, bindir):
    config = write_toml(tmp_path / "bench.toml", bindir)
    text = config.read_text().replace('[workloads.segv]', '[workloads.segv\nbroken = ', 1)
    config.write_text(text)
    line = text.splitlines().index("[workloads.segv") + 1
    out = tmp_path / "out"
    proc = run(runner_argv(config, out, "--suite", "faults"), timeout=60)
    assert_refused(proc, out, "bench.toml", str(line))


def test_unknown_allocator_lists_the_known_ones(tmp_path, bindir):
    config = write_toml(tmp_path / "bench.toml", bindir)
    out = tmp_path / "out"
    proc = run(runner_argv(config, out, "--suite", "faults", "--allocators", "nosuchalloc"),
               timeout=60)
    assert_refused(proc, out, "nosuchalloc", "sys")


def test_missing_allocator_library_names_the_package(tmp_path, bindir):
    extra = """[allocators.ghost]
identity = "ghost"
link = "-lghostalloc"
preload = "/nonexistent/libghostalloc.so.1"
package = "libghostalloc-dev"
"""
    config = write_toml(tmp_path / "bench.toml", bindir, extra)
    out = tmp_path / "out"
    proc = run(runner_argv(config, out, "--suite", "faults", "--allocators", "sys,ghost"),
               timeout=60)
    assert_refused(proc, out, "libghostalloc-dev")
