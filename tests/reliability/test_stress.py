"""The stress program: a clean run on hakmem, and proof that its checks bite.

`make test` runs the 10-second version (4 threads); `make stress THREADS=16
DURATION=60` is the release bar.
"""
from __future__ import annotations

import pytest

from .relutil import binary, last_json, run

SHORT_THREADS, SHORT_SECONDS = 4, 10


def check_clean(proc, threads: int) -> dict:
    assert proc.returncode == 0, f"stress failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    res = last_json(proc.stdout)
    assert res["status"] == "ok" and res["corruptions"] == 0 and res["failures"] == 0
    assert res["ops"] > 0 and res["free"] > 0 and res["remote_free"] > 0
    assert res["realloc"] > 0 and res["aligned"] > 0 and res["calloc"] > 0
    # Threads were created (and exited) throughout, not only at the start.
    assert res["threads_started"] > threads
    return res


@pytest.mark.slow
def test_stress_on_hakmem_10s():
    stress = binary("reliability/stress_hakmem")
    proc = run([stress, "--threads", SHORT_THREADS, "--seconds", SHORT_SECONDS, "--thread-ops",
                "5000"], timeout=SHORT_SECONDS * 12 + 60)
    res = check_clean(proc, SHORT_THREADS)
    assert res["allocator"].startswith("hakmem"), f"stress was not served by hakmem: {res}"
    assert res["foreign_requests"] == 0


def test_stress_on_glibc_is_clean():
    """The program itself is sound: glibc passes it."""
    proc = run([binary("reliability/stress_system"), "--threads", 4, "--seconds", 2,
                "--thread-ops", "2000"], timeout=120)
    assert check_clean(proc, 4)["allocator"] == "system"


def test_stress_detects_corruption():
    """A flipped byte in a live block fails the run, naming the block."""
    proc = run([binary("reliability/stress_system"), "--threads", 2, "--seconds", 2,
                "--thread-ops", "500", "--inject-corruption"], timeout=120)
    assert proc.returncode == 1
    assert "stress: corruption" in proc.stderr
    res = last_json(proc.stdout)
    assert res["status"] == "failed" and res["corruptions"] >= 1


def test_stress_bad_arguments():
    stress = binary("reliability/stress_system")
    for args, word in ((["--threads", "0"], "--threads"), (["--seconds", "x"], "--seconds"),
                       (["--frobnicate"], "--frobnicate")):
        proc = run([stress, *args], timeout=30)
        assert proc.returncode == 2, args
        assert word in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
