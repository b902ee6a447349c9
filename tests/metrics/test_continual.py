import math

import numpy as np
import pytest

from harness.metrics import continual

# Hand-checkable 3-task matrix, rows = (untrained, after task 0, after task 1, after task 2).
ACC = np.array(
    [
        [0.10, 0.20, 0.30],  # untrained
        [0.90, 0.40, 0.35],  # after task 0
        [0.92, 0.85, 0.45],  # after task 1 (task 0 improved a little: backward gain)
        [0.70, 0.75, 0.95],  # after task 2 (final)
    ]
)


def test_final_average_accuracy():
    # (0.70 + 0.75 + 0.95) / 3 = 2.40 / 3
    assert continual.final_average_accuracy(ACC) == pytest.approx(0.80)


def test_average_incremental_accuracy():
    # k=1: 0.90; k=2: (0.92 + 0.85) / 2 = 0.885; k=3: 0.80  ->  (0.90 + 0.885 + 0.80) / 3
    assert continual.average_incremental_accuracy(ACC) == pytest.approx(2.585 / 3)


def test_backward_transfer():
    # task 0: 0.70 - 0.90 = -0.20; task 1: 0.75 - 0.85 = -0.10  ->  mean -0.15
    assert continual.backward_transfer(ACC) == pytest.approx(-0.15)


def test_forward_transfer_uses_untrained_row_as_baseline():
    # task 1: 0.40 - 0.20 = 0.20; task 2: 0.45 - 0.30 = 0.15  ->  mean 0.175
    assert continual.forward_transfer(ACC) == pytest.approx(0.175)


def test_forgetting_is_max_over_earlier_steps_minus_final():
    # task 0: max(0.90, 0.92) - 0.70 = 0.22; task 1: max(0.85) - 0.75 = 0.10  ->  mean 0.16
    # (differs from -BWT = 0.15 because task 0 peaked after task 1, not right after learning)
    assert continual.forgetting(ACC) == pytest.approx(0.16)


def test_forgetting_ignores_steps_before_the_task_was_learned():
    acc = ACC.copy()
    acc[1, 1] = 0.99  # task 1's zero-shot accuracy, before it is learned: must not count
    # task 0 unchanged 0.22; task 1 still 0.85 - 0.75 = 0.10
    assert continual.forgetting(acc) == pytest.approx(0.16)


def test_learning_accuracy():
    # (0.90 + 0.85 + 0.95) / 3 = 2.70 / 3
    assert continual.learning_accuracy(ACC) == pytest.approx(0.90)


def test_summarize_keys_values_and_directions():
    summary = continual.summarize(ACC)
    assert list(summary) == [
        "final_avg_acc",
        "avg_incremental_acc",
        "bwt",
        "fwt",
        "forgetting",
        "learning_acc",
    ]
    assert set(summary) <= set(continual.METRIC_DIRECTIONS)  # every metric has a direction
    assert summary["forgetting"] == pytest.approx(0.16)
    assert summary["bwt"] == pytest.approx(-0.15)
    lower = {"forgetting", "intransigence"}  # the costs; every other metric is a score
    assert {k for k, v in continual.METRIC_DIRECTIONS.items() if v == "lower"} == lower


def test_single_task_transfer_metrics_are_nan():
    summary = continual.summarize([[0.1], [0.8]])
    assert summary["final_avg_acc"] == pytest.approx(0.8)
    assert summary["avg_incremental_acc"] == pytest.approx(0.8)
    assert summary["learning_acc"] == pytest.approx(0.8)
    for key in ("bwt", "fwt", "forgetting"):
        assert math.isnan(summary[key])


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((3, 3)), "shape"),
        (np.zeros((2, 3)), "shape"),
        (np.zeros(4), "shape"),
        (np.zeros((1, 0)), "shape"),
        (np.full((3, 2), 1.5), r"\[0, 1\]"),
        (np.full((3, 2), -0.1), r"\[0, 1\]"),
        (np.array([[0.1, np.nan], [0.5, 0.5], [0.5, 0.5]]), "NaN"),
    ],
)
def test_invalid_matrices_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        continual.summarize(bad)


def test_intransigence_against_a_joint_reference_by_hand():
    from harness.metrics.continual import intransigence

    method = np.array([[0.1, 0.1], [0.9, 0.2], [0.5, 0.7]])
    joint = np.array([[0.1, 0.1], [0.95, 0.2], [0.9, 0.9]])
    # just learned: method (0.9, 0.7), joint (0.95, 0.9) -> ((0.05) + (0.2)) / 2 = 0.125
    assert intransigence(method, joint) == pytest.approx(0.125)
    with pytest.raises(ValueError, match="differ in shape"):
        intransigence(method, joint[:, :1][:2])
