"""Two-sample tests within one benchmark cell, with the power guard.

Input convention: *samples*, a mapping method name -> 1-D array of that method's scores on one
benchmark, one value per seed. Seeds of different methods are treated as independent (Welch's t
or Mann-Whitney U).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from scipy import stats as sps

from harness.stats.corrections import CORRECTIONS, CorrectionName
from harness.stats.effect_sizes import (
    cliffs_delta,
    cohens_d,
    mean_difference_ci,
    probability_of_improvement_ci,
)
from harness.stats.validation import check_choice, check_open_unit, sample

TestName = Literal["welch-t", "mann-whitney"]

# scipy's own rule of thumb for the exact Mann-Whitney null distribution, fixed here so that a
# scipy upgrade cannot silently change which p-value a leaderboard shows.
_MANN_WHITNEY_EXACT_MAX_N = 8


@dataclass(frozen=True)
class Comparison:
    """One two-sample test of `method` against `reference` on one benchmark cell.

    `mean_difference`, `cliffs_delta` and `cohens_d` are signed as method minus reference, in the
    metric's own units; only `prob_improvement` (P(method better than reference), ties 1/2) is
    turned to the "better" direction. Intervals are at level `confidence`: the difference's is
    Welch's t interval (`mean_difference_ci`; nan with fewer than 2 values on a side, whatever
    the test), the probability's Newcombe's score interval (`probability_of_improvement_ci`).
    `min_attainable_p` is the smallest *adjusted* p-value this design (sample sizes, test,
    correction and family size) could produce; `can_reach_significance` is
    `min_attainable_p < alpha`. When it is False the site says "cannot be tested with this many
    seeds" rather than "not significant", and `significant` is False.
    """

    method: str
    reference: str
    test: TestName
    p_value: float  # two-sided raw p; nan when either sample has fewer than 2 values
    p_adjusted: float  # after the family-wise / FDR correction
    significant: bool
    can_reach_significance: bool
    min_attainable_p: float
    mean_difference: float
    cliffs_delta: float
    cohens_d: float
    prob_improvement: float
    confidence: float
    difference_ci_low: float
    difference_ci_high: float
    prob_improvement_ci_low: float
    prob_improvement_ci_high: float


def mann_whitney_min_p(n: int, m: int) -> float:
    """Smallest two-sided p-value an exact Mann-Whitney test of n vs m values can give.

    2 / C(n + m, n), capped at 1: the two complete separations are the most extreme of the
    C(n + m, n) equally likely rank arrangements. 3 vs 3 gives 2/20 = 0.1, so it can never
    reach p < 0.05.
    """
    if n < 0 or m < 0:
        raise ValueError(f"sample sizes must be non-negative, got {n} and {m}")
    return min(1.0, 2.0 / special.comb(n + m, n, exact=True))


def welch_t_min_p(n: int, m: int) -> float:
    """Smallest p-value Welch's t-test of n vs m values can give: 0.0 if n, m >= 2, else 1.0.

    With two or more values per side the t statistic is unbounded, so any p is attainable; with
    fewer, a variance is undefined and the test cannot be run (1.0 stands for "unattainable").
    """
    if n < 0 or m < 0:
        raise ValueError(f"sample sizes must be non-negative, got {n} and {m}")
    return 0.0 if n >= 2 and m >= 2 else 1.0


def _welch_p(x: np.ndarray, y: np.ndarray) -> float:
    # Both samples constant: scipy returns nan (0/0). Equal constants are indistinguishable
    # (p = 1); different constants are separated with zero noise (p = 0).
    # Computed here rather than by `scipy.stats.ttest_ind`, whose input machinery costs ~100x
    # the arithmetic (it matters in the A/A simulations and on big leaderboards).
    if np.ptp(x) == 0.0 and np.ptp(y) == 0.0:
        return 1.0 if x[0] == y[0] else 0.0
    var_x, var_y = np.var(x, ddof=1) / x.size, np.var(y, ddof=1) / y.size
    t = (np.mean(x) - np.mean(y)) / math.sqrt(var_x + var_y)
    dof = (var_x + var_y) ** 2 / (var_x**2 / (x.size - 1) + var_y**2 / (y.size - 1))
    return float(min(1.0, 2.0 * special.stdtr(dof, -abs(t))))


def _mann_whitney_p(x: np.ndarray, y: np.ndarray) -> float:
    # With ties the asymptotic p of a tiny design can dip below the exact minimum (3 vs 3 with
    # ties: ~0.047); the power guard still uses the exact permutation bound, so it stays honest.
    has_ties = np.unique(np.concatenate([x, y])).size < x.size + y.size
    small = min(x.size, y.size) <= _MANN_WHITNEY_EXACT_MAX_N
    method = "exact" if small and not has_ties else "asymptotic"
    result = sps.mannwhitneyu(x, y, alternative="two-sided", method=method)
    return float(result.pvalue)


def _raw_comparison(
    method: str, reference: str, x: np.ndarray, y: np.ndarray, test: TestName, higher: bool,
    confidence: float,
) -> dict:
    """Fields of a Comparison that do not depend on the rest of the family."""
    testable = x.size >= 2 and y.size >= 2
    better, worse = (x, y) if higher else (y, x)
    if test == "welch-t":
        p_value = _welch_p(x, y) if testable else math.nan
        min_p = welch_t_min_p(x.size, y.size)
    else:
        p_value = _mann_whitney_p(x, y) if testable else math.nan
        min_p = mann_whitney_min_p(x.size, y.size) if testable else 1.0
    difference, difference_low, difference_high = mean_difference_ci(x, y, confidence)
    improvement, improvement_low, improvement_high = probability_of_improvement_ci(
        better, worse, confidence)
    return {
        "method": method,
        "reference": reference,
        "test": test,
        "p_value": p_value,
        "min_attainable_p": min_p,
        "mean_difference": difference,
        "cliffs_delta": cliffs_delta(x, y),
        "cohens_d": cohens_d(x, y),
        "prob_improvement": improvement,
        "confidence": confidence,
        "difference_ci_low": difference_low,
        "difference_ci_high": difference_high,
        "prob_improvement_ci_low": improvement_low,
        "prob_improvement_ci_high": improvement_high,
    }


def _finalize(raws: list[dict], correction: CorrectionName, alpha: float) -> list[Comparison]:
    """Adjust the family's p-values together and decide significance.

    Only comparisons with a finite p form the family. Their smallest attainable adjusted p is
    the correction applied to their smallest attainable raw p's (Holm and BH are monotone in
    each p-value, so that vector gives the minimum).
    """
    tested = [i for i, raw in enumerate(raws) if not math.isnan(raw["p_value"])]
    adjust = CORRECTIONS[correction]
    adjusted = adjust(np.array([raws[i]["p_value"] for i in tested]))
    min_adjusted = adjust(np.array([raws[i]["min_attainable_p"] for i in tested]))
    position = {i: k for k, i in enumerate(tested)}
    comparisons = []
    for i, raw in enumerate(raws):
        fields = dict(raw, p_adjusted=math.nan, can_reach_significance=False, significant=False)
        if i in position:
            k = position[i]
            reachable = bool(min_adjusted[k] < alpha)
            fields.update(
                p_adjusted=float(adjusted[k]),
                min_attainable_p=float(min_adjusted[k]),
                can_reach_significance=reachable,
                significant=reachable and bool(adjusted[k] < alpha),
            )
        comparisons.append(Comparison(**fields))
    return comparisons


def _check_family(
    samples: Mapping[str, ArrayLike], test: str, correction: str, alpha: float,
    confidence: float,
) -> dict[str, np.ndarray]:
    check_choice(test, TestName, "test")
    check_choice(correction, CorrectionName, "correction")
    check_open_unit(alpha, "alpha")
    check_open_unit(confidence, "confidence")
    if not samples:
        raise ValueError("no methods to compare")
    return {name: sample(values, f"scores of {name!r}") for name, values in samples.items()}


def compare_with_best(
    samples: Mapping[str, ArrayLike],
    *,
    higher_is_better: bool = True,
    alpha: float = 0.05,
    test: TestName = "welch-t",
    correction: CorrectionName = "holm",
    confidence: float = 0.95,
) -> tuple[str, dict[str, Comparison]]:
    """Test every method against the best one on one benchmark cell.

    `samples`: method name -> 1-D sample (one score per seed). The best method has the best mean
    (ties broken by the smaller name, for determinism). Each other method is compared with it by
    a two-sided `test`; p-values are adjusted across that family by `correction`. Methods with
    fewer than 2 values (or a best with fewer than 2) get p = nan and cannot reach significance.
    Effect-size intervals are at level `confidence`.
    Returns (best_name, {method: Comparison}) with the best itself left out.
    """
    arrays = _check_family(samples, test, correction, alpha, confidence)
    sign = -1.0 if higher_is_better else 1.0
    best = min(arrays, key=lambda name: (sign * float(np.mean(arrays[name])), name))
    others = sorted(name for name in arrays if name != best)
    raws = [
        _raw_comparison(name, best, arrays[name], arrays[best], test, higher_is_better,
                        confidence)
        for name in others
    ]
    return best, {c.method: c for c in _finalize(raws, correction, alpha)}


def pairwise_tests(
    samples: Mapping[str, ArrayLike],
    *,
    test: TestName = "welch-t",
    correction: CorrectionName = "benjamini-hochberg",
    alpha: float = 0.05,
    higher_is_better: bool = True,
    confidence: float = 0.95,
) -> dict[tuple[str, str], Comparison]:
    """Test all unordered pairs of methods on one benchmark cell (for the heatmap).

    `samples`: method name -> 1-D sample. Keys are (a, b) with a < b by name; each Comparison
    has method=a, reference=b. p-values are adjusted across all pairs by `correction`;
    effect-size intervals are at level `confidence`.
    """
    arrays = _check_family(samples, test, correction, alpha, confidence)
    pairs = list(combinations(sorted(arrays), 2))
    raws = [_raw_comparison(a, b, arrays[a], arrays[b], test, higher_is_better, confidence)
            for a, b in pairs]
    return dict(zip(pairs, _finalize(raws, correction, alpha), strict=True))
