"""table.py and quick_analyze.py's table: values exactly as computed by hand."""
import io
import math

import pandas as pd
import pytest

import quick_analyze
import results
import table


def hand_rows(synth):
    """Known values: see each line. 'w' reports ops/s, 'lat' ns/op."""
    rows = []
    def add(w, a, vals, metric="ops_per_sec", rss=1000.0, status="ok"):
        rows.extend(synth.cell(w, a, vals, metric, rss, status))
    add("w", "mimalloc", [100, 101, 102, 103, 104])            # median 102, RSS 1000 (interval 1000-1000)
    add("w", "hakmem", [200, 201, 202, 203, 204], rss=500.0)   # 202/102, supported; RSS 0.5 supported
    add("w", "system", [99, 101, 103, 105, 107])               # 103/102 overlaps: not supported
    add("w", "jemalloc", [1, 1, 1], status="crashed:SIGSEGV")  # every run crashed
    add("lat", "mimalloc", [100, 100, 100], "ns_per_op")       # median 100
    add("lat", "hakmem", [200, 200, 200], "ns_per_op")         # 100/200 = 0.5, supported
    rows.append(synth.row("lat", "hakmem", 1, 3, 1, "ns_per_op", status="timeout"))  # a 4th run timed out
    add("lat", "system", [95, 96, 97], "ns_per_op")            # 100/96, supported
    return rows


@pytest.fixture
def hand_dir(tmp_path, synth):
    return synth.write_dir(tmp_path / "hand", hand_rows(synth))


@pytest.fixture
def cells(hand_dir):
    return table.summarise(results.load([hand_dir]).runs, "mimalloc").set_index(["workload", "label"])


def test_medians_ratios_and_marks(cells):
    assert cells.loc[("w", "mimalloc"), "median"] == 102
    assert cells.loc[("w", "hakmem"), "speed_ratio"] == pytest.approx(202 / 102)
    assert cells.loc[("w", "hakmem"), "speed_supported"]
    assert cells.loc[("w", "system"), "speed_ratio"] == pytest.approx(103 / 102)
    assert not cells.loc[("w", "system"), "speed_supported"]
    assert cells.loc[("lat", "hakmem"), "speed_ratio"] == 0.5
    assert cells.loc[("lat", "hakmem"), "speed_supported"]
    assert cells.loc[("lat", "system"), "speed_ratio"] == pytest.approx(100 / 96)
    assert cells.loc[("lat", "system"), "speed_supported"]
    assert (cells.loc[("w", "hakmem"), "rss_ratio"], cells.loc[("w", "hakmem"), "rss_supported"]) == (0.5, True)
    assert (cells.loc[("w", "system"), "rss_ratio"], cells.loc[("w", "system"), "rss_supported"]) == (1.0, False)
    assert (cells.loc[("w", "mimalloc"), "rss_lo"], cells.loc[("w", "mimalloc"), "rss_hi"]) == (1000, 1000)


def test_failed_cells_are_kept(cells):
    jem = cells.loc[("w", "jemalloc")]
    assert (jem["n_ok"], jem["n_runs"], jem["failures"]) == (0, 3, "3 crashed:SIGSEGV")
    assert math.isnan(jem["median"]) and math.isnan(jem["speed_ratio"])
    hak = cells.loc[("lat", "hakmem")]
    assert (hak["n_ok"], hak["n_runs"], hak["failures"], hak["median"]) == (3, 4, "1 timeout", 200)


def test_geomeans_wins_and_losses(cells):
    per = table.allocator_summary(cells.reset_index(), "mimalloc").set_index("label")
    assert per.loc["hakmem", "geomean_speed"] == pytest.approx(math.sqrt(202 / 102 * 0.5))
    assert per.loc["hakmem", "geomean_rss"] == pytest.approx(math.sqrt(0.5 * 1.0))
    assert per.loc["hakmem", ["wins", "losses", "wins_supported", "losses_supported"]].tolist() == [1, 1, 1, 1]
    assert per.loc["system", "geomean_speed"] == pytest.approx(math.sqrt(103 / 102 * 100 / 96))
    assert per.loc["system", ["wins", "losses", "wins_supported", "losses_supported"]].tolist() == [2, 0, 1, 0]
    assert "jemalloc" not in per.index  # nothing to compare: all its runs failed


