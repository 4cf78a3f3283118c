"""Fixtures for the analysis tests: synthetic result directories (analysis_synth.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import analysis_synth  # noqa: E402


@pytest.fixture
def synth():
    return analysis_synth


@pytest.fixture
def full_dir(tmp_path) -> Path:
    """Every figure's data: two workloads, two thread counts, timing stats, a learner trace."""
    return analysis_synth.write_dir(tmp_path / "full", analysis_synth.matrix(), trace=analysis_synth.learn_trace())
