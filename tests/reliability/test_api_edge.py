"""The malloc family's edge cases: glibc's documented answers, and hakmem's.

api_edge.c holds the table (case, glibc 2.36's outcome). The glibc build
proves the table; the hakmem builds (malloc exports, and the hak_ API under
ASan) must print the very same lines.
"""
from __future__ import annotations

from .relutil import SANITIZER_ENV, assert_sanitizer_clean, binary, run


def check_edge_run(rel: str, proc) -> list[str]:
    """The output lines of a run of the edge-case table; fails listing the mismatches."""
    bad = [line for line in proc.stdout.splitlines() if "MISMATCH" in line]
    assert proc.returncode == 0 and not bad, (
        f"build/{rel} differs from glibc (exit status {proc.returncode}):\n" + "\n".join(bad)
        + f"\n{proc.stderr[-3000:]}")
    return proc.stdout.splitlines()


def edge_lines(rel: str) -> list[str]:
    return check_edge_run(rel, run([binary(rel)], timeout=60))


def test_table_is_glibcs_behaviour():
    lines = edge_lines("reliability/api_edge_system")
    assert lines[-1].startswith("api_edge: 0 of ")
    assert any(line.startswith("calloc(2^63, 2): NULL errno=ENOMEM") for line in lines)


def test_hakmem_malloc_exports_agree_with_glibc():
    system = edge_lines("reliability/api_edge_system")
    hakmem = edge_lines("reliability/api_edge_hakmem")
    assert hakmem == system


def test_hakmem_api_under_asan_agrees_with_glibc():
    system = edge_lines("reliability/api_edge_system")
    proc = run([binary("asan/api_edge")], timeout=120, env=SANITIZER_ENV)
    assert check_edge_run("asan/api_edge", proc) == system
    assert_sanitizer_clean(proc, "api_edge (hak_ API, ASan)")
