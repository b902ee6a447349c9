import numpy as np
import pytest

from harness import stats


def test_clear_order_gives_degenerate_intervals_over_benchmarks():
    scores = np.array([[3.0, 2.0, 1.0], [30.0, 20.0, 10.0], [0.3, 0.2, 0.1]])
    result = stats.rank_intervals_over_benchmarks(
        scores, rng=np.random.default_rng(0), reps=200, methods=["a", "b", "c"]
    )
    assert result.rank == result.ci_low == result.ci_high == (1, 2, 3)
    assert (result.over, result.reps, result.methods) == ("benchmarks", 200, ("a", "b", "c"))
    lower = stats.rank_intervals_over_benchmarks(
        scores, rng=np.random.default_rng(0), reps=50, higher_is_better=False
    )
    assert lower.rank == (3, 2, 1)


def test_intervals_over_benchmarks_widen_with_disagreement_and_are_reproducible():
    # a wins two benchmarks, b the other two: each can be first or second
    scores = np.array([[2.0, 1.0], [2.0, 1.0], [1.0, 2.0], [1.0, 2.0]])
    first = stats.rank_intervals_over_benchmarks(scores, rng=np.random.default_rng(3), reps=500)
    again = stats.rank_intervals_over_benchmarks(scores, rng=np.random.default_rng(3), reps=500)
    assert first == again
    assert first.rank == (1, 1)  # tied average ranks share the better position
    assert first.ci_low == (1, 1) and first.ci_high == (2, 2)


def test_intervals_over_seeds_reflect_seed_noise_and_accept_padding():
    # per benchmark: a alternates around b's constant value, so resampled seeds put a above or
    # below b; c is far below both. b has only 4 seeds on benchmark 0 (NaN padding).
    nan = np.nan
    a = [[0.25, 0.5], [0.75, 1.0]] * 3  # binary fractions: exact means, an exact tie with b
    b = [[0.5, 0.75]] * 4 + [[nan, 0.75]] * 2
    c = [[0.0, 0.0]] * 6
    runs = np.stack([a, b, c], axis=-1)  # (6 seeds, 2 benchmarks, 3 methods)
    result = stats.rank_intervals_over_seeds(runs, rng=np.random.default_rng(2), reps=400)
    assert result.over == "seeds" and result.rank == (1, 1, 3)
    assert result.ci_low == (1, 1, 3) and result.ci_high == (2, 2, 3)


def test_seed_cells_without_any_value_are_rejected():
    runs = np.ones((3, 2, 2))
    runs[:, 1, 0] = np.nan
    with pytest.raises(ValueError, match="no finite seed"):
        stats.rank_intervals_over_seeds(runs, rng=np.random.default_rng(0))
