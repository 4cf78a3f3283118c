"""Every workload under every allocator: a valid result line, the right allocator, same seed same checksum."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench_config import load

_CFG = load(Path(__file__).resolve().parents[2] / "bench.toml")
ALLOCATORS = list(_CFG.allocators)
WORKLOADS = list(_CFG.workloads)
PROGRAMS = _CFG.programs()


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_workload_row_is_cut_short_in_tests(workloads, workload):
    """A new row that reuses a program with long args (realloc_big ran its
    full 100,000 ops of 8 MiB buffers in every test, a minute on a loaded
    machine) still runs a few hundredths of a second here."""
    short = workloads.short_args(workload)
    assert short, f"{workload}: no entry for it or its program in SHORT (tests/harness/conftest.py)"
    assert workloads.args_for(workload)[-len(short):] == short


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("allocator", ALLOCATORS)
def test_short_run_prints_a_valid_result_line(workloads, check_result, allocator, workload, threads):
    run = workloads.run_workload(allocator, workload, ["--threads", str(threads)])
    r = check_result(run, workload, threads)
    for opt in ("threads", "seed"):
        assert opt in r["params"], f"params lacks {opt}"
    assert run.stdout.strip().count("\n") == 0, "diagnostics must go to stderr, not stdout"


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("allocator", ALLOCATORS)
def test_each_build_is_served_by_its_own_allocator(workloads, bench_config, allocator, program):
    """The allocator-identity check: build/<allocator>/<program> reports bench.toml's identity."""
    name = next(n for n, w in bench_config.workloads.items() if w.program == program)
    run = workloads.run_workload(allocator, name, ["--threads", "1"])
    assert run.result is not None, f"{program}: no result line; stderr: {run.stderr.strip()}"
    want = bench_config.allocators[allocator].identity
    assert run.result["allocator"] == want, (
        f"build/{allocator}/{program} is served by {run.result['allocator']} "
        f"({run.result['allocator_object']}), not {want}")


@pytest.mark.parametrize("allocator", [a for a in ALLOCATORS if _CFG.allocators[a].preload])
def test_a_preloaded_allocator_is_detected(workloads, bench_config, root, allocator):
    a = bench_config.allocators[allocator]
    lib = Path(a.preload) if Path(a.preload).is_absolute() else root / a.preload
    if not lib.exists():
        pytest.skip(f"{allocator}: preload library {a.preload} does not exist")
    run = workloads.run("system", "tiny_hot", ["--ops", "1000"], env={"LD_PRELOAD": str(lib)})
    assert run.returncode == 0, run.stderr
    assert run.result["allocator"] == a.identity
    assert run.result["allocator_object"] == lib.name


def test_system_build_without_preload_is_glibc(workloads):
    run = workloads.run("system", "tiny_hot", ["--ops", "1000"])
    assert run.result["allocator"] == "glibc"
    assert run.result["allocator_object"].startswith("libc.so")


@pytest.mark.parametrize("workload", WORKLOADS)
def test_same_seed_same_checksum_on_every_allocator(workloads, workload):
    """The checksum depends on seed and parameters only: not on the allocator,
    the repetition or the scheduling of threads."""
    runs = {}
    for allocator in ALLOCATORS:
        try:
            runs[allocator] = workloads.run_workload(allocator, workload, ["--threads", "2", "--seed", "7"])
        except pytest.skip.Exception:
            continue
    assert "system" in runs, "build/system programs are missing"
    again = workloads.run("system", _CFG.workloads[workload].program,
                          [*workloads.args_for(workload), "--threads", "2", "--seed", "7"], env={})
    sums = {a: r.result["checksum"] for a, r in runs.items()}
    assert len(set(sums.values())) == 1, f"{workload}: checksums differ across allocators: {sums}"
    assert again.result["checksum"] == sums["system"], f"{workload}: a repetition changed the checksum"
    other = workloads.run_workload("system", workload, ["--threads", "2", "--seed", "8"])
    assert other.result["checksum"] != sums["system"], f"{workload}: --seed does not change the work"


def test_larson_positional_form_equals_named_options(workloads):
    pos = workloads.run("system", "larson", ["0.05", "8", "128", "300", "2", "99", "2"])
    named = workloads.run("system", "larson", ["--seconds", "0.05", "--min", "8", "--max", "128",
                                               "--chunks", "300", "--rounds", "2", "--seed", "99",
                                               "--threads", "2"])
    assert pos.returncode == 0 and named.returncode == 0, pos.stderr + named.stderr
    assert pos.result["params"] == named.result["params"]
    assert pos.result["checksum"] == named.result["checksum"]


def test_scenario_reports_its_scenario_name(workloads):
    for name in ("json", "mir", "vm"):
        run = workloads.run("system", "scenario", ["--scenario", name, "--ops", "10"])
        assert run.result["workload"] == name
        assert run.result["program"] == "scenario"


def test_fragmentation_reports_rss_after_the_frees(workloads):
    r = workloads.run_workload("system", "fragmentation", ["--threads", "1"]).result
    m = r["metrics"]
    for key in ("rss_after_build_kb", "rss_after_free_kb", "rss_final_kb", "live_after_free_bytes"):
        assert key in m, f"fragmentation metrics lack {key}"
    assert m["rss_after_free_kb"] > 0 and m["rss_final_kb"] > 0
    assert m["live_after_free_bytes"] < m["live_after_build_bytes"]


def test_large_reports_its_resident_size(workloads):
    r = workloads.run_workload("system", "large", ["--threads", "1"]).result
    assert r["metrics"]["rss_end_kb"] > 0


@pytest.mark.parametrize("program", PROGRAMS)
def test_help_lists_every_option(workloads, program):
    run = workloads.run("system", program, ["--help"])
    assert run.returncode == 0
    assert run.stdout.startswith(f"usage: {program}")
    for opt in ("--threads", "--seed", "--limit-as-mb", "--help"):
        assert opt in run.stdout
    assert ("--ops" in run.stdout) or ("--seconds" in run.stdout)


@pytest.mark.parametrize("program", PROGRAMS)
def test_params_hold_every_option_of_help(workloads, bench_config, program):
    """The result line's params record every option's effective value, defaults included."""
    import re
    helped = set(re.findall(r"^  --([a-z0-9-]+)", workloads.run("system", program, ["--help"]).stdout, re.M))
    helped.discard("help")
    name = next(n for n, w in bench_config.workloads.items() if w.program == program)
    params = workloads.run_workload("system", name, ["--threads", "1"]).result["params"]
    assert set(params) == helped
