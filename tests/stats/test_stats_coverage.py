import math

import numpy as np
import pytest

from harness import stats

ROWS = [
    ("b1", "full", 0.9), ("b2", "full", 0.8), ("b3", "full", 0.7),
    ("b1", "other", 0.5), ("b2", "other", 0.6), ("b3", "other", 0.4),
    ("b1", "partial", 0.99), ("b2", "partial", math.nan),  # failed on b2, never ran b3
]  # fmt: skip


def test_keep_benchmarks_drops_incomplete_methods():
    result = stats.common_subset(ROWS)
    assert result.benchmarks == ("b1", "b2", "b3") and result.methods == ("full", "other")
    np.testing.assert_array_equal(result.scores, [[0.9, 0.5], [0.8, 0.6], [0.7, 0.4]])
    assert result.coverage == (("full", 3), ("other", 3), ("partial", 1))
    assert result.dropped_methods == ("partial",) and result.num_benchmarks == 3
    assert not result.is_complete


def test_keep_methods_drops_incomplete_benchmarks():
    result = stats.common_subset(ROWS, keep="methods")
    assert result.methods == ("full", "other", "partial") and result.benchmarks == ("b1",)
    np.testing.assert_array_equal(result.scores, [[0.9, 0.5, 0.99]])
    assert result.dropped_benchmarks == ("b2", "b3")


def test_a_missing_benchmark_is_never_averaged_over():
    # "partial" has the best value on the one benchmark it ran; averaging over what it ran
    # would rank it first. It must not appear in a comparison over all benchmarks.
    result = stats.common_subset(ROWS)
    assert "partial" not in result.methods
    assert stats.friedman_test(result.scores).num_methods == 2


def test_complete_table_and_duplicates():
    complete = stats.common_subset([r for r in ROWS if r[1] != "partial"])
    assert complete.is_complete and complete.scores.shape == (3, 2)
    with pytest.raises(ValueError, match="aggregate seeds"):
        stats.common_subset([("b1", "m", 0.1), ("b1", "m", 0.2)])
    empty = stats.common_subset([("b1", "m", 0.1), ("b2", "n", 0.2)])
    assert empty.scores.shape == (2, 0)
