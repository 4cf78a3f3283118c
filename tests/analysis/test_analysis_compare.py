"""quick_analyze.py --compare: significance and the regression guard."""
import pytest

import compare
import results
import quick_analyze

# Eight repetitions with about +-3 % of noise, in a fixed order.
NOISE = [0.97, 1.02, 0.99, 1.03, 1.00, 0.98, 1.01, 0.995]
NOISE_NEW = [1.01, 0.98, 1.03, 0.99, 0.97, 1.02, 1.00, 0.985]  # same spread, another order


def write(synth, path, factor, noise, metric="ops_per_sec", extra=()):
    base = 1e6 if metric == "ops_per_sec" else 100.0
    rows = [synth.row("w", "hakmem", 1, i, base * factor * n, metric) for i, n in enumerate(noise)]
    return synth.write_dir(path, rows + list(extra))


def diff_of(old, new):
    return compare.compare(results.load([old]).runs, results.load([new]).runs).iloc[0]


def test_twenty_percent_slowdown_is_flagged(tmp_path, synth, capsys):
    old = write(synth, tmp_path / "old", 1.0, NOISE)
    new = write(synth, tmp_path / "new", 0.8, NOISE_NEW)
    d = diff_of(old, new)
    assert d["change"] == pytest.approx(-0.2, abs=0.02)
    assert d["significant"] and d["p"] < 0.05
    code = quick_analyze.main(["--compare", str(old), str(new), "--fail-on-regression", "5"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Mann-Whitney U" in out and "p < 0.05" in out and "REGRESSION" in out


def test_one_percent_within_noise_is_not(tmp_path, synth, capsys):
    old = write(synth, tmp_path / "old", 1.0, NOISE)
    new = write(synth, tmp_path / "new", 0.99, NOISE_NEW)
    d = diff_of(old, new)
    assert not d["significant"] and d["p"] > 0.05
    assert quick_analyze.main(["--compare", str(old), str(new), "--fail-on-regression", "5"]) == 0
    assert "no significant slowdown beyond 5%" in capsys.readouterr().out


def test_speedup_never_fails_the_guard(tmp_path, synth, capsys):
    old = write(synth, tmp_path / "old", 1.0, NOISE)
    new = write(synth, tmp_path / "new", 1.3, NOISE_NEW)
    assert diff_of(old, new)["significant"]
    assert quick_analyze.main(["--compare", str(old), str(new), "--fail-on-regression", "5"]) == 0


def test_latency_workloads_are_oriented(tmp_path, synth):
    old = write(synth, tmp_path / "old", 1.0, NOISE, "ns_per_op")
    new = write(synth, tmp_path / "new", 1.25, NOISE_NEW, "ns_per_op")  # 25 % more ns/op: 20 % slower
    d = diff_of(old, new)
    assert d["change"] == pytest.approx(-0.2, abs=0.02) and d["significant"]


def test_slowdown_below_the_threshold_passes(tmp_path, synth, capsys):
    old = write(synth, tmp_path / "old", 1.0, NOISE)
    new = write(synth, tmp_path / "new", 0.8, NOISE_NEW)
    assert quick_analyze.main(["--compare", str(old), str(new), "--fail-on-regression", "30"]) == 0


def test_newly_failing_cell_fails_the_guard(tmp_path, synth, capsys):
    old = write(synth, tmp_path / "old", 1.0, NOISE)
    crashed = [synth.row("w", "hakmem", 1, i, 1.0, status="crashed:SIGSEGV") for i in range(3)]
    new = synth.write_dir(tmp_path / "new", crashed)
    assert quick_analyze.main(["--compare", str(old), str(new), "--fail-on-regression", "5"]) == 1
    assert "failed in NEW" in capsys.readouterr().out


def test_cells_on_one_side_only_are_listed(tmp_path, synth, capsys):
    extra = [synth.row("x", "mimalloc", 1, i, 1e6) for i in range(2)]
    old = write(synth, tmp_path / "old", 1.0, NOISE, extra=extra)
    new = write(synth, tmp_path / "new", 1.0, NOISE_NEW)
    assert quick_analyze.main(["--compare", str(old), str(new)]) == 0
    assert "only in OLD" in capsys.readouterr().out


def test_compare_bad_input_exits_2(tmp_path, synth, capsys):
    old = write(synth, tmp_path / "old", 1.0, NOISE)
    assert quick_analyze.main(["--compare", str(old), str(tmp_path / "missing")]) == 2
