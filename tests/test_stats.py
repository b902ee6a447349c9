import math

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from harness import stats

# --- summarize_cell ---------------------------------------------------------------------------


def test_summarize_cell_student_t_interval_by_hand():
    cell = stats.summarize_cell([1, 2, 3, 4, 5])
    # mean 3; s = sqrt(sum of squared deviations / 4) = sqrt(10 / 4) = sqrt(2.5)
    # half width = t_{0.975, 4} * s / sqrt(5) = 2.7764451052 * sqrt(0.5) = 1.9632431615
    assert (cell.n, cell.mean, cell.median, cell.min, cell.max) == (5, 3.0, 3.0, 1.0, 5.0)
    assert cell.std == pytest.approx(math.sqrt(2.5))
    assert cell.ci_low == pytest.approx(3 - 1.9632431615, abs=1e-9)
    assert cell.ci_high == pytest.approx(3 + 1.9632431615, abs=1e-9)
    assert cell.confidence == 0.95


def test_summarize_cell_single_seed_has_no_interval():
    cell = stats.summarize_cell([0.7])
    assert cell.n == 1 and cell.mean == 0.7
    assert math.isnan(cell.std) and math.isnan(cell.ci_low) and math.isnan(cell.ci_high)


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [[1.0, 2.0]]])
def test_summarize_cell_rejects_empty_nan_and_2d(bad):
    with pytest.raises(ValueError):
        stats.summarize_cell(bad)


# --- corrections ------------------------------------------------------------------------------


def test_holm_by_hand():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max
    # 0.02, 0.03, 0.06, 0.06; back in input order [0.01, 0.04, 0.03, 0.005]:
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_benjamini_hochberg_by_hand():
    # sorted with rank k: 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04
    # running min from the top changes nothing; back in input order:
    adjusted = stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.02, 0.04, 0.04, 0.02])


def test_corrections_cap_at_one_and_accept_empty():
    np.testing.assert_allclose(stats.holm([0.6, 0.7]), [1.0, 1.0])
    assert stats.benjamini_hochberg([]).shape == (0,)
    with pytest.raises(ValueError):
        stats.holm([0.5, float("nan")])


# --- effect sizes -----------------------------------------------------------------------------


def test_cliffs_delta_by_hand():
    # pairs (a, b): (1,2)- (1,4)- (2,2)= (2,4)- (3,2)+ (3,4)-  ->  (1 - 4) / 6
    assert stats.cliffs_delta([1, 2, 3], [2, 4]) == pytest.approx(-0.5)
    assert stats.cliffs_delta([5, 6], [1, 2]) == 1.0


def test_cohens_d_pooled_sd_by_hand():
    # means 2 and 4, both variances 1 -> pooled SD 1 -> d = -2
    assert stats.cohens_d([1, 2, 3], [3, 4, 5]) == pytest.approx(-2.0)
    assert stats.cohens_d([1, 1], [2, 2]) == -math.inf
    assert math.isnan(stats.cohens_d([1, 1], [1, 1]))


def test_probability_of_improvement_is_u_over_nm():
    a, b = [0.1, 0.5, 0.5, 0.9], [0.2, 0.5, 0.3]
    # by hand: 0.1 beats none; each 0.5 beats 0.2, 0.3 and ties 0.5 (2.5); 0.9 beats all (3)
    # -> (0 + 2.5 + 2.5 + 3) / 12 = 8 / 12
    u = sps.mannwhitneyu(a, b, alternative="two-sided").statistic
    assert stats.probability_of_improvement(a, b) == pytest.approx(u / 12)
    assert stats.probability_of_improvement(a, b) == pytest.approx(8 / 12)


@pytest.mark.parametrize(
    "delta, label",
    [(0.0, "negligible"), (-0.146, "negligible"), (0.147, "small"), (-0.33, "medium"),
     (0.473, "medium"), (0.474, "large"), (-1.0, "large")],
)  # fmt: skip
def test_effect_size_label_romano_thresholds(delta, label):
    assert stats.effect_size_label(delta) == label


# --- attainable p-values and the power guard ------------------------------------------------


def test_min_attainable_p():
    assert stats.mann_whitney_min_p(3, 3) == pytest.approx(0.1)  # 2 / C(6, 3) = 2 / 20
    assert stats.mann_whitney_min_p(4, 4) == pytest.approx(2 / 70)
    assert stats.mann_whitney_min_p(1, 1) == 1.0  # 2 / 2, capped
    assert stats.welch_t_min_p(2, 2) == 0.0
    assert stats.welch_t_min_p(1, 5) == 1.0


