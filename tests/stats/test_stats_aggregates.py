import numpy as np
import pytest

from harness import stats


def test_median_and_nan_padding_by_hand():
    scores = np.array([[1.0, 2.0, 10.0], [3.0, np.nan, 20.0]])  # task 1 has one run
    # per-task means 2, 2, 15
    assert stats.aggregate_mean(scores) == pytest.approx(19 / 3)
    assert stats.aggregate_median(scores) == pytest.approx(2.0)
    assert stats.aggregate_optimality_gap(scores, gamma=2.5) == pytest.approx((1.5 + 0.5) / 5)
    with pytest.raises(ValueError, match="no finite run"):
        stats.aggregate_mean([[1.0, np.nan], [2.0, np.nan]])


def test_normalize_scores_per_task():
    normalized = stats.normalize_scores([[0.5, 30.0]], low=[0.0, 10.0], high=[1.0, 50.0])
    np.testing.assert_allclose(normalized, [[0.5, 0.5]])
    with pytest.raises(ValueError):
        stats.normalize_scores([[1.0]], low=1.0, high=1.0)


def test_interval_estimates_for_every_method_and_aggregate():
    rng = np.random.default_rng(4)
    scores = {"b": rng.normal(0.6, 0.05, (5, 4)), "a": rng.normal(0.8, 0.05, (5, 4))}
    first = stats.aggregate_interval_estimates(scores, rng=np.random.default_rng(9), reps=300)
    again = stats.aggregate_interval_estimates(scores, rng=np.random.default_rng(9), reps=300)
    assert first == again and list(first) == ["a", "b"]
    assert list(first["a"]) == ["mean", "median", "iqm", "optimality_gap"]
    for name, by_aggregate in first.items():
        for aggregate, estimate in by_aggregate.items():
            assert estimate.ci_low <= estimate.point <= estimate.ci_high, (name, aggregate)
            assert estimate.point == stats.AGGREGATES[aggregate](scores[name])
    assert first["a"]["iqm"].ci_low > first["b"]["iqm"].ci_high
    with pytest.raises(ValueError, match="unknown aggregates"):
        stats.aggregate_interval_estimates(scores, rng=np.random.default_rng(0), aggregates=["x"])


def test_padded_bootstrap_only_draws_real_runs():
    scores = np.array([[1.0, 5.0], [1.0, np.nan], [1.0, np.nan]])
    point, low, high = stats.stratified_bootstrap_ci(
        scores, stats.aggregate_mean, rng=np.random.default_rng(0), reps=100
    )
    assert point == low == high == 3.0


def test_vectorized_bootstrap_equals_the_per_replicate_aggregates():
    from harness.stats.aggregates import _percentiles, _replicates

    scores = np.random.default_rng(4).uniform(0.1, 1.2, size=(5, 7))
    scores[3:, 2] = np.nan  # a task with fewer runs
    estimates = stats.aggregate_interval_estimates({"m": scores}, rng=np.random.default_rng(1),
                                                   reps=400)["m"]
    replicates = list(_replicates(scores, np.random.default_rng(1), 400))
    for name, function in stats.AGGREGATES.items():
        low, high = _percentiles([function(r) for r in replicates], 0.95)
        assert (estimates[name].ci_low, estimates[name].ci_high) == pytest.approx(
            (low, high), rel=1e-12, abs=1e-12), name
