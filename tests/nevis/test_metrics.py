"""Stream metrics, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics.nevis import knowledge_accumulation, pareto_front, stream_summary, task_errors


def test_task_errors_and_the_two_averages():
    labels = np.array([0, 0, 0, 0, 1, 1])
    predictions = np.array([0, 1, 1, 1, 1, 1])
    task_ids = np.array([0, 0, 0, 0, 1, 1])
    errors = task_errors(predictions, labels, task_ids, 2)
    assert errors.tolist() == [0.75, 0.0]
    summary = stream_summary(errors, [4, 2], [10.0, 30.0], [0.0, 20.0])
    assert summary["avg_error"] == pytest.approx(0.375)
    assert summary["weighted_error"] == pytest.approx(3 / 6)
    assert summary["train_flops"] == 40.0 and summary["search_share"] == pytest.approx(0.5)


def test_pareto_front_keeps_only_undominated_methods():
    points = {"cheap-bad": (0.5, 1.0), "dear-good": (0.1, 10.0), "dominated": (0.5, 5.0),
              "middle": (0.3, 3.0), "tie-of-middle": (0.3, 3.0)}
    assert pareto_front(points) == ["cheap-bad", "middle", "tie-of-middle", "dear-good"]


def test_knowledge_accumulation_is_the_difference_to_the_independent_learner():
    assert knowledge_accumulation([0.2, 0.5], [0.4, 0.5]).tolist() == pytest.approx([-0.2, 0.0])
    with pytest.raises(ValueError):
        knowledge_accumulation([0.1], [0.1, 0.2])
