"""Bad command lines exit 2 with one sentence; running out of memory is a failed result, exit 3."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench_config import load

_CFG = load(Path(__file__).resolve().parents[2] / "bench.toml")
PROGRAMS = _CFG.programs()

# (program, arguments, words the message must contain)
BAD = [
    ("tiny_hot", ["--bogus", "1"], ["--bogus"]),
    ("tiny_hot", ["--size", "2000"], ["--size", "8..1024"]),
    ("tiny_hot", ["--size", "4"], ["--size", "8..1024"]),
    ("tiny_hot", ["--ops", "12x"], ["--ops", "not a number"]),
    ("tiny_hot", ["--ops", "1.5"], ["--ops", "integer"]),
    ("tiny_hot", ["--ops"], ["--ops", "needs a value"]),
    ("tiny_hot", ["--seed", "abc"], ["--seed"]),
    ("mixed", ["--min", "100", "--max", "10"], ["--min", "--max"]),
    ("larson", ["--min", "500", "--max", "100"], ["--min", "--max"]),
    ("larson", ["2", "8", "128"], ["7", "positional"]),
    ("larson", ["--seconds", "0"], ["--seconds"]),
    ("scenario", ["--scenario", "xml"], ["--scenario", "json|mir|vm"]),
    ("fragmentation", ["--min2", "9000", "--max2", "100"], ["--min2", "--max2"]),
    ("realloc", ["--start", "4096", "--max", "1024"], ["--start", "--max"]),
    ("large", ["--min-mb", "8", "--max-mb", "2"], ["--min-mb", "--max-mb"]),
    ("large", ["--max-mb", "1048576", "--live", "4096"], ["--max-mb", "--live"]),
    ("mid_mt", ["--remote-pct", "101"], ["--remote-pct", "0..100"]),
    ("cross_thread", ["positional"], ["positional", "--threads"]),
]


@pytest.mark.parametrize("program,args,words", BAD, ids=[f"{p}:{' '.join(a)}" for p, a, _ in BAD])
def test_bad_argument_exits_2_with_one_sentence(workloads, program, args, words):
    run = workloads.run("system", program, args)
    assert run.returncode == 2, f"{program} {args}: exit {run.returncode}, stderr {run.stderr!r}"
    msg = run.stderr.strip()
    assert msg.count("\n") == 0, f"expected one line on stderr, got: {msg!r}"
    assert msg.startswith(f"{program}: ")
    for w in words:
        assert w in msg, f"message {msg!r} does not name {w!r}"
    assert run.stdout == "", "no result line for a bad command line"


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("threads", ["0", "1025", "two"])
def test_bad_thread_count_names_threads_and_range(workloads, program, threads):
    run = workloads.run("system", program, ["--threads", threads])
    assert run.returncode == 2
    assert "--threads" in run.stderr and "1..1024" in run.stderr
    assert run.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("program", PROGRAMS)
def test_unknown_option_names_it(workloads, program):
    run = workloads.run("system", program, ["--no-such-option=3"])
    assert run.returncode == 2
    assert "--no-such-option" in run.stderr


@pytest.mark.parametrize("allocator", list(_CFG.allocators))
def test_out_of_memory_is_a_failed_result_not_a_crash(workloads, allocator):
    run = workloads.run(allocator, "large", ["--limit-as-mb", "300", "--min-mb", "64", "--max-mb", "64",
                                             "--live", "8", "--ops", "10"])
    assert run.returncode == 3, f"exit {run.returncode}; stderr {run.stderr.strip()[-300:]}"
    assert run.result is not None, f"no result line: {run.stdout[-300:]!r}"
    assert run.result["status"] == "failed"
    assert run.result["error"].startswith("out of memory: malloc(67108864) returned NULL")
    assert run.result["workload"] == "large"


def test_out_of_memory_in_a_worker_thread_is_reported_once(workloads):
    run = workloads.run("system", "large", ["--limit-as-mb", "400", "--min-mb", "64", "--max-mb", "64",
                                            "--live", "8", "--ops", "40", "--threads", "4"])
    assert run.returncode == 3
    assert run.stdout.strip().count("\n") == 0, "exactly one result line"
    assert run.result["status"] == "failed"


def test_allocator_packages_match_bench_toml(root, bench_config):
    """mk/deps.mk installs exactly the packages of bench.toml's allocators that come from Debian."""
    text = (root / "mk" / "deps.mk").read_text()
    m = re.search(r"^DEB_PACKAGES_ALLOCATORS\s*:?=\s*(.*)$", text, re.M)
    assert m, "mk/deps.mk has no DEB_PACKAGES_ALLOCATORS line"
    listed = set(m.group(1).split())
    wanted = {a.package for n, a in bench_config.allocators.items()
              if n != "system" and not a.built_here and a.package}
    assert listed == wanted, f"mk/deps.mk lists {sorted(listed)}, bench.toml needs {sorted(wanted)}"
