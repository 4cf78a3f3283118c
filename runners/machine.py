"""What meta.json records about the machine, the tree and the tools.

Each probe returns "" (or a neutral value) rather than raising when a tool
is missing: a result directory must never fail to be written because, say,
git is absent. Nothing here affects what is run.
"""
from __future__ import annotations

import os
import platform
import socket
import subprocess
from pathlib import Path


def _out(argv: list[str], cwd: Path | None = None, timeout: float = 20) -> str:
    """stdout of argv, stripped; "" if it cannot run or fails."""
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return ""
    return p.stdout.strip() if p.returncode == 0 else ""


def git_info(root: Path) -> dict:
    """Revision and whether tracked files differ from it."""
    rev = _out(["git", "rev-parse", "HEAD"], cwd=root)
    status = _out(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root)
    return {"revision": rev, "dirty": bool(status) if rev else None}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def compiler(cc: str = "gcc") -> str:
    lines = _out([cc, "--version"]).splitlines()
    return lines[0] if lines else ""


def make_variable(root: Path, name: str) -> str:
    """The value of a make variable, through mk/suite.mk's print-% rule."""
    return _out(["make", "-s", "--no-print-directory", "-C", str(root), f"print-{name}"])


def package_version(package: str) -> str:
    if not package:
        return ""
    return _out(["dpkg-query", "-W", "-f", "${Version}", package])


def machine_info(root: Path, cflags: str | None) -> dict:
    """Host, CPU, cores, kernel, compiler and workload flags."""
    return {
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": " ".join(platform.uname()[2:4]),
        "compiler": compiler(os.environ.get("CC", "gcc")),
        "cflags": cflags if cflags is not None else make_variable(root, "WL_CFLAGS"),
        "python": platform.python_version(),
    }
