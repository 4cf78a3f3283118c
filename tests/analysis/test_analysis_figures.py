"""figures.py: every figure written, missing data skips only its figure, fixed colours."""
import json
from pathlib import Path

import pandas as pd
import pytest

import figures
import plotstyle
import results

NAMES = [name for name, _ in figures.FIGURES]


def draw(capsys, result_dir: Path, out: Path, only: str = "") -> str:
    assert figures.main([str(result_dir), "--out", str(out)] + (["--only", only] if only else [])) == 0
    return capsys.readouterr().out


def test_every_figure_is_written(full_dir, tmp_path, capsys):
    out = draw(capsys, full_dir, tmp_path / "figs")
    assert "skipped" not in out
    for name in NAMES:
        for fmt in ("png", "pdf"):
            f = tmp_path / "figs" / f"{name}.{fmt}"
            assert f.is_file() and f.stat().st_size > 1000, f


def test_default_output_is_the_result_directory(tmp_path, synth, capsys):
    d = synth.write_dir(tmp_path / "r", synth.matrix(workloads=(("larson", "ops_per_sec"),), threads=(1,), reps=2,
                                                     timing=False))
    assert figures.main([str(d), "--only", "fig1_throughput_ratio"]) == 0
    assert sorted(p.name for p in (d / "figures").iterdir()) == ["fig1_throughput_ratio.pdf",
                                                                  "fig1_throughput_ratio.png"]


