"""SIGINT/SIGTERM mid-suite keeps every finished row; RESUME= completes the rest exactly once."""
from __future__ import annotations

import csv
import json
import signal
import subprocess
import time

import pytest

from runner_helpers import PYTHON, RUNNER, pairs, rows, run_suite

ARGS = ["--workloads", "slow", "--allocators", "sysa,mima", "--threads", "1,2", "--reps", "3",
        "--warmup", "0", "--seed", "3"]
TOTAL = 2 * 2 * 3


def _interrupt(tree, signum: int) -> subprocess.CompletedProcess:
    """Start the suite, wait for three rows, send signum, return the finished process."""
    out = tree / "out"
    argv = [PYTHON, str(RUNNER), "--config", str(tree / "bench.toml"), "--out", str(out),
            "--progress", "runs", "--cflags="] + ARGS
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jsonl = out / "runs.jsonl"
        if jsonl.exists() and len(jsonl.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_then_resume(tree, signum):
    out = tree / "out"
    p = _interrupt(tree, signum)
    assert p.returncode == 130, p.stderr
    assert f"RESUME={out}" in p.stdout
    first = rows(out)
    assert 3 <= len(first) < TOTAL
    assert all(r["status"] == "ok" for r in first)  # the killed run left no row
    with open(out / "runs.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(first)
    assert json.loads((out / "meta.json").read_text())["status"] == "interrupted"

    done = run_suite(tree, "--resume", str(out), out=None)
    assert done.returncode == 0, done.stderr
    every = rows(out)
    assert every[: len(first)] == first  # nothing rewritten
    assert len(pairs(every)) == len(set(pairs(every))) == TOTAL
    assert {r["order"] for r in every} == set(range(TOTAL))  # the original schedule's places
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete" and len(meta["resumed_at"]) == 1


def test_resume_skips_a_torn_last_line(tree):
    out = tree / "out"
    args = ["--workloads", "ok", "--allocators", "sysa", "--threads", "1", "--reps", "3", "--warmup", "0"]
    assert run_suite(tree, *args).returncode == 0
    lines = (out / "runs.jsonl").read_text().splitlines()
    # as if the runner died while writing the third row
    (out / "runs.jsonl").write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][:20])
    assert run_suite(tree, "--resume", str(out), out=None).returncode == 0
    assert sorted(pairs(rows(out))) == [("ok", "sysa", 1, r) for r in range(3)]  # every line parses


def test_resume_of_a_complete_directory_runs_nothing(tree):
    args = ["--workloads", "ok", "--allocators", "sysa", "--threads", "1", "--reps", "2", "--warmup", "0"]
    assert run_suite(tree, *args).returncode == 0
    p = run_suite(tree, "--resume", str(tree / "out"), out=None)
    assert p.returncode == 0 and "(0 now)" in p.stdout
    assert len(rows(tree / "out")) == 2


def test_resume_of_a_directory_without_meta(tree):
    (tree / "empty").mkdir()
    p = run_suite(tree, "--resume", str(tree / "empty"), out=None)
    assert p.returncode == 2 and "meta.json" in p.stderr


def test_resume_keeps_the_columns_of_the_first_run(tree):
    """An unbuilt hakmem left out at the start must stay out (not become an error) on resume."""
    (tree / "bin" / "hakmem" / "fake").unlink()
    args = ["--workloads", "ok", "--threads", "1", "--reps", "1", "--warmup", "0"]
    assert run_suite(tree, *args).returncode == 0
    p = run_suite(tree, "--resume", str(tree / "out"), out=None)
    assert p.returncode == 0, p.stderr
    assert "hak" not in {r["allocator"] for r in rows(tree / "out")}
