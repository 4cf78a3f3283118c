"""The learning layer and the per-phase profile, tested without the allocator.

Each C test under learn/ is compiled here with gcc against the layer's own
sources (src/learn/*.c, src/profile/timing.c), with stubs for the options
and the Mid tier where it needs them, and run; this file then checks the
JSON the programs write (trace lines, the "learn" and "timing" members of
the statistics file). Two more tests look at generated code: the hot-path
read of the threshold, and the profile macros in a release build. The last
ones run the real libraries when they are built.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
# learn_os.c reads the allocator's statistics: the tests use learn.c's weak default.
LEARN_SRC = sorted(str(p) for p in (SRC / "learn").glob("*.c") if p.name != "learn_os.c")
PURE_SRC = [s for s in LEARN_SRC if not s.endswith("/learn.c")]
TIMING_SRC = [str(SRC / "profile" / "timing.c")]
CFLAGS = ["-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-pthread", f"-I{SRC}"]

TRACE_EVENTS = {"start", "strategy", "state", "window", "cap", "wmax"}
STRATEGIES = {256 << 10, 512 << 10, 1 << 20, 2 << 20, 4 << 20, 8 << 20}
STATES = {"LEARN", "CANARY", "FROZEN"}

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build the tests")


def compile_c(out: Path, sources: list[str], *extra: str) -> Path:
    """Compile sources into out; fail the test with gcc's message on error."""
    cmd = ["gcc", *CFLAGS, *extra, "-o", str(out), *sources, "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
    return out


@pytest.fixture(scope="module")
def bins(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("learn-tests")
    t = HERE / "learn"
    evo = ["-DHAKMEM_FEATURE_EVOLUTION"]
    return {
        "units": compile_c(d / "units", [str(t / "test_learn_units.c"), *PURE_SRC]),
        "evolution": compile_c(d / "evolution", [str(t / "test_learn_evolution.c"), *PURE_SRC]),
        "mid": compile_c(d / "mid", [str(t / "test_learn_mid.c"), *PURE_SRC]),
        "glue": compile_c(d / "glue", [str(t / "test_learn_glue.c"), *LEARN_SRC], *evo),
        "profile": compile_c(d / "profile", [str(t / "test_profile.c"), *TIMING_SRC], "-DHAKMEM_DEBUG_TIMING"),
    }


def run(args: list, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    assert not check or r.returncode == 0, f"{args}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def read_jsonl(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines]


# --------------------------------------------------------------------------
# pure modules


def test_units_p2_elo_site_rules_json(bins, tmp_path):
    trace = tmp_path / "units.jsonl"
    run([bins["units"], trace])
    objs = read_jsonl(trace)
    assert len(objs) == 2
    assert objs[0]["event"] == 'quote" back\\slash\ttab'
    assert objs[0]["big"] == 2**64 - 1 and objs[0]["nan"] is None
    assert objs[1] == {"truncated": True}


def test_evolution_freezes_on_the_best_and_leaves_on_a_shift(bins):
    out = run([bins["evolution"]]).stdout
    assert "test_learn_evolution: ok" in out
    assert out.count("FROZEN on 1048576") >= 16 and out.count("FROZEN on 4194304") >= 16


def test_mid_cap_converges_and_wmax_canaries(bins):
    out = run([bins["mid"]]).stdout
    assert "test_learn_mid: ok" in out


# --------------------------------------------------------------------------
# the glue (learn.c) on a simulated allocator


def check_trace_line(obj: dict) -> None:
    """The documented fields of each trace event (docs/LEARNING.md)."""
    assert isinstance(obj["t"], (int, float)) and obj["t"] >= 0
    ev = obj["event"]
    assert ev in TRACE_EVENTS
    if ev in ("strategy", "state", "window"):
        for key in ("samples", "window", "p50", "p90", "elo", "cost_ns"):
            assert key in obj, (ev, key)
        assert {int(k) for k in obj["elo"]} == STRATEGIES
        assert {int(k) for k in obj["cost_ns"]} == STRATEGIES
    if ev == "strategy":
        assert obj["old"] in STRATEGIES and obj["new"] in STRATEGIES and obj["old"] != obj["new"]
        assert obj["state"] in STATES
    if ev == "state":
        assert obj["old"] in STATES and obj["new"] in STATES and obj["old"] != obj["new"]
        assert obj["reason"] and obj["strategy"] in STRATEGIES
    if ev == "window":
        assert obj["state"] in STATES and obj["strategy"] in STRATEGIES
    if ev == "cap":
        for key in ("class", "class_size", "old", "new", "hit_rate", "target", "samples", "window_ms"):
            assert key in obj, (ev, key)
        assert obj["old"] != obj["new"] and 0 <= obj["hit_rate"] <= 1
    if ev == "wmax":
        for key in ("old", "new", "candidate", "adopted", "score_current", "score_candidate",
                    "samples_current", "samples_candidate", "adopt_pct"):
            assert key in obj, (ev, key)
        assert obj["adopted"] == (obj["new"] == obj["candidate"] != obj["old"])


def test_glue_learns_traces_and_reports(bins, tmp_path):
    trace, stats = tmp_path / "trace.jsonl", tmp_path / "stats.json"
    run([bins["glue"], "on", trace, stats])
    lines = read_jsonl(trace)
    for obj in lines:
        check_trace_line(obj)
    times = [o["t"] for o in lines]
    assert times == sorted(times)
    events = {o["event"] for o in lines}
    assert events == TRACE_EVENTS, events
    states = [(o["old"], o["new"]) for o in lines if o["event"] == "state"]
    assert ("LEARN", "CANARY") in states and ("CANARY", "FROZEN") in states
    assert any(o["event"] == "wmax" and o["adopted"] for o in lines)

    learn = json.loads(stats.read_text())["learn"]
    assert learn["enabled"] is True and learn["evolution"] is True
    assert learn["state"] == "FROZEN" and learn["strategy"] == 1 << 20
    assert learn["large_threshold"] == 1 << 20
    assert [s["threshold"] for s in learn["strategies"]] == sorted(STRATEGIES)
    assert max(learn["strategies"], key=lambda s: s["elo"])["threshold"] == 1 << 20
    assert learn["mid"]["enabled"] is True and learn["mid"]["cap_changes"] > 0
    assert learn["mid"]["wmax"] == pytest.approx(1.6)
    assert learn["trace_lines"] == len(lines)
    for c in learn["mid"]["classes"]:
        assert set(c) == {"class", "size", "cap", "hit_rate", "samples", "changes"}


def test_glue_off_is_pinned_and_silent(bins, tmp_path):
    trace, stats = tmp_path / "trace.jsonl", tmp_path / "stats.json"
    run([bins["glue"], "off", trace, stats])
    assert not trace.exists()
    learn = json.loads(stats.read_text())["learn"]
    assert learn["enabled"] is False and learn["large_threshold"] == 1 << 20
    assert learn["state"] == "OFF" and learn["evolution"] is False
    assert learn["mid"]["enabled"] is False and learn["mid"]["cap_changes"] == 0


def test_glue_costs_from_cpu_time_on_a_loaded_machine(bins):
    """The wall time per tick set by other processes, the CPU time by the
    strategy: the learner still freezes on the best one (with costs taken
    from the wall clock it froze on the start strategy, 2 MiB)."""
    out = run([bins["glue"], "loaded"]).stdout
    assert "threshold 1048576" in out and "test_learn_glue: ok" in out


def test_glue_costs_add_every_threads_cpu_time(bins):
    """Two threads tick in turn, each with its own CPU clock: the costs add
    up both threads' time (read by the recomputing thread alone, the CPU
    clock gave the difference of two threads' clocks and the learner froze
    on 2 MiB)."""
    out = run([bins["glue"], "twothreads"]).stdout
    assert "threshold 1048576" in out and "test_learn_glue: ok" in out


def test_glue_decisions_outlast_the_blocks_they_place(bins):
    """Buffers that live through dozens of ticks and are fast only once all
    of them were placed under 8 MiB (realloc_append in miniature): with the
    default decision length (HAKMEM_LEARN_DECISION_MS=10 ms of CPU) the
    learner freezes on 8 MiB. With a decision per tick, as before the
    option, a stint covered a fraction of a buffer's life, 8 MiB never
    measured fast, and the learner stayed on a slow threshold."""
    out = run([bins["glue"], "lived", "10"]).stdout
    assert "threshold 8388608" in out and "test_learn_glue: ok" in out
    out = run([bins["glue"], "lived", "0"], check=False).stdout
    assert "threshold 8388608" not in out


def test_glue_concurrent_ticks(bins):
    run([bins["glue"], "threads"])


def test_glue_fork_during_a_recomputation(bins):
    """The child of a fork taken while another thread held the tick's lock
    still learns (the lock is released in the child)."""
    run([bins["glue"], "fork"])


# --------------------------------------------------------------------------
# the profile


def test_profile_phases_and_shares(bins, tmp_path):
    stats = tmp_path / "stats.json"
    r = run([bins["profile"], "1", stats])
    timing = json.loads(stats.read_text())["timing"]
    assert timing["enabled"] is True and timing["share_of"] == "all_phases"
    phases = timing["phases"]
    for name in ("hak_alloc", "hak_free", "tiny_refill", "mid_refill", "l25_refill", "syscall_mmap",
                 "syscall_munmap", "whale_get", "whale_put", "learn_tick"):
        assert phases[name]["cycles"] > 0 and phases[name]["calls"] > 0, name
    # main + 300 threads in turn + 300 at once (more than the 256 slots),
    # 100 rounds each: nothing recorded may be lost.
    assert phases["hak_free"]["calls"] == 601 * 100
    assert phases["hak_alloc"]["calls"] == 601 * 100 * (len(phases) + 1)
    assert sum(p["cycles"] for p in phases.values()) == timing["total_cycles"]
    assert math.isclose(sum(p["share"] for p in phases.values()), 1.0, abs_tol=1e-4)

    rows = re.findall(r"^(\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)%$", r.stderr, re.M)
    assert {row[0] for row in rows} == set(phases)
    assert all(int(row[1]) > 0 for row in rows)
    assert abs(sum(float(row[4]) for row in rows) - 100.0) <= 0.05 * len(rows) + 0.01


def test_profile_off_records_nothing(bins, tmp_path):
    stats = tmp_path / "stats.json"
    r = run([bins["profile"], "0", stats])
    assert json.loads(stats.read_text()) == {"timing": {"enabled": False}}
    assert r.stderr == ""


# --------------------------------------------------------------------------
# generated code: what the hot path carries


def objdump(obj: Path) -> str:
    if shutil.which("objdump") is None:
        pytest.skip("objdump is not installed")
    return subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(obj)], capture_output=True,
                          text=True, check=True).stdout


def test_threshold_read_is_one_plain_load(tmp_path):
    src = tmp_path / "hot.c"
    src.write_text('#include "learn/learn.h"\n'
                   "size_t route(size_t n) { return n >= hak_learn_large_threshold(); }\n")
    obj = tmp_path / "hot.o"
    subprocess.run(["gcc", *CFLAGS, "-c", "-o", obj, src], check=True)
    asm = objdump(obj)
    body = asm.split("<route>:")[1]
    assert not re.search(r"\block\b|\bxchg|\bdiv|\bcall|\bmfence", body), body
    assert len(re.findall(r"\(%rip\)", body)) == 1 and "cmp" in body, body  # one load


def test_release_build_profile_macros_vanish(tmp_path):
    src = tmp_path / "rel.c"
    src.write_text('#include "profile/timing.h"\n#include "learn/learn.h"\n'
                   "int work(int x) { HAK_TIME_BEGIN(t); x *= 3; HAK_TIME_END(hak_alloc, t);\n"
                   "  hak_learn_note_size((size_t)x); return x; }\n")
    obj = tmp_path / "rel.o"
    subprocess.run(["gcc", *CFLAGS, "-c", "-o", obj, src], check=True)
    asm = objdump(obj)
    assert "rdtsc" not in asm and "hak_timing_record" not in asm and "hak_learn_tls" not in asm
    syms = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
    assert "hak_timing" not in syms


def test_timing_c_is_empty_outside_the_timing_build(tmp_path):
    obj = tmp_path / "timing.o"
    subprocess.run(["gcc", *CFLAGS, "-c", "-o", obj, str(SRC / "profile" / "timing.c")], check=True)
    syms = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
    assert syms.strip() == ""


# --------------------------------------------------------------------------
# the real libraries, when built (make hakmem)


def hakmem_program(build_dir: Path, flavour: str) -> Path | None:
    """A workload program built against `flavour` (hakmem or system), or None."""
    for name in ("scenario", "mixed", "tiny_hot"):
        p = build_dir / flavour / name
        if p.exists():
            return p
    return None


def test_timing_library_writes_the_profile(build_dir, tmp_path):
    lib = build_dir / "lib" / "libhakmem_timing.so"
    prog = hakmem_program(build_dir, "system")
    if not lib.exists() or prog is None:
        pytest.skip("needs build/lib/libhakmem_timing.so and build/system/<workload> (make)")
    stats = tmp_path / "stats.json"
    env = dict(os.environ, LD_PRELOAD=str(lib), HAKMEM_TIMING="1", HAKMEM_STATS_FILE=str(stats))
    args = [prog, "--scenario", "json", "--ops", "2000"] if prog.name == "scenario" else [prog, "--ops", "20000"]
    r = subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    timing = json.loads(stats.read_text())["timing"]
    assert timing["enabled"] is True
    phases = timing["phases"]
    assert phases["hak_alloc"]["cycles"] > 0 and phases["hak_free"]["cycles"] > 0
    assert math.isclose(sum(p["share"] for p in phases.values()), 1.0, abs_tol=1e-4)
    assert "hak_alloc" in r.stderr and "share" in r.stderr


def test_learning_on_in_the_release_library(build_dir, tmp_path):
    prog = build_dir / "hakmem" / "scenario"
    if not prog.exists():
        pytest.skip("needs build/hakmem/scenario (make)")
    stats, trace = tmp_path / "stats.json", tmp_path / "trace.jsonl"
    env = dict(os.environ, HAKMEM_LEARN="1", HAKMEM_LEARN_WINDOW_MS="500", HAKMEM_STATS_FILE=str(stats),
               HAKMEM_LEARN_TRACE=str(trace))
    r = subprocess.run([str(prog), "--scenario", "mir", "--ops", "20000"], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    learn = json.loads(stats.read_text())["learn"]
    assert learn["enabled"] is True and learn["large_threshold"] in STRATEGIES
    lines = read_jsonl(trace)
    assert lines and lines[0]["event"] == "start"
    for obj in lines:
        check_trace_line(obj)


def test_launcher_leaves_the_commands_profile(root, build_dir, tmp_path):
    """The runner's launcher (runners/rusage_exec.c) runs under the variant's
    LD_PRELOAD too; it must not write hakmem's statistics file at its exit,
    which would replace the workload's profile with its own (4 allocations)."""
    lib, prog = build_dir / "lib" / "libhakmem_timing.so", hakmem_program(build_dir, "system")
    if not lib.exists() or prog is None:
        pytest.skip("needs build/lib/libhakmem_timing.so and build/system/<workload> (make)")
    launcher = compile_c(tmp_path / "rusage_exec", [str(root / "runners" / "rusage_exec.c")])
    stats = tmp_path / "stats.json"
    env = dict(os.environ, LD_PRELOAD=str(lib), HAKMEM_TIMING="1", HAKMEM_STATS_FILE=str(stats))
    r = subprocess.run([str(launcher), str(tmp_path / "ru.json"), str(prog), "--ops", "5000"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    calls = json.loads(stats.read_text())["timing"]["phases"]["hak_alloc"]["calls"]
    assert calls >= 5000, f"the statistics file holds {calls} allocations: the launcher's, not the workload's"


REALLOC_TICKS_C = r"""
#include <stdlib.h>
int main(void)
{
	char *p = malloc(4u << 20);
	for (int i = 0; i < 20000 && p; i++) /* in place: Large, fits either size */
		p = realloc(p, (4u << 20) - (i & 1) * 4096);
	free(p);
	return p ? 0 : 1;
}
"""


def test_big_reallocs_count_for_the_learner(build_dir, tmp_path):
    """A realloc of a big block is one request for the learner, even when it
    stays in place and allocates nothing (else the strategies that grow
    blocks in place look expensive per allocation)."""
    lib = build_dir / "lib" / "libhakmem.a"
    if not lib.exists():
        pytest.skip("needs build/lib/libhakmem.a (make)")
    src = tmp_path / "reallocs.c"
    src.write_text(REALLOC_TICKS_C)
    exe = compile_c(tmp_path / "reallocs", [str(src)], "-Wl,--whole-archive", str(lib), "-Wl,--no-whole-archive")
    stats = tmp_path / "stats.json"
    env = dict(os.environ, HAKMEM_LEARN="1", HAKMEM_STATS_FILE=str(stats))
    r = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    learn = json.loads(stats.read_text())["learn"]
    # 20,000 reallocs of about 4 MiB at 63-64 weighted allocations each:
    # some 1,200 ticks (counting only allocations: none)
    assert learn["ticks"] >= 1000, learn["ticks"]


# --------------------------------------------------------------------------
# ThreadSanitizer: the try-lock of the tick, the profile's slots


@pytest.mark.parametrize("which", ["glue", "profile"])
def test_thread_sanitizer_clean(which, tmp_path):
    t = HERE / "learn"
    if which == "glue":
        sources, extra, args = [str(t / "test_learn_glue.c"), *LEARN_SRC], ["-DHAKMEM_FEATURE_EVOLUTION"], ["threads"]
    else:
        sources, extra, args = [str(t / "test_profile.c"), *TIMING_SRC], ["-DHAKMEM_DEBUG_TIMING"], ["1", tmp_path / "s.json"]
    exe = tmp_path / f"{which}-tsan"
    cmd = ["gcc", *CFLAGS, "-O1", "-fsanitize=thread", *extra, "-o", str(exe), *sources, "-lm"]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        pytest.skip("gcc cannot build with -fsanitize=thread here")
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1 exitcode=66")
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "ThreadSanitizer" not in r.stderr, r.stderr[-4000:]
