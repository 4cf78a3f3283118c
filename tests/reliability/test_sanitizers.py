"""Sanitizer builds: hakmem through its hak_ API, and the threaded workloads.

ASan+UBSan and TSan own malloc, so:
  - build/<san>/hakmem-tests/<test> is one of hakmem's own C unit tests with
    its malloc calls renamed to hak_ calls (hak_api_remap.h), on hakmem's core
    compiled with the sanitizer;
  - build/<san>/stress is the stress program calling hak_malloc & co. on
    hakmem's core compiled with the sanitizer: the sanitizer watches hakmem;
  - build/<san>/wl/<program> is a workload on the sanitizer's own malloc: the
    sanitizer watches the workloads' harness code (threads, queues, timing).
Short runs in `make test`; `make check-asan` / `make check-tsan` set
RELIABILITY_FULL=1 for the full lengths (16 threads for 60 s of stress).
"""
from __future__ import annotations

import tomllib

import pytest

from .relutil import (FULL, ROOT, SANITIZER_ENV, assert_sanitizer_clean, binary, last_json, run,
                      tsan_prefix)

SANITIZERS = ("asan", "tsan")
# Programs of bench.toml that start threads (REL_SAN_WORKLOADS in mk/reliability.mk).
THREADED_PROGRAMS = ("larson", "mid_mt", "cross_thread", "cache_scratch")
STRESS = {True: (16, 60), False: (4, 5)}  # full?: (threads, seconds)


# Unit tests that cannot mean anything under a sanitizer, with the reason.
UNIT_TESTS_SKIPPED = {
    ("tsan", "test_memory"): "it measures RSS, which ThreadSanitizer's shadow memory inflates",
    ("tsan", "test_threads"): "its fork test starts a thread in the child of a multithreaded "
                              "fork, which ThreadSanitizer cannot follow ('dup thread with used "
                              "id'); the stress program covers remote frees and thread exits",
    ("asan", "test_threads"): "its fork test can hang in the child inside ASan's own allocator "
                              "(gcc 12's libasan does not lock it around fork: the child blocks "
                              "in SizeClassAllocator64LocalCache::Refill); the stress program "
                              "covers remote frees and thread exits",
}
UNIT_TESTS = sorted(p.stem for p in (ROOT / "allocators" / "hakmem" / "tests").glob("test_*.c"))


def prefix(san: str) -> list[str]:
    return tsan_prefix() if san == "tsan" else []


@pytest.mark.slow
@pytest.mark.parametrize("san", SANITIZERS)
@pytest.mark.parametrize("test", UNIT_TESTS)
def test_hakmem_unit_test_under_sanitizer(san, test):
    if (san, test) in UNIT_TESTS_SKIPPED:
        pytest.skip(f"{test} under {san}: {UNIT_TESTS_SKIPPED[san, test]}")
    exe = binary(f"{san}/hakmem-tests/{test}")
    proc = run(prefix(san) + [exe], timeout=300, env=SANITIZER_ENV)
    assert_sanitizer_clean(proc, f"hakmem's {test} under {san}")


@pytest.mark.slow
@pytest.mark.parametrize("san", SANITIZERS)
def test_stress_under_sanitizer(san):
    threads, seconds = STRESS[FULL]
    stress = binary(f"{san}/stress")
    proc = run(prefix(san) + [stress, "--threads", threads, "--seconds", seconds,
                              "--thread-ops", "3000", "--max-live-mb", "256"],
               timeout=seconds * 20 + 120, env=SANITIZER_ENV)
    assert_sanitizer_clean(proc, f"stress under {san}")
    res = last_json(proc.stdout)
    assert res["status"] == "ok" and res["route"] == "hak_ API" and res["ops"] > 0
    # The summary of the last run of each length, for docs/RELIABILITY.md's figures.
    (stress.parent / f"stress-{'full' if FULL else 'short'}.json").write_text(proc.stdout.splitlines()[-1] + "\n")


def workload_cases() -> list[tuple[str, str, list[str]]]:
    """(workload, program, args): bench.toml's quick-suite runs of the threaded programs."""
    cfg = tomllib.loads((ROOT / "bench.toml").read_text())
    quick_args = cfg.get("suites", {}).get("quick", {}).get("args", {})
    cases = []
    for name, wl in cfg.get("workloads", {}).items():
        if wl["program"] not in THREADED_PROGRAMS:
            continue
        args = [str(a) for a in wl.get("args", []) + quick_args.get(name, [])]
        if wl.get("length") == "seconds":
            args += ["--seconds", "1" if FULL else "0.3"]
        if not FULL and "--ops" in args:
            i = len(args) - 1 - args[::-1].index("--ops")
            args[i + 1] = str(max(1000, int(args[i + 1]) // 10))
        cases.append((name, wl["program"], args))
    return cases


@pytest.mark.parametrize("san", SANITIZERS)
@pytest.mark.parametrize("name,program,args", [pytest.param(*c, id=c[0]) for c in workload_cases()])
def test_threaded_workload_under_sanitizer(san, name, program, args):
    exe = binary(f"{san}/wl/{program}")
    threads = "4" if FULL else "2"
    proc = run(prefix(san) + [exe, *args, "--threads", threads], timeout=600, env=SANITIZER_ENV)
    assert_sanitizer_clean(proc, f"workload {name} under {san}")
    assert last_json(proc.stdout)["status"] == "ok"
