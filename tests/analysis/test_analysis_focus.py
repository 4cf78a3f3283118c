"""focus.py and quick_analyze.py --focus: one allocator against every other, and the bar."""
import io
import math
from contextlib import redirect_stdout

import pytest

import focus
import quick_analyze
import results
import table


def bar_rows(synth):
    """hakmem is ahead everywhere in 'ahead'; behind jemalloc in 'behind';
    too big in 'fat'; ns/op workload 'lat' where hakmem is faster (lower);
    a crashed run of hakmem in 'crash'."""
    rows = []
    def add(w, a, vals, metric="ops_per_sec", rss=1000.0, status="ok"):
        rows.extend(synth.cell(w, a, vals, metric, rss, status))
    for w in ("ahead", "behind", "fat", "crash"):
        add(w, "mimalloc", [100, 100, 100])
        add(w, "jemalloc", [150, 150, 150] if w == "behind" else [90, 90, 90])
    add("ahead", "hakmem", [120, 120, 120], rss=1100.0)           # RSS exactly at the bar: met
    add("behind", "hakmem", [120, 120, 120])                       # 120/150 = 0.8 against jemalloc
    add("fat", "hakmem", [120, 120, 120], rss=1200.0)              # RSS 1.2 > 1.10
    add("crash", "hakmem", [120, 120])
    rows.append(synth.row("crash", "hakmem", 1, 2, 1, status="crashed:SIGSEGV"))
    add("lat", "mimalloc", [100, 100, 100], "ns_per_op")
    add("lat", "jemalloc", [110, 110, 110], "ns_per_op")
    add("lat", "hakmem", [50, 50, 50], "ns_per_op")                # 100/50 = 2.0 and 110/50 = 2.2
    return rows


@pytest.fixture
def bar_dir(tmp_path, synth):
    return synth.write_dir(tmp_path / "bar", bar_rows(synth))


@pytest.fixture
def h2h(bar_dir):
    cells = table.summarise(results.load([bar_dir]).runs, "mimalloc")
    return focus.head_to_head(cells, "hakmem", "mimalloc").set_index("workload")


def test_ratios_against_every_other_allocator(h2h):
    assert h2h.loc["behind", "vs mimalloc"] == pytest.approx(1.2)
    assert h2h.loc["behind", "vs jemalloc"] == pytest.approx(0.8)
    assert h2h.loc["lat", "vs mimalloc"] == pytest.approx(2.0)    # ns/op: lower is faster
    assert h2h.loc["lat", "vs jemalloc"] == pytest.approx(2.2)
    assert bool(h2h.loc["behind", "vs jemalloc supported"])


def test_the_bar_per_cell(h2h):
    assert h2h.loc["ahead", "misses"] == ""
    assert h2h.loc["lat", "misses"] == ""
    assert h2h.loc["behind", "misses"] == "behind jemalloc (0.800*)"
    assert h2h.loc["fat", "misses"] == "RSS 1.20x mimalloc"
    assert h2h.loc["crash", "misses"].startswith("failed runs")


def test_a_miss_within_the_spread_is_a_level_miss(synth, tmp_path):
    """0.99 with the intervals overlapping misses the bar, printed to three
    places with its mark, and counts as a level miss; a supported one
    does not."""
    rows = []
    for a, vals in (("hakmem", [95, 99, 103]), ("mimalloc", [90, 90, 90]), ("tcmalloc", [96, 100, 104])):
        rows.extend(synth.cell("close", a, vals))
    h = focus.head_to_head(table.summarise(results.load([synth.write_dir(tmp_path / "d", rows)]).runs,
                                           "mimalloc"), "hakmem", "mimalloc").set_index("workload")
    assert h.loc["close", "misses"] == "behind tcmalloc (0.990~)"
    assert bool(h.loc["close", "level_miss"])
    text = focus.render(h.reset_index(), "hakmem", "mimalloc", 1.10, "text")
    assert ("Cells meeting it: 0 of 1. Of the cells missing it, 1 miss only by differences the spread does "
            "not support (~).") in text


def test_supported_misses_are_not_level(h2h):
    assert not h2h["level_miss"].any()


def test_missing_other_allocator_is_not_a_miss(synth, tmp_path):
    rows = [synth.row("w", "hakmem", 1, i, 10.0) for i in range(3)] + \
           [synth.row("w", "mimalloc", 1, i, 5.0) for i in range(3)] + \
           [synth.row("v", "hakmem", 1, i, 10.0) for i in range(3)]
    cells = table.summarise(results.load([synth.write_dir(tmp_path / "d", rows)]).runs, "mimalloc")
    h = focus.head_to_head(cells, "hakmem", "mimalloc").set_index("workload")
    assert math.isnan(h.loc["v", "vs mimalloc"]) and math.isnan(h.loc["v", "rss_ratio"])
    assert h.loc["v", "misses"] == ""


def run_cli(argv):
    out = io.StringIO()
    with redirect_stdout(out):
        code = quick_analyze.main(argv)
    return code, out.getvalue()


def test_command_line_counts_cells_meeting_the_bar(bar_dir):
    code, text = run_cli([str(bar_dir), "--focus", "hakmem"])
    assert code == 0
    assert "Cells meeting it: 2 of 5." in text
    assert "behind jemalloc" in text and "RSS 1.20x mimalloc" in text
    code, text = run_cli([str(bar_dir), "--focus", "hakmem", "--rss-bar", "1.25"])
    assert "Cells meeting it: 3 of 5." in text


def test_command_line_unknown_focus_says_so(bar_dir):
    code, text = run_cli([str(bar_dir), "--focus", "nosuch"])
    assert code == 0 and "No runs of 'nosuch'" in text


def test_command_line_rejects_bad_combinations(bar_dir, capsys):
    for argv in ([str(bar_dir), "--focus", "hakmem", "--rss-bar", "0"],
                 ["--compare", str(bar_dir), str(bar_dir), "--focus", "hakmem"]):
        with pytest.raises(SystemExit) as e:
            quick_analyze.main(argv)
        assert e.value.code == 2
    assert "--rss-bar" in capsys.readouterr().err