def test_mann_whitney_three_vs_three_cannot_reach_significance():
    samples = {"best": [10.0, 11.0, 12.0], "other": [1.0, 2.0, 3.0]}
    best, comparisons = stats.compare_with_best(samples, test="mann-whitney")
    other = comparisons["other"]
    assert best == "best"
    assert other.p_value == pytest.approx(0.1)  # complete separation, the exact minimum
    assert other.min_attainable_p == pytest.approx(0.1)
    assert not other.can_reach_significance and not other.significant


def test_power_guard_accounts_for_the_correction():
    # 4 vs 4 alone can reach 2/70 = 0.029 < 0.05, but Holm over 3 comparisons needs 3 * 0.029
    rng = np.random.default_rng(0)
    samples = {name: rng.normal(loc, 1.0, size=4) for name, loc in
               [("a", 10.0), ("b", 0.0), ("c", 0.0), ("d", 0.0)]}  # fmt: skip
    _, alone = stats.compare_with_best({k: samples[k] for k in "ab"}, test="mann-whitney")
    _, family = stats.compare_with_best(samples, test="mann-whitney")
    assert alone["b"].can_reach_significance and alone["b"].significant
    assert family["b"].min_attainable_p == pytest.approx(3 * 2 / 70)
    assert not family["b"].can_reach_significance and not family["b"].significant


def test_single_seed_method_is_not_tested():
    _, comparisons = stats.compare_with_best({"a": [0.9, 0.8, 0.85], "b": [0.1]})
    assert math.isnan(comparisons["b"].p_value) and math.isnan(comparisons["b"].p_adjusted)
    assert not comparisons["b"].can_reach_significance and not comparisons["b"].significant


# --- Welch test -------------------------------------------------------------------------------


def test_welch_p_matches_hand_formula():
    a, b = [1.0, 2, 3, 4, 5], [3.0, 5, 7, 9, 11]
    # means 3, 7; variances 2.5, 10; se^2 = 2.5/5 + 10/5 = 2.5; t = -4 / sqrt(2.5)
    # Welch-Satterthwaite df = 2.5^2 / (0.5^2/4 + 2^2/4) = 6.25 / 1.0625
    # two-sided p = I_{df / (df + t^2)}(df / 2, 1 / 2)  (regularized incomplete beta)
    t, df = -4 / math.sqrt(2.5), 6.25 / 1.0625
    expected = special.betainc(df / 2, 0.5, df / (df + t * t))
    _, comparisons = stats.compare_with_best({"a": a, "b": b}, correction="none")
    assert comparisons["a"].p_value == pytest.approx(expected, rel=1e-10)
    assert comparisons["a"].p_value == pytest.approx(0.0454646, rel=1e-5)
    assert comparisons["a"].mean_difference == pytest.approx(-4.0)


def test_welch_constant_samples_guard():
    _, equal = stats.compare_with_best({"a": [0.5, 0.5], "b": [0.5, 0.5]})
    _, different = stats.compare_with_best({"a": [0.9, 0.9], "b": [0.5, 0.5]})
    assert equal["b"].p_value == 1.0 and not equal["b"].significant
    assert different["b"].p_value == 0.0 and different["b"].significant


def test_separated_pair_is_significant_and_identical_pair_is_not():
    high, low = [0.90, 0.91, 0.92, 0.93, 0.94], [0.50, 0.52, 0.51, 0.49, 0.53]
    _, separated = stats.compare_with_best({"high": high, "low": low})
    _, identical = stats.compare_with_best({"x": [1.0, 2, 3, 4, 5], "y": [5.0, 4, 3, 2, 1]})
    assert separated["low"].significant and separated["low"].can_reach_significance
    assert separated["low"].prob_improvement == 0.0
    assert identical["y"].p_value == pytest.approx(1.0)
    assert identical["y"].can_reach_significance and not identical["y"].significant


def test_a_a_false_positive_rate_of_welch():
    rng = np.random.default_rng(20240501)
    hits = 0
    for _ in range(400):
        _, result = stats.compare_with_best(
            {"a": rng.normal(0, 1, 5), "b": rng.normal(0, 1, 5)}, correction="none"
        )
        hits += next(iter(result.values())).p_value < 0.05
    assert hits / 400 <= 0.08


