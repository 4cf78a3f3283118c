"""bench.toml validation: every message names the file, the line and the key."""
from __future__ import annotations

import os
import subprocess

import pytest

import bench_config
from runner_helpers import BENCH_TOML, PYTHON, run_suite


def _error(tmp_path, text: str) -> str:
    p = tmp_path / "bench.toml"
    p.write_text(text)
    with pytest.raises(bench_config.ConfigError) as e:
        bench_config.load(p)
    return str(e.value)


def test_repository_bench_toml_loads(bench_config):
    assert {"quick", "default", "paper"} <= set(bench_config.suites)
    assert {"small", "classic"} <= set(bench_config.larson_profiles)
    assert bench_config.larson_profiles["small"].args == "2 8 128 1024 1 12345 T"
    assert bench_config.larson_profiles["classic"].args == "5 8 1000 5000 100 4141 T"
    for v in bench_config.variants.values():
        assert v.allocator in bench_config.allocators


def test_syntax_error_names_line_and_key(tmp_path):
    msg = _error(tmp_path, '[workloads.a]\nprogram = "x"\nargs = [1,\n\n[suites.s]\n')
    assert "bench.toml:3:" in msg or "bench.toml:5:" in msg
    msg = _error(tmp_path, '[workloads.a]\nprogram = x\n')
    assert "bench.toml:2:" in msg and "'program'" in msg


def test_unknown_key_names_key_and_line(tmp_path):
    msg = _error(tmp_path, '[workloads.a]\nprogram = "x"\n\narg = ["1"]\n')
    assert "bench.toml:4:" in msg and "workloads.a.arg" in msg and "unknown key 'arg'" in msg


def test_wrong_type_and_value(tmp_path):
    msg = _error(tmp_path, '[allocators.a]\nbuilt_here = "yes"\n')
    assert "bench.toml:2:" in msg and "built_here" in msg
    msg = _error(tmp_path, '[workloads.a]\nprogram = "x"\nlength = "minutes"\n')
    assert "bench.toml:3:" in msg and "'minutes'" in msg and "seconds" in msg


def test_references_are_checked(tmp_path):
    msg = _error(tmp_path, '[workloads.a]\nprogram = "x"\n[suites.s]\nworkloads = ["a", "b"]\n')
    assert "bench.toml:4:" in msg and "unknown workload 'b'" in msg and "known: a" in msg
    msg = _error(tmp_path, '[allocators.a]\n[variants.v]\nallocator = "zz"\n')
    assert "bench.toml:3:" in msg and "unknown allocator 'zz'" in msg


def test_make_cli_prints_build_variables(root):
    out = subprocess.run([PYTHON, str(root / "runners" / "bench_config.py"), "--make",
                          str(root / "bench.toml")], capture_output=True, text=True, check=True).stdout
    assert "BENCH_ALLOCATORS := system mimalloc" in out and "BUILT_HERE_hakmem := yes" in out


def test_runner_rejects_malformed_config_before_running(tree):
    (tree / "bench.toml").write_text(BENCH_TOML.replace('program = "fake"', 'program = fake', 1))
    p = run_suite(tree)
    assert p.returncode == 2 and "bench.toml:" in p.stderr and "malformed TOML" in p.stderr
    assert not (tree / "out").exists()


@pytest.mark.parametrize("option,value,known", [
    ("--allocators", "nosuch", "sysa, mima, hak, wrong"),
    ("--workloads", "nosuch", "ok, timed"),
    ("--suite", "nosuch", "basic"),
    ("--variants", "nosuch", "v1, v2"),
    ("--larson-profile", "nosuch", "small"),
])
def test_unknown_names_list_the_known_ones(tree, option, value, known):
    p = run_suite(tree, option, value)
    assert p.returncode == 2
    assert f"'{value}'" in p.stderr and known in p.stderr
    assert not (tree / "out" / "runs.jsonl").exists()


def test_unbuilt_allocator_built_here_is_left_out_unless_named(tree):
    (tree / "bin" / "hakmem" / "fake").unlink()
    p = run_suite(tree, "--workloads", "ok", "--threads", "1", "--reps", "1", "--warmup", "0")
    assert p.returncode == 0, p.stderr
    assert "hak" in p.stderr and "left out" in p.stderr
    p = run_suite(tree, "--allocators", "hak", out="out2")
    assert p.returncode == 2 and "not built" in p.stderr and "make" in p.stderr



def test_program_older_than_its_sources_is_refused(tree):
    # run-suite-only does not build: a program made before a change to its
    # sources would be measured as the new code
    (tree / "Makefile").write_text("bin/hakmem/fake: fake.c\n\tcp $@ $@.tmp && mv $@.tmp $@\n")
    (tree / "fake.c").write_text("/* the program's source */\n")
    program = tree / "bin" / "hakmem" / "fake"
    os.utime(program, (1_000_000_000, 1_000_000_000))
    p = run_suite(tree, "--allocators", "hak", "--workloads", "ok", "--threads", "1", "--reps", "1")
    assert p.returncode == 2
    assert "bin/hakmem/fake: older than its sources" in p.stderr and "make all" in p.stderr
    assert not (tree / "out" / "runs.jsonl").exists()
    os.utime(program)  # built after the change: runs
    p = run_suite(tree, "--allocators", "hak", "--workloads", "ok", "--threads", "1", "--reps", "1")
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("setting,package,library", [
    ('package = "libmimalloc-dev"\npreload = "lib/libnosuch.so.2"', "libmimalloc-dev", "libnosuch.so.2"),
    ('package = "libnosuch-dev"\nlink = "-lhakmem_bench_nosuch -lm"', "libnosuch-dev",
     "libhakmem_bench_nosuch.so"),
])
def test_missing_library_names_the_package(tree, setting, package, library):
    (tree / "bench.toml").write_text(BENCH_TOML.replace('package = "libmimalloc-dev"', setting))
    p = run_suite(tree, "--allocators", "mima")
    assert p.returncode == 2 and package in p.stderr and library in p.stderr
