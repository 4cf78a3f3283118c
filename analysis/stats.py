"""The statistics of the analysis: medians, bootstrap intervals, ratios, tests.

Everything here is deterministic, so tables and figures are reproducible and
testable:

- Confidence interval of a median: percentile bootstrap over the
  repetitions, ``BOOT_RESAMPLES`` resamples drawn with
  ``numpy.random.default_rng(BOOT_SEED)`` (a fresh generator per interval, so
  one cell's interval never depends on another cell), 95 %: the 2.5th and
  97.5th percentiles (numpy's default linear interpolation) of the resampled
  medians. Fewer than two repetitions give no interval (NaN).
- Ratio to the baseline, oriented so that > 1 is better: ``value / base`` for
  throughput (ops/s, higher is better), ``base / value`` for latency (ns/op,
  lower is better). Memory ratios are ``value / base`` (< 1 = leaner).
- A ratio is *supported* when the two 95 % intervals do not overlap; without
  an interval on either side it is not.
- Comparing two runs: two-sided Mann-Whitney U (scipy, exact for small
  samples) on the repetitions of a cell, significant at p < ``ALPHA``.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

BOOT_RESAMPLES = 2000
BOOT_SEED = 20261121
CI_LEVEL = 0.95
ALPHA = 0.05

NAN = math.nan


def boot_medians(values: Sequence[float], seed: int = BOOT_SEED, resamples: int = BOOT_RESAMPLES) -> np.ndarray:
    """Medians of `resamples` resamples (with replacement) of values."""
    x = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(resamples, len(x)))
    return np.median(x[idx], axis=1)


def percentile_interval(samples: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(samples, [tail, 100.0 - tail])
    return float(lo), float(hi)


def median_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, ci_low, ci_high); NaN median for no values, NaN interval for one."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return NAN, NAN, NAN
    med = float(np.median(x))
    if len(x) < 2:
        return med, NAN, NAN
    lo, hi = percentile_interval(boot_medians(x))
    return med, lo, hi


def oriented_ratio(value: float, base: float, higher_is_better: bool) -> float:
    """value relative to base, > 1 meaning better (see the module docstring)."""
    if not (value > 0 and base > 0):
        return NAN
    return value / base if higher_is_better else base / value


def ratio_ci(values: Sequence[float], base: Sequence[float], higher_is_better: bool) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the oriented ratio of medians;
    the two samples are resampled independently (seeds BOOT_SEED and
    BOOT_SEED + 1). NaN when either side has fewer than two values."""
    if len(values) < 2 or len(base) < 2:
        return NAN, NAN
    a = boot_medians(values, BOOT_SEED)
    b = boot_medians(base, BOOT_SEED + 1)
    ratios = a / b if higher_is_better else b / a
    return percentile_interval(ratios)


def intervals_overlap(lo1: float, hi1: float, lo2: float, hi2: float) -> bool:
    """True when [lo1, hi1] and [lo2, hi2] share a point; a missing interval
    counts as overlapping (the spread supports nothing)."""
    if any(math.isnan(v) for v in (lo1, hi1, lo2, hi2)):
        return True
    return lo1 <= hi2 and lo2 <= hi1


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of the positive finite values; NaN when there are none."""
    x = np.asarray([v for v in values if v > 0 and math.isfinite(v)], dtype=float)
    return float(np.exp(np.mean(np.log(x)))) if len(x) else NAN


def mann_whitney_p(old: Sequence[float], new: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value; NaN when either side is empty.
    All-equal samples (no spread at all) give p = 1."""
    if len(old) == 0 or len(new) == 0:
        return NAN
    if np.ptp(np.concatenate([np.asarray(old, float), np.asarray(new, float)])) == 0:
        return 1.0
    from scipy import stats as sps  # only --compare needs scipy

    return float(sps.mannwhitneyu(old, new, alternative="two-sided").pvalue)
