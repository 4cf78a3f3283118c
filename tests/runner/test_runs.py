"""Rows of a suite: statuses of faulty runs, the recorded columns, runs.csv, meta.json."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess

import pytest

from runner_helpers import PYTHON, QUICK_ANALYZE, make_tree, pairs, rows, run_suite
from records import csv_row

FAULTS = "ok,crash,hang,silent,fail"


@pytest.fixture(scope="module")
def faults(tmp_path_factory, fake_program):
    """One run of each faulty workload, for a right and a wrong allocator identity."""
    tree = make_tree(tmp_path_factory.mktemp("faults"), fake_program)
    p = run_suite(tree, "--allocators", "sysa,wrong", "--workloads", FAULTS, "--threads", "1",
                  "--reps", "1", "--timeout", "1", "--warmup", "0")
    assert p.returncode == 0, p.stderr
    return tree / "out", p


def test_fault_statuses(faults):
    result, _ = faults
    by = {(r["workload"], r["allocator"]): r for r in rows(result)}
    assert by["ok", "sysa"]["status"] == "ok" and by["ok", "sysa"]["error"] == ""
    assert by["crash", "sysa"]["status"] == "crashed:SIGSEGV"
    assert by["hang", "sysa"]["status"] == "timeout"
    assert by["silent", "sysa"]["status"] == "failed" and "no result line" in by["silent", "sysa"]["error"]
    assert by["fail", "sysa"]["status"] == "failed" and by["fail", "sysa"]["exit_code"] == 3
    assert "out of memory" in by["fail", "sysa"]["error"]
    wrong = by["ok", "wrong"]
    assert wrong["status"] == "failed" and wrong["error"].startswith("wrong allocator")
    assert wrong["detected_allocator"] == "glibc"


def test_ok_row_columns(faults):
    result, _ = faults
    row = next(r for r in rows(result) if r["workload"] == "ok" and r["allocator"] == "sysa")
    for key in ("workload", "allocator", "variant", "label", "threads", "rep", "order", "round", "status",
                "exit_code", "ops", "ops_per_sec", "ns_per_op", "seconds", "wall_s", "user_s", "sys_s",
                "max_rss_kb", "checksum", "detected_allocator", "metric", "cmd", "env"):
        assert key in row, key
    assert row["phase.alloc"] == 0.0004 and row["lat.p99"] == 30 and row["lat.p99.9"] == 40
    assert row["metric.rss_peak_kb"] == 1234 and row["ops"] == 1000
    assert 0 < row["max_rss_kb"] < 10000  # the workload's own, not the runner's
    # the scheduler's view of the run: how often it waited and was preempted
    assert isinstance(row["ctx_switches_vol"], int) and row["ctx_switches_vol"] >= 0
    assert isinstance(row["ctx_switches_invol"], int) and row["ctx_switches_invol"] >= 0
    assert row["cmd"][-2:] == ["--threads", "1"] and "--ops" in row["cmd"]
    assert (result / "logs" / f"{row['run_id']}.stderr").read_text().startswith("fake workload")


def test_csv_and_jsonl_agree(faults):
    result, _ = faults
    js = rows(result)
    with open(result / "runs.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(js)
    for j, c in zip(js, table):
        for key, value in csv_row(j).items():
            assert c[key] == ("" if value is None else str(value)), key


def test_meta_json(faults):
    result, p = faults
    meta = json.loads((result / "meta.json").read_text())
    for key in ("git", "host", "cpu_model", "cores", "kernel", "compiler", "cflags", "allocator_versions",
                "bench_toml", "command_line", "start_time", "end_time", "shuffle_seed", "matrix", "status"):
        assert key in meta, key
    assert {"revision", "dirty"} <= meta["git"].keys()
    assert meta["status"] == "complete" and meta["cflags"] == "-O2"
    assert (result / "bench.toml").read_text() == meta["bench_toml"]
    assert f"results: {result}" in p.stdout and "quick_analyze.py" in p.stdout
    assert f"shuffle seed {meta['shuffle_seed']}" in p.stdout


def test_rounds_interleave_and_seed_reproduces(tree):
    args = ("--workloads", "ok", "--allocators", "sysa,mima", "--threads", "1,2", "--reps", "3",
            "--warmup", "0", "--seed", "5")
    assert run_suite(tree, *args, out="a").returncode == 0
    assert run_suite(tree, *args, out="b").returncode == 0
    a, b = rows(tree / "a"), rows(tree / "b")
    assert pairs(a) == pairs(b) and len(a) == 12
    for r in range(3):
        assert sorted(pairs(a)[4 * r: 4 * r + 4]) == sorted(
            (w, lab, t, r) for w in ["ok"] for lab in ["sysa", "mima"] for t in [1, 2])


def test_hakmem_stats_and_variants(tree):
    p = run_suite(tree, "--allocators", "hak", "--variants", "v1,v2", "--workloads", "ok",
                  "--threads", "1", "--reps", "1")
    assert p.returncode == 0, p.stderr
    rs = {r["label"]: r for r in rows(tree / "out")}
    assert set(rs) == {"hak", "hak+v1", "hak+v2"}
    assert rs["hak+v2"]["env"]["HAKMEM_X"] == "2" and rs["hak+v2"]["variant"] == "v2"
    assert rs["hak"]["hakmem_stats"]["tiers"]["tiny"]["allocs"] == 10
    assert rs["hak"]["env"]["HAKMEM_LEARN_TRACE"].endswith(".learn.jsonl")
    with open(tree / "out" / "runs.csv", newline="") as f:
        assert next(csv.DictReader(f))["hakmem.tiers.tiny.allocs"] == "10"


def test_seconds_workloads_get_runtime(tree):
    assert run_suite(tree, "--workloads", "timed", "--allocators", "sysa", "--threads", "1",
                     "--reps", "1", "--runtime", "0.25", "--warmup", "0").returncode == 0
    assert rows(tree / "out")[0]["cmd"][-2:] == ["--seconds", "0.25"]


def test_larson_profile_substitutes_threads(tree):
    shutil.copy(tree / "bin" / "glibc" / "fake", tree / "bin" / "glibc" / "larson")
    p = run_suite(tree, "--larson-profile", "small", "--allocators", "sysa", "--threads", "1,4",
                  "--reps", "1", "--warmup", "0")
    assert p.returncode == 0, p.stderr
    cmds = sorted(r["cmd"][1:] for r in rows(tree / "out"))
    assert cmds == [["2", "8", "128", "1024", "1", "12345", "1"], ["2", "8", "128", "1024", "1", "12345", "4"]]
    assert {r["workload"] for r in rows(tree / "out")} == {"larson:small"}


def test_pin_prefixes_taskset(tree):
    if not shutil.which("taskset"):
        pytest.skip("taskset (util-linux) is not installed")
    assert run_suite(tree, "--workloads", "ok", "--allocators", "sysa", "--threads", "1", "--reps", "1",
                     "--pin", "0", "--warmup", "0").returncode == 0
    row = rows(tree / "out")[0]
    assert row["cmd"][:3] == ["taskset", "-c", "0"] and row["status"] == "ok"


def test_hyperfine_timer(tree):
    if not shutil.which("hyperfine"):
        pytest.skip("hyperfine is not installed")
    p = run_suite(tree, "--workloads", "ok", "--allocators", "sysa", "--threads", "1", "--reps", "2",
                  "--timer", "hyperfine")
    assert p.returncode == 0, p.stderr
    [row] = rows(tree / "out")
    assert row["timer"] == "hyperfine" and row["status"] == "ok" and row["hf.runs"] == 2
    assert row["hf.mean_s"] > 0 and row["ops_per_sec"] == 1000000.0


def test_unwritable_out_is_reported_before_any_run(tree):
    if os.geteuid() == 0:
        target = "/proc/hakmem-bench-cannot-write-here"  # not writable even for root
    else:
        (tree / "ro").mkdir(mode=0o500)
        target = str(tree / "ro" / "out")
    p = run_suite(tree, out=None, *("--out", target))
    assert p.returncode == 2 and "cannot write the result directory" in p.stderr and "OUT=" in p.stderr
    assert "[1/" not in p.stdout


def test_existing_results_are_not_overwritten(tree):
    args = ("--workloads", "ok", "--allocators", "sysa", "--threads", "1", "--reps", "1", "--warmup", "0")
    assert run_suite(tree, *args).returncode == 0
    p = run_suite(tree, *args)
    assert p.returncode == 2 and "RESUME=" in p.stderr
    assert len(rows(tree / "out")) == 1


def test_preload_variant_runs_the_system_build(tree):
    p = run_suite(tree, "--allocators", "sysa", "--variants", "pre", "--workloads", "ok")
    assert p.returncode == 2 and "lib/libempty.so" in p.stderr  # not there yet
    (tree / "lib").mkdir()
    (tree / "empty.c").write_text("int hakmem_bench_empty;\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tree / "lib" / "libempty.so"), str(tree / "empty.c")],
                   check=True)
    p = run_suite(tree, "--allocators", "sysa", "--variants", "pre", "--workloads", "ok", "--threads", "1",
                  "--reps", "1", "--warmup", "0")
    assert p.returncode == 0, p.stderr
    row = next(r for r in rows(tree / "out") if r["variant"] == "pre")
    assert row["label"] == "sysa+pre" and row["status"] == "ok"
    assert row["env"]["LD_PRELOAD"] == str(tree / "lib" / "libempty.so") and row["env"]["PRE"] == "yes"
    assert row["cmd"][0] == str(tree / "bin" / "glibc" / "fake")


def test_missing_variant_library_names_its_make_command(tree):
    # a library `make all` does not make (another commit's hakmem: variant
    # `before`): the error says how to make it, not "make all"
    p = run_suite(tree, "--allocators", "sysa", "--variants", "other", "--workloads", "ok")
    assert p.returncode == 2
    assert "sysa+other: its preload library lib/libother.so does not exist; make it with make other-lib REV=<commit>" \
        in p.stderr, p.stderr
    assert not (tree / "out").exists() or not rows(tree / "out")


def test_variant_library_of_another_commit_is_named_in_meta(tree):
    # an A/B directory says which commit `before` was: the file its build
    # command wrote, unless that file is older than the library
    (tree / "lib").mkdir()
    (tree / "other.c").write_text("int hakmem_bench_other;\n")
    library = tree / "lib" / "libother.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(library), str(tree / "other.c")], check=True)
    (tree / "lib" / "libother.commit").write_text("3dd295989e13597b2e2415c936f328055de435a2\n")
    args = ("--allocators", "sysa", "--variants", "other", "--workloads", "ok", "--threads", "1", "--reps", "1",
            "--warmup", "0")
    assert run_suite(tree, *args).returncode == 0
    versions = json.loads((tree / "out" / "meta.json").read_text())["allocator_versions"]
    assert versions["sysa+other"] == "3dd295989e13597b2e2415c936f328055de435a2"
    table = subprocess.run([PYTHON, str(QUICK_ANALYZE), str(tree / "out")], capture_output=True, text=True)
    assert "sysa+other: built from 3dd295989e" in table.stdout, table.stderr
    os.utime(tree / "lib" / "libother.commit", (1_000_000_000, 1_000_000_000))  # a library rebuilt since
    assert run_suite(tree, *args, out="again").returncode == 0
    versions = json.loads((tree / "again" / "meta.json").read_text())["allocator_versions"]
    assert versions["sysa+other"].startswith("unknown (") and "older than" in versions["sysa+other"]


def test_full_disk_is_reported_before_any_run(tmp_path, monkeypatch):
    import records

    monkeypatch.setattr(records.shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(10**9, 10**9, 4096))
    with pytest.raises(records.ResultDirError, match="free"):
        records.ResultDir(tmp_path / "out").prepare()


def test_progress_line_and_run_lines():
    import io

    from progress import Progress

    tty = io.StringIO()
    p = Progress(2, tty, tty=True)
    p.start("ok sysa t1 rep 0")
    p.done("ok sysa t1 rep 0", "ok")
    p.close()
    assert "\r[0/2] ok sysa t1 rep 0" in tty.getvalue() and "[1/2]" in tty.getvalue()
    assert "ETA" in tty.getvalue() and tty.getvalue().count("\n") == 1
    pipe = io.StringIO()
    p = Progress(2, pipe, tty=False)
    p.start("a")
    p.done("a", "ok", "ops_per_sec=1")
    p.done("b", "timeout")
    assert pipe.getvalue().splitlines()[0].startswith("[1/2] a ok ops_per_sec=1")
    assert len(pipe.getvalue().splitlines()) == 2 and "\r" not in pipe.getvalue()


def test_disk_full_mid_suite_keeps_rows_and_says_resume(tree, monkeypatch, capsys):
    import errno

    import records
    import run_suite as cli

    real_append, calls = records.ResultDir.append, []

    def append_then_fail(self, row):
        calls.append(row)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_append(self, row)

    monkeypatch.setattr(records.ResultDir, "append", append_then_fail)
    code = cli.main(["--config", str(tree / "bench.toml"), "--out", str(tree / "out"), "--cflags=",
                     "--progress", "runs", "--workloads", "ok", "--allocators", "sysa", "--threads", "1",
                     "--reps", "3", "--warmup", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "No space left on device" in err and f"RESUME={tree / 'out'}" in err
    assert len(rows(tree / "out")) == 1
