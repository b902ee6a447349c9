"""Ranks across benchmarks and the Friedman omnibus test (with Iman–Davenport's F).

Input convention: *scores*, an array of shape (num_benchmarks, num_methods) of per-benchmark
mean scores (row i = benchmark i, column j = method j), higher is better unless
`higher_is_better=False` is passed. Rank 1 is the best method on a benchmark; tied methods share
the average of the ranks they span (Demšar 2006).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from harness.stats.validation import score_matrix


@dataclass(frozen=True)
class FriedmanResult:
    """The Friedman test of `num_methods` methods over `num_benchmarks` benchmarks.

    `statistic` is Friedman's chi-square (df k - 1) and `p_value` its p; `iman_davenport_F` is
    Iman and Davenport's F (df k - 1 and (k - 1)(N - 1)), the less conservative form Demšar
    recommends, with p `iman_davenport_p`. `average_ranks[j]` is method j's mean rank (1 best).

    `min_attainable_p` = (k!)^(1 - N) is the exact permutation p of the most extreme outcome
    (every benchmark ranks the methods identically): no valid test of this design can go lower.
    Both approximations can (F is infinite there, p = 0), so a caller should not call a
    difference significant unless `min_attainable_p < alpha` too (N = 2, k = 2: 0.5; N = 5,
    k = 2: 0.0625; N = 3, k = 3: 0.028).
    """

    statistic: float
    p_value: float
    iman_davenport_F: float  # noqa: N815 - the statistic's conventional name
    iman_davenport_p: float
    average_ranks: tuple[float, ...]
    num_benchmarks: int
    num_methods: int
    min_attainable_p: float


def rank_matrix(scores: ArrayLike, *, higher_is_better: bool = True) -> np.ndarray:
    """Per-benchmark ranks, shape (num_benchmarks, num_methods): 1 = best, ties averaged.

    `scores`: (num_benchmarks, num_methods) per-benchmark mean scores.
    """
    oriented = score_matrix(scores, higher_is_better)
    return sps.rankdata(-oriented, method="average", axis=1)


def average_ranks(scores: ArrayLike, *, higher_is_better: bool = True) -> np.ndarray:
    """Mean rank of each method over the benchmarks, shape (num_methods,); lower is better.

    `scores`: (num_benchmarks, num_methods) per-benchmark mean scores.
    """
    return np.mean(rank_matrix(scores, higher_is_better=higher_is_better), axis=0)


def friedman_test(scores: ArrayLike, *, higher_is_better: bool = True) -> FriedmanResult:
    """Friedman's test that all methods have the same average rank, plus Iman–Davenport's F.

    `scores`: (num_benchmarks N, num_methods k) per-benchmark mean scores, N >= 2, k >= 2,
    higher is better unless `higher_is_better=False`.

        chi2 = 12 N / (k (k + 1)) * (sum_j R_j^2 - k (k + 1)^2 / 4),   df = k - 1
        F    = (N - 1) chi2 / (N (k - 1) - chi2),              df = (k - 1, (k - 1)(N - 1))

    with R_j the average ranks (ties averaged). This is Demšar's (2006) form, without the tie
    correction `scipy.stats.friedmanchisquare` applies, so that the published worked examples are
    reproduced; with ties it is slightly conservative. When every benchmark ranks the methods
    identically (chi2 = N (k - 1)), F is infinite and its p is 0.
    """
    ranks = rank_matrix(scores, higher_is_better=higher_is_better)
    num_benchmarks, num_methods = ranks.shape
    if num_benchmarks < 2:
        raise ValueError(f"the Friedman test needs at least 2 benchmarks, got {num_benchmarks}")
    mean_ranks = np.mean(ranks, axis=0)
    n, k = num_benchmarks, num_methods
    chi2 = 12.0 * n / (k * (k + 1)) * (np.sum(mean_ranks**2) - k * (k + 1) ** 2 / 4.0)
    chi2 = max(0.0, float(chi2))  # rounding can leave -1e-15 when all ranks are equal
    p_value = float(sps.chi2.sf(chi2, k - 1))
    denominator = n * (k - 1) - chi2
    if denominator <= 1e-12 * n * (k - 1):
        f_value, f_p = math.inf, 0.0
    else:
        f_value = (n - 1) * chi2 / denominator
        f_p = float(sps.f.sf(f_value, k - 1, (k - 1) * (n - 1)))
    return FriedmanResult(
        statistic=chi2,
        p_value=p_value,
        iman_davenport_F=float(f_value),
        iman_davenport_p=f_p,
        average_ranks=tuple(float(r) for r in mean_ranks),
        num_benchmarks=n,
        num_methods=k,
        min_attainable_p=friedman_min_p(k, n),
    )


def friedman_min_p(num_methods: int, num_benchmarks: int) -> float:
    """(k!)^(1 - N): the exact null probability that N benchmarks all rank k methods the same
    way, the smallest p any Friedman-type test of this design can honestly give."""
    if num_methods < 1 or num_benchmarks < 1:
        raise ValueError("need at least one method and one benchmark")
    return float(math.exp((1 - num_benchmarks) * math.lgamma(num_methods + 1)))
