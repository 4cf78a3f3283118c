"""The libFuzzer target on hakmem's hak_ API: the committed corpus replays
clean, and a short fuzzing run (FUZZ_SECONDS, default 20 s here; `make fuzz
FUZZ_SECONDS=N` for long runs) finds nothing.
"""
from __future__ import annotations

import os
import re
import shutil

import pytest

from .relutil import FULL, ROOT, SANITIZER_ENV, binary, run

CORPUS = ROOT / "tests" / "fuzz" / "corpus"
SHORT_SECONDS = int(os.environ.get("FUZZ_SECONDS", "20"))


def test_corpus_is_committed():
    files = [p for p in CORPUS.iterdir() if p.is_file()]
    assert len(files) >= 5 and sum(p.stat().st_size for p in files) < 256 * 1024


def test_corpus_replays_clean():
    proc = run([binary("fuzz/fuzz_hakmem"), "-runs=0", CORPUS], timeout=300, env=SANITIZER_ENV)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "Done" in proc.stderr


@pytest.mark.slow
def test_short_fuzz_run_finds_nothing(tmp_path):
    fuzz = binary("fuzz/fuzz_hakmem")
    work = tmp_path / "corpus"
    shutil.copytree(CORPUS, work)
    seconds = 120 if FULL else SHORT_SECONDS
    proc = run([fuzz, f"-max_total_time={seconds}", "-print_final_stats=1", "-rss_limit_mb=4096",
                f"-artifact_prefix={tmp_path}/", work], timeout=seconds * 4 + 120,
               env=SANITIZER_ENV)
    crashes = [p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "leak-", "oom-", "timeout-"))]
    assert proc.returncode == 0 and not crashes, (
        f"the fuzzer found a failing input {crashes} (in {tmp_path}); replay it with "
        f"build/fuzz/fuzz_hakmem <file>\n{proc.stderr[-5000:]}")
    execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr)
    assert execs and int(execs.group(1)) > 0
