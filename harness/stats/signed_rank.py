"""The exact Wilcoxon signed-rank test of paired values, ties and zeros included.

Used across benchmarks: `x[i]` and `y[i]` are two methods' mean scores on benchmark i.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from harness.stats.validation import sample

# Differences are compared after rounding to this many decimals of the largest |difference|,
# so that float noise (0.768 - 0.763 vs 0.936 - 0.931) cannot break a tie or a zero.
_RELATIVE_DECIMALS = 10


def _paired_differences(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """x - y, rounded relative to its largest magnitude (see `_RELATIVE_DECIMALS`)."""
    a, b = sample(x, "x"), sample(y, "y")
    if a.shape != b.shape:
        raise ValueError(f"paired samples must have equal length, got {a.size} and {b.size}")
    d = a - b
    scale = float(np.max(np.abs(d)))
    if scale == 0.0:
        return d
    return np.round(d / scale, _RELATIVE_DECIMALS)


def _doubled_midranks(values: np.ndarray) -> np.ndarray:
    """2 x the average ranks (1-based) of `values`: integers, since midranks are multiples of
    1/2. Written out because `scipy.stats.rankdata`'s input handling dominates the run time."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_group = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], values.size)
    doubled = np.empty(values.size, dtype=np.int64)
    doubled[order] = (starts + 1 + ends)[np.cumsum(starts_group) - 1]
    return doubled


def _signed_rank(d: np.ndarray) -> tuple[float, float]:
    """(T+, exact two-sided p) of the paired differences `d`; see `wilcoxon_p`."""
    doubled = _doubled_midranks(np.abs(d))
    t_plus = (np.sum(doubled[d > 0]) + 0.5 * np.sum(doubled[d == 0])) / 2.0
    nonzero = d != 0.0
    if not np.any(nonzero):
        return float(t_plus), 1.0
    weights = doubled[nonzero]
    observed = int(np.sum(weights[d[nonzero] > 0]))
    total = int(np.sum(weights))
    # probability[s] = P(sum of the positive doubled ranks = s) under random signs
    probability = np.zeros(total + 1)
    probability[0] = 1.0
    for weight in weights:
        shifted = np.zeros_like(probability)
        shifted[weight:] = probability[: total + 1 - weight]
        probability = 0.5 * (probability + shifted)
    sums = np.arange(total + 1)
    extreme = np.abs(2 * sums - total) >= abs(2 * observed - total)
    return float(t_plus), float(min(1.0, np.sum(probability[extreme])))


def wilcoxon_statistic(x: ArrayLike, y: ArrayLike) -> float:
    """T+ of the differences x - y: the sum of the ranks of |x - y| over positive differences,
    zero differences ranked and their ranks split evenly between the signs (Demšar 2006)."""
    return _signed_rank(_paired_differences(x, y))[0]


def wilcoxon_p(x: ArrayLike, y: ArrayLike) -> float:
    """Two-sided p of the exact Wilcoxon signed-rank test of the paired samples `x`, `y`.

    The |differences| are ranked (ties get their average rank; zero differences are ranked too
    and split evenly between the signs, as Demšar 2006 recommends). Under the null each nonzero
    difference is positive or negative with probability 1/2, independently; the exact null
    distribution of T+ over all 2^n sign patterns is computed by convolution on doubled ranks
    (average ranks are multiples of 1/2), so it stays exact with ties, where scipy's "exact"
    method is not, and it does not depend on scipy's method-selection rules. p = P(|T+ - E T+|
    >= |t - E T+|), at most 1; 1 when all differences are zero. Work is O(n^3) for n pairs.
    """
    return _signed_rank(_paired_differences(x, y))[1]


def wilcoxon_test(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """(`wilcoxon_statistic`, `wilcoxon_p`) of the paired samples, computed once."""
    return _signed_rank(_paired_differences(x, y))


def wilcoxon_min_p(num_pairs: int) -> float:
    """Smallest two-sided p the exact signed-rank test of `num_pairs` nonzero pairs can give.

    2 / 2^n, capped at 1: all differences of one sign is the most extreme of the 2^n equally
    likely sign patterns, on each side. 5 benchmarks give 1/16 = 0.0625: never below 0.05.
    """
    if num_pairs < 0:
        raise ValueError(f"num_pairs must be non-negative, got {num_pairs}")
    return min(1.0, 2.0 / 2.0**num_pairs)