def run_cli(args, capsys):
    code = quick_analyze.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_table(hand_dir, capsys):
    code, out, _ = run_cli([hand_dir], capsys)
    assert code == 0
    lines = out.splitlines()
    row = lambda w, a: next(ln.split() for ln in lines if ln.split()[:3] == [w, "1", a])  # noqa: E731
    assert "1.98*" in row("w", "hakmem") and "0.50*" in row("w", "hakmem")
    assert "1.01~" in row("w", "system")
    assert "0.50*" in row("lat", "hakmem") and "3/4" in row("lat", "hakmem")
    assert "1.04*" in row("lat", "system")
    assert row("w", "jemalloc")[3:6] == ["0/3", "FAILED", "3"]
    assert "speed vs mimalloc (>1 = faster)" in out and "RSS vs mimalloc (<1 = leaner)" in out
    assert "percentile bootstrap" in out and "seed 20261121" in out
    assert "Failed, crashed or timed-out runs: 4:" in out
    assert "w 1T jemalloc rep 0: crashed:SIGSEGV (exit -11): killed by SIGSEGV" in out
    assert "lat 1T hakmem rep 3: timeout" in out
    summary = next(ln.split() for ln in lines if ln.startswith("hakmem ") and len(ln.split()) == 6)
    assert summary == ["hakmem", "2", f"{math.sqrt(202 / 102 * 0.5):.3f}", f"{math.sqrt(0.5):.3f}", "1/1", "1/1"]


def test_markdown_and_csv(hand_dir, capsys):
    _, md, _ = run_cli([hand_dir, "--format", "markdown"], capsys)
    assert "| w | 1 | hakmem | 5/5 |" in md and "|---|" in md
    _, csv_text, _ = run_cli([hand_dir, "--format", "csv"], capsys)
    frame = pd.read_csv(io.StringIO(csv_text)).set_index(["workload", "label"])
    assert frame.loc[("w", "hakmem"), "speed_ratio"] == pytest.approx(202 / 102, rel=1e-5)
    assert frame.loc[("w", "jemalloc"), "n_ok"] == 0  # failed cells are rows too


def test_other_baseline(hand_dir, capsys):
    code, out, _ = run_cli([hand_dir, "--baseline", "system"], capsys)
    assert code == 0 and "speed vs system" in out


def test_missing_baseline_is_said(hand_dir, capsys):
    code, out, _ = run_cli([hand_dir, "--baseline", "tcmalloc"], capsys)
    assert code == 0 and "No tcmalloc runs" in out


def test_csv_only_directory_gives_the_same_numbers(tmp_path, synth):
    rows = hand_rows(synth)
    both = synth.write_dir(tmp_path / "both", rows)
    csv_only = tmp_path / "csv"
    csv_only.mkdir()
    synth.write_csv(csv_only / "runs.csv", rows)
    a = table.summarise(results.load([both]).runs).drop(columns=["_values", "_rss"])
    b = table.summarise(results.load([csv_only]).runs).drop(columns=["_values", "_rss"])
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_jsonl_is_preferred_and_a_torn_last_line_skipped(tmp_path, synth, capsys):
    d = synth.write_dir(tmp_path / "d", [synth.row("w", "mimalloc", 1, 0, 100.0)])
    synth.write_csv(d / "runs.csv", [synth.row("w", "mimalloc", 1, 0, 999.0)])
    with open(d / "runs.jsonl", "a") as fh:
        fh.write('{"workload": "w", "alloc')
    runs = results.load([d]).runs
    assert runs["value"].tolist() == [100.0]
    assert "truncated" in capsys.readouterr().err


