"""Time-to-result scoring (AlgoPerf) on a hand-computed example, plus the bootstrap extras."""

import math

import numpy as np
import pytest

from harness.errors import UserError
from harness.metrics import time_to_result as ttr

INF = math.inf

# Three submissions (A, B, C) x three workloads (w0, w1, w2) x three studies: each study's
# time is already its fastest trial (see test_a_study_keeps_its_fastest_trial).
STUDY_TIMES = np.array([
    # w0                w1                 w2
    [[10, 20, INF], [100, 100, 120], [30, 25, 40]],  # A
    [[40, 35, 50], [60, INF, INF], [10, 12, 8]],  # B
    [[60, 50, 70], [450, 440, 460], [20, 25, 15]],  # C
], dtype=float)
# Medians over studies (inf-aware):
#   A: w0 median(10, 20, inf) = 20   w1 median(100, 100, 120) = 100   w2 median(25, 30, 40) = 30
#   B: w0 40                         w1 median(60, inf, inf) = inf    w2 10
#   C: w0 60                         w1 450                           w2 20
MEDIANS = np.array([[20, 100, 30], [40, INF, 10], [60, 450, 20]], dtype=float)

# Only w0 has a held-out variant (NaN = no variant). C misses its target on the variant.
VARIANT_TIMES = np.array([[25, np.nan, np.nan], [50, np.nan, np.nan], [INF, np.nan, np.nan]])
# After the held-out rule C's w0 becomes inf:
TIMES = np.array([[20, 100, 30], [40, INF, 10], [INF, 450, 20]], dtype=float)
# Fastest per workload: w0 20 (A), w1 100 (A), w2 10 (B). Ratios, then the 4x cut:
#   A: [20/20, 100/100, 30/10] = [1, 1, 3]
#   B: [40/20, inf, 10/10]     = [2, inf, 1]
#   C: [inf, 450/100 = 4.5 > 4 -> inf, 20/10 = 2] = [inf, inf, 2]
RATIOS = np.array([[1, 1, 3], [2, INF, 1], [INF, INF, 2]], dtype=float)
# Score: each workload with r <= 4 adds (4 - r) / 3, averaged over the 3 workloads:
#   A: (3 + 3 + 1) / 3 / 3 = 7/9;  B: (2 + 0 + 3) / 9 = 5/9;  C: (0 + 0 + 2) / 9 = 2/9
SCORES = np.array([7 / 9, 5 / 9, 2 / 9])


def test_time_to_target_is_the_first_evaluation_meeting_the_target():
    times = [10, 20, 30, 40]
    # 0.7 is first met at 20 s, although 0.65 follows it: the first hit counts.
    assert ttr.time_to_target(times, [0.5, 0.7, 0.65, 0.8], 0.7, higher_is_better=True,
                              max_runtime_s=100) == 20
    # lower is better (a loss or an error rate): 1.5 is met at 30 s
    assert ttr.time_to_target(times, [3, 2, 1.5, 1], 1.5, higher_is_better=False,
                              max_runtime_s=100) == 30
    # 0.8 is met only at 40 s, after the 25 s budget: not reached
    assert ttr.time_to_target(times, [0.5, 0.7, 0.65, 0.8], 0.8, higher_is_better=True,
                              max_runtime_s=25) == INF
    # a diverged run (NaN) never meets a target
    assert ttr.time_to_target(times, [np.nan] * 4, 0.1, higher_is_better=False,
                              max_runtime_s=100) == INF


def test_time_to_target_rejects_malformed_curves():
    with pytest.raises(ValueError, match="non-decreasing"):
        ttr.time_to_target([10, 5], [0, 1], 1, higher_is_better=True, max_runtime_s=100)
    with pytest.raises(ValueError, match="shape"):
        ttr.time_to_target([10, 20], [0, 1, 2], 1, higher_is_better=True, max_runtime_s=100)


def test_a_study_keeps_its_fastest_trial_not_the_one_with_fewest_evaluations():
    # Trial 1 evaluates every 10 s and hits 0.75 at its 3rd evaluation (30 s); trial 2
    # evaluates every 25 s and hits it at its 2nd (50 s). Fewer evaluations, more time.
    trial_1 = ttr.time_to_target([10, 20, 30], [0.5, 0.6, 0.8], 0.75, higher_is_better=True,
                                 max_runtime_s=100)
    trial_2 = ttr.time_to_target([25, 50], [0.6, 0.8], 0.75, higher_is_better=True,
                                 max_runtime_s=100)
    assert (trial_1, trial_2) == (30, 50)
    # (num_studies=2, num_trials=3): study 0 -> 30; study 1 solved by no trial -> inf
    trial_times = [[trial_1, trial_2, INF], [INF, INF, INF]]
    np.testing.assert_array_equal(ttr.fastest_trial_times(trial_times), [30, INF])


def test_workload_time_is_the_inf_aware_median_over_studies():
    np.testing.assert_array_equal(ttr.median_study_times(STUDY_TIMES), MEDIANS)
    assert ttr.median_study_times([1, INF, INF]) == INF  # most studies failed
    assert ttr.median_study_times([1, 2, INF]) == 2  # one failed study is tolerated
    assert ttr.median_study_times([1, INF]) == INF  # even count: mean of 1 and inf


