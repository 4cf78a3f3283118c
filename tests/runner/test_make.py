"""The make glue: every make variable reaches the runner option of the same meaning."""
from __future__ import annotations

import json
import shlex
import subprocess

import pytest

import run_suite
from runner_helpers import PYTHON, RUNNER

VARS = {"THREADS": "1,4", "SUITE": "quick", "ALLOCATORS": "system,mimalloc", "WORKLOADS": "tiny_hot",
        "VARIANTS": "batch1", "REPS": "3", "RUNTIME": "0.5", "TIMEOUT": "9", "OUT": "/tmp/x y",
        "RESUME": "/tmp/r", "PIN": "0-1", "TIMER": "hyperfine", "SHUFFLE_SEED": "17", "CONFIG": "other.toml"}


def _make(root, *args: str) -> str:
    return subprocess.run(["make", "-s", "--no-print-directory", "-C", str(root), *args],
                          capture_output=True, text=True, check=True, timeout=120).stdout


def _runner_argv(root, *assignments: str) -> list[str]:
    """The runner command of `make run-suite` (its last step), split as the shell would."""
    out = _make(root, "-n", "run-suite-only", *assignments)
    line = next(l for l in out.splitlines() if "runners/run_suite.py" in l)
    argv = shlex.split(line)
    return argv[argv.index("runners/run_suite.py") + 1:]


def test_every_variable_becomes_an_option(root):
    args = run_suite.parser().parse_args(_runner_argv(root, *(f"{k}={v}" for k, v in VARS.items())))
    assert args.threads == [1, 4] and args.suite == "quick" and args.allocators == ["system", "mimalloc"]
    assert args.workloads == ["tiny_hot"] and args.variants == ["batch1"] and args.reps == 3
    assert args.runtime == 0.5 and args.timeout == 9 and str(args.resume) == "/tmp/r"
    assert args.pin == "0-1" and args.timer == "hyperfine" and args.seed == 17
    assert str(args.config) == "other.toml" and str(args.out) == "/tmp/x y"
    assert args.cflags and "-O2" in args.cflags


def test_unset_variables_pass_nothing(root):
    assert [a.split("=")[0] for a in _runner_argv(root)] == ["--cflags"]


def test_make_larson_passes_the_profile(root):
    out = _make(root, "-n", "larson-only", "PROFILE=small", "THREADS=1,4")
    line = next(l for l in out.splitlines() if "runners/run_suite.py" in l)
    args = run_suite.parser().parse_args(shlex.split(line)[2:])
    assert args.larson_profile == "small" and args.threads == [1, 4]


def test_help_names_every_make_variable():
    text = subprocess.run([PYTHON, str(RUNNER), "--help"], capture_output=True, text=True, check=True).stdout
    for var in list(VARS) + ["PROFILE"]:
        if var != "SHUFFLE_SEED" and var != "PROFILE":
            assert f"({var}=)" in text, var
    assert "SHUFFLE_SEED=" in text and "PROFILE=" in text


@pytest.mark.slow
def test_make_run_suite_end_to_end(root, build_dir, tmp_path):
    needed = [build_dir / a / p for a in ("system", "mimalloc") for p in ("tiny_hot", "larson")]
    if not all(p.exists() for p in needed):
        pytest.skip("the workload programs tiny_hot and larson are not built")
    out = tmp_path / "res"
    make = ["make", "-s", "--no-print-directory", "-C", str(root)]
    request = ["SUITE=quick", "ALLOCATORS=system,mimalloc", "WORKLOADS=tiny_hot,larson", "THREADS=1",
               "REPS=1", f"OUT={out}"]
    p = subprocess.run(make + ["run-suite"] + request, capture_output=True, text=True, timeout=600)
    if p.returncode != 0 and not (out / "meta.json").exists():
        # `make all` failed on another part of the tree; the runner's part can still be checked
        p = subprocess.run(make + ["run-suite-only"] + request, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert sorted((r["workload"], r["allocator"]) for r in rows) == [
        ("larson", "mimalloc"), ("larson", "system"), ("tiny_hot", "mimalloc"), ("tiny_hot", "system")]
    assert all(r["status"] == "ok" for r in rows), [r["error"] for r in rows]
    assert f"results: {out}" in p.stdout


def test_hakmem_before_builds_a_commits_library(root, tmp_path):
    if subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git work tree: make hakmem-before needs the repository's history")
    build = tmp_path / "b"
    _make(root, "hakmem-before", "REV=HEAD", f"BUILD={build}")
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert (build / "lib" / "libhakmem_before.so").stat().st_size > 0
    assert (build / "lib" / "libhakmem_before.commit").read_text() == head
    assert not (build / "hakmem-before-src").exists()
    for rev, says in (("", "name the commit to build"), ("REV=no-such-commit", "is not a commit of this repository")):
        p = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(root), "hakmem-before", f"BUILD={build}",
                            *([rev] if rev else [])], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0 and says in p.stderr, p.stderr


def test_hakmem_tests_rebuild_when_a_test_header_changes(root):
    # bug: only hak_test.h was a prerequisite of hakmem's C tests, so a change
    # to whale_test.h left the whale tests built from the old header
    target = "build/hakmem-tests/test_whale_keep"
    if subprocess.run(["make", "-q", "-C", str(root), target], capture_output=True).returncode != 0:
        pytest.skip(f"{target} is not built and up to date (make test builds it first)")
    out = _make(root, "-n", "-W", "allocators/hakmem/tests/whale_test.h", target)
    assert "test_whale_keep.c" in out, out