# --- compare_with_best / pairwise_tests -------------------------------------------------------


def test_compare_with_best_respects_direction():
    samples = {"hi": [0.9, 0.8, 0.85], "mid": [0.5, 0.6, 0.55], "lo": [0.1, 0.2, 0.15]}
    best_high, high = stats.compare_with_best(samples, higher_is_better=True)
    best_low, low = stats.compare_with_best(samples, higher_is_better=False)
    assert best_high == "hi" and set(high) == {"mid", "lo"}
    assert best_low == "lo" and set(low) == {"mid", "hi"}
    # prob_improvement points to "better"; differences stay raw (method - reference)
    assert high["mid"].prob_improvement == 0.0 and low["mid"].prob_improvement == 0.0
    assert low["mid"].mean_difference == pytest.approx(0.4)
    assert low["mid"].cliffs_delta == 1.0
    hi_vs_lo_up = stats.pairwise_tests(samples, higher_is_better=True)[("hi", "lo")]
    hi_vs_lo_down = stats.pairwise_tests(samples, higher_is_better=False)[("hi", "lo")]
    assert hi_vs_lo_up.prob_improvement == 1.0 and hi_vs_lo_down.prob_improvement == 0.0


def test_compare_with_best_breaks_ties_by_name():
    best, _ = stats.compare_with_best({"b": [1.0, 2.0], "a": [2.0, 1.0]})
    assert best == "a"


def test_compare_with_best_is_deterministic():
    samples = {"a": [0.71, 0.74, 0.73], "b": [0.70, 0.69, 0.72], "c": [0.60, 0.66, 0.61]}
    first = stats.compare_with_best(samples, test="mann-whitney")
    second = stats.compare_with_best(samples, test="mann-whitney")
    assert repr(first) == repr(second)


def test_pairwise_tests_covers_sorted_pairs_with_bh():
    samples = {"c": [1.0, 1.1, 1.2], "a": [3.0, 3.1, 3.3], "b": [2.0, 2.2, 2.1]}
    result = stats.pairwise_tests(samples)
    assert list(result) == [("a", "b"), ("a", "c"), ("b", "c")]
    raw = [result[pair].p_value for pair in result]
    np.testing.assert_allclose([c.p_adjusted for c in result.values()],
                               stats.benjamini_hochberg(raw))  # fmt: skip
    assert result[("a", "c")].method == "a" and result[("a", "c")].reference == "c"


@pytest.mark.parametrize(
    "kwargs",
    [{"test": "t-test"}, {"correction": "bonferroni"}, {"alpha": 1.5}],
)
def test_compare_with_best_rejects_unknown_options(kwargs):
    with pytest.raises(ValueError):
        stats.compare_with_best({"a": [1.0, 2.0], "b": [1.0, 2.0]}, **kwargs)


# --- aggregates and the stratified bootstrap ------------------------------------------------


def test_aggregates_by_hand():
    scores = np.arange(1.0, 9.0).reshape(4, 2)  # 4 runs x 2 tasks, values 1..8
    assert stats.aggregate_mean(scores) == pytest.approx(4.5)
    assert stats.aggregate_iqm(scores) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert stats.aggregate_iqm([[1.0], [2.0], [3.0], [100.0]]) == pytest.approx(2.5)
    assert stats.aggregate_optimality_gap([[0.5, 1.2]]) == pytest.approx(0.25)


def test_stratified_bootstrap_is_reproducible_and_contains_the_estimate():
    scores = np.random.default_rng(1).normal(0.5, 0.1, size=(5, 3))
    first = stats.stratified_bootstrap_ci(
        scores, stats.aggregate_iqm, rng=np.random.default_rng(7), reps=500
    )
    second = stats.stratified_bootstrap_ci(
        scores, stats.aggregate_iqm, rng=np.random.default_rng(7), reps=500
    )
    assert first == second
    point, low, high = first
    assert point == stats.aggregate_iqm(scores)
    assert low < point < high


def test_stratified_bootstrap_resamples_within_tasks():
    # every run of task 0 scores 0 and of task 1 scores 1: resampling within columns keeps the
    # mean at exactly 0.5; resampling whole cells across tasks would not
    scores = np.array([[0.0, 1.0]] * 4)
    point, low, high = stats.stratified_bootstrap_ci(
        scores, stats.aggregate_mean, rng=np.random.default_rng(0), reps=200
    )
    assert point == low == high == 0.5
