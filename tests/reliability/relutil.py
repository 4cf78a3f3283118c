"""Shared helpers of the reliability tests: paths, binaries, runs, sanitizer settings.

RELIABILITY_FULL=1 (set by `make check-asan` / `make check-tsan`) selects the
full-length checks; otherwise the short versions of `make test` run.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = ROOT / "build"
FULL = os.environ.get("RELIABILITY_FULL") == "1"
PYTHON = "/usr/bin/python3"

# Sanitizer settings: stop at the first report, with an exit status of 1 (ASan,
# UBSan) or 66 (TSan). ASan may return NULL for impossible requests (the
# edge-case table asks for SIZE_MAX bytes of its bookkeeping allocator too).
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:allocator_may_return_null=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    "TSAN_OPTIONS": "halt_on_error=1:second_deadlock_stack=1",
}
# What a sanitizer prints when it finds something.
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer", "FATAL: ThreadSanitizer")


def binary(rel: str) -> Path:
    """build/<rel>, or skip the test naming the make target that builds it."""
    path = BUILD / rel
    if not path.exists():
        pytest.skip(f"{path.relative_to(ROOT)} is not built; run 'make reliability-builds' "
                    "(needs hakmem's sources for the hakmem and sanitizer builds)")
    return path


def tsan_prefix() -> list[str]:
    """Run TSan programs with ASLR off: some kernels' layouts collide with its shadow."""
    prefix = os.environ.get("REL_TSAN_RUN", "")
    if prefix:
        return prefix.split()
    probe = subprocess.run(["setarch", os.uname().machine, "-R", "true"], capture_output=True)
    return ["setarch", os.uname().machine, "-R"] if probe.returncode == 0 else []


def run(cmd: list[str], timeout: float, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run cmd with extra environment `env`, capturing text output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                          env=full_env, **kw)


def last_json(stdout: str) -> dict:
    """The JSON object on the last non-empty line of stdout."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


def assert_sanitizer_clean(proc: subprocess.CompletedProcess, what: str) -> None:
    """Exit status 0 and no sanitizer report; else fail with the report's head."""
    reports = [r for r in SANITIZER_REPORTS if r in proc.stderr]
    assert proc.returncode == 0 and not reports, (
        f"{what}: exit status {proc.returncode}, sanitizer reports {reports}\n"
        f"--- stderr (head) ---\n{proc.stderr[:6000]}")
