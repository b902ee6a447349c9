"""Intervals of effect sizes: the Welch interval of a difference of means, Newcombe's score
interval of the probability of improvement, Cohen's d labels, and their place in a Comparison."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from harness import stats

Z95 = 1.959963984540054


def test_welch_interval_of_a_difference_by_hand():
    fair = [0.80, 0.81, 0.79, 0.82, 0.78]
    legacy = [0.84, 0.85, 0.83, 0.86, 0.82]
    # both variances 0.00025, n = 5: se = sqrt(2 * 0.00025 / 5) = 0.01, Welch df = 8
    value, low, high = stats.mean_difference_ci(legacy, fair, 0.95)
    half = 2.306004135 * 0.01  # t_{0.975, 8}
    assert value == pytest.approx(0.04)
    assert (low, high) == pytest.approx((0.04 - half, 0.04 + half), abs=1e-9)
    unequal = ([0.97, 0.98, 0.96, 0.99, 0.95], [0.50, 0.52, 0.48, 0.51])
    expected = sps.ttest_ind(*unequal, equal_var=False).confidence_interval(0.9)
    assert stats.mean_difference_ci(*unequal, 0.9)[1:] == pytest.approx(tuple(expected))


def test_welch_interval_needs_two_seeds_a_side_and_collapses_for_constants():
    value, low, high = stats.mean_difference_ci([0.9], [0.5, 0.6])
    assert value == pytest.approx(0.35) and math.isnan(low) and math.isnan(high)
    assert stats.mean_difference_ci([0.7, 0.7], [0.5, 0.5]) == pytest.approx((0.2, 0.2, 0.2))


def _newcombe_v(theta: float, n: int, m: int) -> float:
    """Newcombe 2006, method 5: Hanley-McNeil with n - 1 and m - 1 -> (n + m) / 2 - 1."""
    shared = (n + m) / 2 - 1
    return theta * (1 - theta) * (1 + shared * (1 - theta) / (2 - theta)
                                  + shared * theta / (1 + theta)) / (n * m)


def test_probability_interval_solves_the_score_equation_at_both_bounds():
    a, b = [1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 0.0, 9.0]  # 9 of 16 pairs won -> 0.5625
    theta, low, high = stats.probability_of_improvement_ci(a, b)
    assert theta == pytest.approx(9 / 16) and low < theta < high
    for bound in (low, high):
        assert (theta - bound) ** 2 == pytest.approx(Z95**2 * _newcombe_v(bound, 4, 4),
                                                     rel=1e-9)


def test_complete_separation_keeps_a_wide_interval_and_mirrors():
    # 3 vs 3 seeds, every seed of a better: the estimate is 1, but the interval is not a point
    theta, low, high = stats.probability_of_improvement_ci([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    assert (theta, high) == (1.0, 1.0)
    assert (1 - low) ** 2 == pytest.approx(Z95**2 * _newcombe_v(low, 3, 3), rel=1e-9)
    assert low == pytest.approx(0.501, abs=5e-4)
    mirrored = stats.probability_of_improvement_ci([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert mirrored == pytest.approx((0.0, 1 - high, 1 - low))
    five = stats.probability_of_improvement_ci(np.arange(5.0) + 10, np.arange(5.0))
    assert five[1] > low  # more seeds, a tighter interval


def test_probability_interval_covers_at_its_level():
    rng = np.random.default_rng(11)
    # P(X > Y) for X ~ N(0.5, 1), Y ~ N(0, 1) is Phi(0.5 / sqrt(2))
    truth, covered, trials = sps.norm.cdf(0.5 / math.sqrt(2)), 0, 400
    for _ in range(trials):
        _, low, high = stats.probability_of_improvement_ci(rng.normal(0.5, 1, 5),
                                                           rng.normal(0, 1, 5))
        covered += low <= truth <= high
    assert covered / trials >= 0.92


@pytest.mark.parametrize(
    "d, label",
    [(0.0, "negligible"), (-0.19, "negligible"), (0.2, "small"), (-0.49, "small"),
     (0.5, "medium"), (0.79, "medium"), (-0.8, "large"), (math.inf, "large")],
)  # fmt: skip
def test_cohens_d_label_cohen_thresholds(d, label):
    assert stats.cohens_d_label(d) == label


def test_comparisons_carry_the_intervals_oriented_like_their_estimates():
    best = [0.80, 0.81, 0.79, 0.82, 0.78]
    worse = [0.50, 0.52, 0.48, 0.51]
    _, found = stats.compare_with_best({"best": best, "worse": worse}, confidence=0.9)
    comparison = found["worse"]
    assert comparison.confidence == 0.9
    assert (comparison.mean_difference, comparison.difference_ci_low,
            comparison.difference_ci_high) == stats.mean_difference_ci(worse, best, 0.9)
    # P(worse better than best) under "higher is better"; under "lower is better" the
    # lower scores win, so the same method is now the best and P flips its orientation
    assert (comparison.prob_improvement, comparison.prob_improvement_ci_low,
            comparison.prob_improvement_ci_high) == stats.probability_of_improvement_ci(
                worse, best, 0.9)
    name, lower = stats.compare_with_best({"best": best, "worse": worse},
                                          higher_is_better=False)
    flipped = lower["best"]
    assert name == "worse" and flipped.prob_improvement == 0.0
    assert (flipped.prob_improvement_ci_low, flipped.prob_improvement_ci_high) == (
        stats.probability_of_improvement_ci(worse, best)[1:])
