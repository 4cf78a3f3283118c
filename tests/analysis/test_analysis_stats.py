"""stats.py: medians, bootstrap intervals, ratios, marks, geometric means, tests."""
import math

import numpy as np
import pytest

import stats


def independent_bootstrap_ci(values, seed=20261121, resamples=2000):
    """The documented method, written out again: percentile bootstrap of the median."""
    x = np.array(values, dtype=float)
    gen = np.random.default_rng(seed)
    picks = gen.integers(0, len(x), size=(resamples, len(x)))
    meds = np.array([np.median(x[row]) for row in picks])
    return np.percentile(meds, 2.5), np.percentile(meds, 97.5)


def test_documented_constants():
    assert (stats.BOOT_RESAMPLES, stats.BOOT_SEED, stats.CI_LEVEL, stats.ALPHA) == (2000, 20261121, 0.95, 0.05)


def test_median_and_interval_match_an_independent_computation():
    values = [10.0, 12.0, 11.0, 15.0, 9.0, 13.0]
    med, lo, hi = stats.median_ci(values)
    assert med == 11.5
    assert (lo, hi) == pytest.approx(independent_bootstrap_ci(values), abs=1e-12)
    assert 9.0 <= lo <= med <= hi <= 15.0


def test_interval_is_reproducible_and_exact_for_constant_values():
    assert stats.median_ci([3.0, 1.0, 2.0]) == stats.median_ci([3.0, 1.0, 2.0])
    assert stats.median_ci([7.0] * 4) == (7.0, 7.0, 7.0)


def test_one_or_no_value_gives_no_interval():
    med, lo, hi = stats.median_ci([5.0])
    assert med == 5.0 and math.isnan(lo) and math.isnan(hi)
    assert all(math.isnan(v) for v in stats.median_ci([]))


def test_ratio_orientation():
    assert stats.oriented_ratio(200.0, 100.0, higher_is_better=True) == 2.0   # ops/s: twice as fast
    assert stats.oriented_ratio(200.0, 100.0, higher_is_better=False) == 0.5  # ns/op: twice as slow
    assert math.isnan(stats.oriented_ratio(math.nan, 100.0, True))
    assert math.isnan(stats.oriented_ratio(0.0, 100.0, False))


def test_overlap():
    assert stats.intervals_overlap(1, 2, 2, 3)          # touching counts as overlapping
    assert not stats.intervals_overlap(1, 2, 2.5, 3)
    assert not stats.intervals_overlap(2.5, 3, 1, 2)
    assert stats.intervals_overlap(1, 2, math.nan, math.nan)  # no interval: not supported


def test_geomean():
    assert stats.geomean([2.0, 0.5]) == pytest.approx(1.0)
    assert stats.geomean([1.0, 4.0]) == pytest.approx(2.0)
    assert stats.geomean([8.0, math.nan, 2.0]) == pytest.approx(4.0)
    assert math.isnan(stats.geomean([]))


def test_mann_whitney_exact_p():
    # Complete separation of 5 and 5: two of the C(10,5) = 252 orderings are as extreme.
    assert stats.mann_whitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert stats.mann_whitney_p([1, 1, 1], [1, 1, 1]) == 1.0
    assert math.isnan(stats.mann_whitney_p([], [1.0]))


def test_ratio_interval_brackets_the_ratio():
    lo, hi = stats.ratio_ci([200, 202, 198, 201], [100, 101, 99, 100], higher_is_better=True)
    assert lo <= 200.5 / 100 <= hi
    assert 1.9 < lo and hi < 2.1