def test_unknown_figure_name(full_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        figures.main([str(full_dir), "--only", "fig9"])
    assert exc.value.code == 2 and "unknown figure fig9" in capsys.readouterr().err


def test_missing_data_skips_only_its_figure(tmp_path, synth, capsys):
    """One thread count, no timing statistics, no latency, no learner trace:
    figures 2, 4, 5 and 6 are skipped, each with its reason; 1 and 3 drawn."""
    rows = synth.matrix(threads=(1,), reps=3, timing=False)
    for r in rows:
        del r["latency_ns"]
    d = synth.write_dir(tmp_path / "r", rows, meta=None)
    out = draw(capsys, d, tmp_path / "figs")
    reasons = {line.split(":")[0].removeprefix("skipped "): line for line in out.splitlines()
               if line.startswith("skipped ")}
    assert set(reasons) == {"fig2_scaling", "fig4_hakmem_phases", "fig5_latency", "fig6_learner"}
    assert "one thread count" in reasons["fig2_scaling"]
    assert "timing statistics" in reasons["fig4_hakmem_phases"]
    assert "latency" in reasons["fig5_latency"]
    assert "learner trace" in reasons["fig6_learner"]
    for name in ("fig1_throughput_ratio", "fig3_rss_ratio"):
        assert (tmp_path / "figs" / f"{name}.png").stat().st_size > 1000
        assert (tmp_path / "figs" / f"{name}.pdf").stat().st_size > 1000
    for name in reasons:
        assert not (tmp_path / "figs" / f"{name}.png").exists()


def test_no_baseline_skips_the_ratio_figures(tmp_path, synth, capsys):
    rows = [r for r in synth.matrix(reps=2, timing=False) if r["allocator"] != "mimalloc"]
    out = draw(capsys, synth.write_dir(tmp_path / "r", rows), tmp_path / "figs",
               only="fig1_throughput_ratio,fig2_scaling,fig3_rss_ratio")
    assert "skipped fig1_throughput_ratio: no ok mimalloc runs" in out
    assert "skipped fig3_rss_ratio: no ok mimalloc runs" in out
    assert (tmp_path / "figs" / "fig2_scaling.png").is_file()


def test_runner_style_flat_rows_and_failed_cells(tmp_path, synth, capsys):
    """The runner writes lat.* and phase.* flat in runs.jsonl; a failed cell is drawn around."""
    rows = synth.matrix(reps=2)
    rows += [synth.row("larson", "tcmalloc", 1, 9, 1.0, status="crashed:SIGSEGV")]
    rows = [r for r in rows if not (r["allocator"] == "tcmalloc" and r["workload"] == "larson"
                                    and r["threads"] == 1 and r["status"] == "ok")]
    d = synth.write_dir(tmp_path / "r", rows, flat_jsonl=True)
    assert "lat.p50" in results.load([d]).runs.columns
    out = draw(capsys, d, tmp_path / "figs", only="fig1_throughput_ratio,fig5_latency,fig6_learner")
    assert [ln.split(":")[0] for ln in out.splitlines() if ln.startswith("skipped")] == ["skipped fig6_learner"]
    assert (tmp_path / "figs" / "fig5_latency.png").is_file()


def test_phase_shares(synth):
    rows = synth.matrix(workloads=(("json", "ns_per_op"),), threads=(1,), reps=3)
    shares = figures.phase_table(results.normalise(pd.DataFrame([results.flatten(r) for r in rows])))
    total = sum(synth.PHASES.values())
    assert list(shares.columns) == ["hak_alloc", "hak_free", "syscall_munmap", "whale_get"]  # timing.h order
    assert shares.iloc[0]["hak_alloc"] == pytest.approx(100 * synth.PHASES["hak_alloc"] / total)


def test_colours_are_fixed_per_allocator():
    assert plotstyle.colour("mimalloc") == plotstyle.BASE_COLOURS["mimalloc"]
    assert plotstyle.colour("hakmem") == plotstyle.BASE_COLOURS["hakmem"]
    shade = plotstyle.colour("hakmem+learn1")
    assert shade != plotstyle.colour("hakmem") and shade == plotstyle.colour("hakmem+learn1")
    assert len({plotstyle.colour(a) for a in plotstyle.BASE_COLOURS}) == len(plotstyle.BASE_COLOURS)
    assert plotstyle.colour("snmalloc") == plotstyle.colour("snmalloc")
    assert plotstyle.hatch("hakmem") is None and plotstyle.hatch("hakmem+learn1") in plotstyle.HATCHES
    assert plotstyle.linestyle("hakmem") == "-" and plotstyle.linestyle("hakmem+learn1") == "--"


def test_caption_names_suite_date_and_revision(full_dir):
    caption = results.load([full_dir]).identity()
    assert "suite synthetic" in caption and "2026-11-21 20:00:00 UTC" in caption
    assert "git 0123456789 (dirty)" in caption


def test_caption_without_meta(tmp_path, synth):
    d = synth.write_dir(tmp_path / "r", [synth.row("w", "mimalloc", 1, 0, 1.0)], meta=None)
    assert "unknown suite" in results.load([d]).identity()


def test_caption_reads_the_runners_start_time(tmp_path, synth):
    meta = {"suite": "quick", "start_time": "2026-11-21T20:07:11+00:00", "git": {"revision": "29c6353a63b7"}}
    d = synth.write_dir(tmp_path / "r", [synth.row("w", "mimalloc", 1, 0, 1.0)], meta=meta)
    assert results.load([d]).identity() == "r: suite quick, 2026-11-21 20:07:11 UTC, git 29c6353a63"


def test_learn_trace_in_hakmems_format(tmp_path, synth):
    """cap/strategy/state events carry their value as `new`; window lines as state/strategy."""
    f = tmp_path / "t.learn.jsonl"
    f.write_text("\n".join(json.dumps(e) for e in synth.learn_trace()) + "\nnot json\n")
    trace = results.read_learn_trace(f)
    caps = trace[trace["event"] == "cap"]
    assert caps["cap"].tolist()[:3] == [64, 64, 64] and caps["cap"].tolist()[-1] == 64 + 8 * 19 * 3
    states = trace[trace["event"] == "state"]["state"].tolist()
    assert states == ["CANARY", "FROZEN", "FROZEN"]
    assert set(trace[trace["event"] == "strategy"]["strategy"]) == {1 << 20, 1 << 21}
    assert trace["t"].is_monotonic_increasing


def test_learn_trace_with_direct_fields(tmp_path):
    f = tmp_path / "learn_trace.jsonl"
    f.write_text('{"t": 1, "event": "cap", "class": 0, "cap": 32, "hit_rate": 0.7}\n'
                 '{"t": 0, "event": "state", "state": "LEARN"}\n')
    trace = results.read_learn_trace(f)
    assert trace["cap"].isna().tolist() == [True, False] and trace["cap"].iloc[1] == 32
    assert trace["state"].iloc[0] == "LEARN" and trace["state"].isna().tolist() == [False, True]
    assert figures.fmt_strategy(2097152) == "2 MiB" and figures.fmt_strategy("x") == "x"


def test_learner_caption_says_froze_only_of_a_trace_that_did():
    """The figure used to call its trace "one that froze" whenever it chose
    among several, also when none had reached FROZEN."""
    learning = pd.DataFrame({"event": ["window", "window"], "state": ["LEARN", "CANARY"]})
    frozen = pd.DataFrame({"event": ["window", "state"], "state": ["CANARY", "FROZEN"]})
    assert figures._trace_choice(learning, 5) == " (of 5 traces: none froze; the one with the most windows)"
    assert figures._trace_choice(frozen, 5) == " (of 5 traces: one that froze, with the most windows)"
    assert figures._trace_choice(frozen, 1) == ""
