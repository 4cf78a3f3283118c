"""Fixtures for the runner's tests: the fake workload and a tree with a bench.toml for it."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runner_helpers import HERE, make_tree


@pytest.fixture(scope="session")
def fake_program(tmp_path_factory) -> Path:
    """fake_workload.c compiled once per session."""
    out = tmp_path_factory.mktemp("fake") / "fake"
    subprocess.run(["gcc", "-O1", "-o", str(out), str(HERE / "fake_workload.c")], check=True)
    return out


@pytest.fixture
def tree(tmp_path, fake_program) -> Path:
    """tmp_path with bench.toml and bin/{glibc,mimalloc,hakmem}/fake."""
    return make_tree(tmp_path, fake_program)