def test_heldout_variant_failure_sets_the_base_workload_to_inf():
    np.testing.assert_array_equal(ttr.apply_heldout_rule(MEDIANS, VARIANT_TIMES), TIMES)
    # without the rule C would rank on w0 with ratio 60 / 20 = 3: score (1 + 0 + 2) / 9
    assert ttr.benchmark_score(MEDIANS)[2] == pytest.approx(3 / 9)


def test_ratios_cut_at_four_times_the_best():
    np.testing.assert_array_equal(ttr.performance_ratios(TIMES), RATIOS)
    # with a looser cut C's 4.5 survives
    assert ttr.performance_ratios(TIMES, max_ratio=5.0)[2, 1] == pytest.approx(4.5)
    # a workload nobody solved: every ratio is inf, no NaN from inf / inf
    unsolved = ttr.performance_ratios([[INF, 1.0], [INF, 2.0]])
    np.testing.assert_array_equal(unsolved, [[INF, 1], [INF, 2]])


def test_performance_profile_by_hand():
    profile = ttr.performance_profile(TIMES, [1, 2, 3, 5])
    expected = np.array([
        [2 / 3, 2 / 3, 3 / 3, 3 / 3],  # A: ratios 1, 1, 3
        [1 / 3, 2 / 3, 2 / 3, 2 / 3],  # B: ratios 2, inf, 1
        [0 / 3, 1 / 3, 1 / 3, 1 / 3],  # C: ratio 2 only (4.5 was cut, so not counted at τ=5)
    ])
    np.testing.assert_allclose(profile, expected)


def test_benchmark_score_exact_and_by_numeric_integration():
    np.testing.assert_allclose(ttr.benchmark_score(TIMES), SCORES)
    taus = np.linspace(1.0, 4.0, 30_001)
    profile = ttr.performance_profile(TIMES, taus)
    numeric = np.trapezoid(profile, taus, axis=1) / 3.0
    np.testing.assert_allclose(numeric, SCORES, atol=1e-3)  # steps blur over one grid cell


def test_best_everywhere_scores_one_and_never_within_four_scores_zero():
    np.testing.assert_allclose(ttr.benchmark_score([[1.0, 1.0], [5.0, INF]]), [1.0, 0.0])


def test_geometric_mean_speedup_over_workloads_both_solved():
    speedup = ttr.geometric_mean_speedup(TIMES, reference_index=1)  # against B
    # A: both finite on w0 (40 / 20 = 2) and w2 (10 / 30 = 1/3): sqrt(2/3)
    # B: itself, 1;  C: only w2 is finite for both (10 / 20): 0.5
    np.testing.assert_allclose(speedup, [math.sqrt(2 / 3), 1.0, 0.5])
    # no workload solved by both: undefined (NaN), never 0 or 1
    assert np.isnan(ttr.geometric_mean_speedup([[INF, 1.0], [2.0, INF]], 0)[1])


def test_bootstrap_is_reproducible_with_a_seed_and_brackets_the_median():
    first = ttr.bootstrap_workload_times(STUDY_TIMES, np.random.default_rng(7), reps=500)
    again = ttr.bootstrap_workload_times(STUDY_TIMES, np.random.default_rng(7), reps=500)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (2, 3, 3)
    lower, upper = first
    assert np.all(lower <= MEDIANS) and np.all(upper >= MEDIANS)
    # B on w1, studies (60, inf, inf): resamples give 60 or inf
    assert (lower[1, 1], upper[1, 1]) == (60, INF)
    # A on w1, studies (100, 100, 120): medians of resamples are 100 or 120
    assert set(first[:, 0, 1]) <= {100.0, 120.0}


def test_score_bootstrap_is_reproducible_and_degenerate_without_spread():
    variants = np.repeat(VARIANT_TIMES[:, :, None], 3, axis=2)
    first = ttr.bootstrap_benchmark_score(STUDY_TIMES, np.random.default_rng(3), reps=300,
                                          variant_study_times=variants)
    again = ttr.bootstrap_benchmark_score(STUDY_TIMES, np.random.default_rng(3), reps=300,
                                          variant_study_times=variants)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (2, 3) and np.all(first[0] <= first[1])
    # identical studies in every cell: every replicate is the point estimate
    flat = np.repeat(MEDIANS[:, :, None], 4, axis=2)
    flat_variants = np.repeat(VARIANT_TIMES[:, :, None], 4, axis=2)
    interval = ttr.bootstrap_benchmark_score(flat, np.random.default_rng(0), reps=50,
                                             variant_study_times=flat_variants)
    np.testing.assert_allclose(interval, [SCORES, SCORES])


def test_bootstrap_needs_a_generator():
    with pytest.raises(TypeError, match="Generator"):
        ttr.bootstrap_workload_times(STUDY_TIMES, 0, reps=10)  # type: ignore[arg-type]


def test_scores_refuse_to_mix_hardware_classes():
    assert ttr.check_same_hardware(["h100-x1", "h100-x1"]) == "h100-x1"
    with pytest.raises(UserError, match=r"2 hardware classes: 'h100-x1' \(2 runs\), "
                                        r"'a100-x1' \(1 run\)"):
        ttr.check_same_hardware(["h100-x1", "a100-x1", "h100-x1"])
    with pytest.raises(UserError, match="no runs"):
        ttr.check_same_hardware([])


@pytest.mark.parametrize("times", [[[0.0, 1.0]], [[np.nan, 1.0]], [1.0, 2.0]])
def test_times_must_be_positive_and_two_dimensional(times):
    with pytest.raises(ValueError):
        ttr.benchmark_score(times)
