"""Unit checks of workloads/common (histogram, JSON writer, random streams, touch, queue), in C."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def test_common_library_selftest(root, tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc, "no C compiler found"
    exe = tmp_path / "common_selftest"
    sources = sorted(str(p) for p in (root / "workloads" / "common").glob("*.c"))
    build = subprocess.run([cc, "-O1", "-g", "-std=gnu11", "-pthread", "-Wall", "-Wextra", "-Werror",
                            "-Wno-unused-parameter", f"-I{root / 'workloads' / 'common'}", "-o", str(exe),
                            str(Path(__file__).with_name("common_selftest.c")), *sources, "-ldl", "-lm"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr
