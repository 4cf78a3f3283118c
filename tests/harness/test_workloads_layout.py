"""What must not differ between one allocator's build of a workload and another's
but the allocator: the workloads' code starts on cache lines in every binary
(mk/workloads.mk, WL_ALIGN), so a hot loop's place does not depend on what
was linked before it (workloads/README.md)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

LINE = 64


def text_symbols(exe) -> dict[str, int]:
    out = subprocess.run(["nm", "--defined-only", str(exe)], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "Tt":
            syms[parts[2]] = int(parts[0], 16)
    return syms


def test_workload_code_starts_on_cache_lines_in_every_build(bench_config, build_dir):
    if shutil.which("nm") is None:
        pytest.fail("nm is not installed: make deps installs binutils")
    programs = sorted({w.program for w in bench_config.workloads.values()})
    checked = 0
    for alloc in bench_config.allocators:
        for prog in programs:
            exe = build_dir / alloc / prog
            if not exe.exists():
                continue
            main = text_symbols(exe).get("main")
            assert main is not None, f"{exe}: no main symbol"
            assert main % LINE == 0, f"{exe}: main at {main:#x}, not on a {LINE}-byte line"
            checked += 1
    assert checked >= len(programs), "no workload binaries found: run make first"