def test_csv_with_json_object_columns(tmp_path, synth):
    """A runs.csv that kept latency_ns as JSON text is flattened like jsonl."""
    d = tmp_path / "d"
    d.mkdir()
    r = synth.row("w", "mimalloc", 1, 0, 100.0)
    r["latency_ns"] = '{"p50": 40, "p99": 90}'
    synth.write_csv(d / "runs.csv", [r])
    runs = results.load([d]).runs
    assert runs["lat.p50"].tolist() == [40] and "latency_ns" not in runs.columns


def test_several_directories_are_pooled(tmp_path, synth, capsys):
    a = synth.write_dir(tmp_path / "a", [synth.row("w", "mimalloc", 1, i, v) for i, v in enumerate([1, 2])])
    b = synth.write_dir(tmp_path / "b", [synth.row("w", "mimalloc", 1, i, v) for i, v in enumerate([3, 4])])
    cells = table.summarise(results.load([a, b]).runs)
    assert cells["median"].tolist() == [2.5] and cells["n_runs"].tolist() == [4]


def test_baseline_that_only_failed(tmp_path, synth, capsys):
    rows = [synth.row("w", "mimalloc", 1, i, 1.0, status="failed") for i in range(2)]
    rows += [synth.row("w", "hakmem", 1, i, 1e6) for i in range(2)]
    code, out, _ = run_cli([synth.write_dir(tmp_path / "r", rows)], capsys)
    hakmem = next(ln.split() for ln in out.splitlines() if ln.startswith("w ") and " hakmem " in ln)
    assert code == 0 and hakmem[-1] == "-" and hakmem[-4] == "-"
    assert "no cell where mimalloc and another allocator both have ok runs" in out


def test_title_names_the_command(tmp_path, synth, capsys):
    meta = dict(synth.META, command_line="make run-suite THREADS=1,4")
    d = synth.write_dir(tmp_path / "r", [synth.row("w", "mimalloc", 1, 0, 1.0)], meta=meta)
    _, out, _ = run_cli([d], capsys)
    assert out.splitlines()[1] == "made by: make run-suite THREADS=1,4"


def test_runs_placed_differently_are_named(tmp_path, synth, capsys):
    # a cell whose runs of one allocator were preempted over 4x more in one
    # run than in another (the scheduler placed its threads differently) is
    # named below the table and the bar; small counts and an even spread
    # are not, and results without the column get no note
    rows = []
    for rep, (a, b) in enumerate([(8_000, 40_000), (9_000, 41_000), (150_000, 45_000)]):
        rows.append(synth.row("cross_thread", "hakmem", 4, rep, 1e7, ctx_switches_invol=a))
        rows.append(synth.row("cross_thread", "mimalloc", 4, rep, 1e7, ctx_switches_invol=b))
        rows.append(synth.row("larson", "hakmem", 1, rep, 1e7, ctx_switches_invol=[1, 9, 40][rep]))
        rows.append(synth.row("larson", "mimalloc", 1, rep, 1e7, ctx_switches_invol=3))
    d = synth.write_dir(tmp_path / "placed", rows)
    for extra in ([], ["--focus", "hakmem"]):
        assert quick_analyze.main([str(d)] + extra) == 0
        out = capsys.readouterr().out
        note = out[out.index("Runs the scheduler placed differently"):]
        assert "cross_thread 4T (hakmem 8,000 - 150,000)" in note
        assert "mimalloc" not in note and "larson" not in note
    plain = synth.write_dir(tmp_path / "plain", [{k: v for k, v in r.items() if k != "ctx_switches_invol"}
                                                 for r in rows])
    assert quick_analyze.main([str(plain)]) == 0
    assert "placed differently" not in capsys.readouterr().out
