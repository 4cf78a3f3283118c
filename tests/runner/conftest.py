"""Fixtures for the runner's tests: the fake workload and a tree with a bench.toml for it."""
from __future__ import annotations

from pathlib import Path

import pytest

from fake_workload import build_fake_workload
from runner_helpers import make_tree


@pytest.fixture(scope="session")
def fake_program(tmp_path_factory) -> Path:
    """tests/fixtures/fake_workload.c compiled once per session."""
    return build_fake_workload(tmp_path_factory.mktemp("fake"))


@pytest.fixture
def tree(tmp_path, fake_program) -> Path:
    """tmp_path with bench.toml and bin/{glibc,mimalloc,hakmem}/fake."""
    return make_tree(tmp_path, fake_program)
