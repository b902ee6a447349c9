"""Validation metrics of the new workload kinds, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from harness.metrics.ssim import ssim_per_image
from harness.metrics.time_to_result import time_to_target
from harness.metrics.validation import log_loss, metric_series, roc_auc
from harness.ttr_kinds import METRICS, WorkloadKind, meets


def test_roc_auc_by_hand():
    # Positives score 0.8 and 0.4, negatives 0.6 and 0.2: of the 4 (pos, neg) pairs, 3 are
    # ordered correctly -> 0.75. A tie counts one half.
    assert roc_auc(np.array([0.8, 0.4, 0.6, 0.2]), np.array([1, 1, 0, 0])) == 0.75
    assert roc_auc(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5
    assert roc_auc(np.array([0.1, 0.9]), np.array([1, 1])) == 0.5  # one class: undefined


def test_log_loss_by_hand():
    value = log_loss(np.array([0.9, 0.2]), np.array([1, 0]))
    assert value == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2)
    assert math.isfinite(log_loss(np.array([0.0, 1.0]), np.array([1, 0])))  # clipped


def test_ssim_identity_and_the_constant_image_closed_form():
    x = torch.rand(3, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssim_per_image(x, x), torch.ones(3), atol=1e-5)
    # Constant images a and b: variances and covariance vanish, so
    # SSIM = (2ab + C1) / (a^2 + b^2 + C1) with C1 = 0.01^2.
    a, b = torch.full((1, 1, 8, 8), 0.2), torch.full((1, 1, 8, 8), 0.6)
    c1 = 0.01 ** 2
    expected = (2 * 0.2 * 0.6 + c1) / (0.2 ** 2 + 0.6 ** 2 + c1)
    assert ssim_per_image(a, b).item() == pytest.approx(expected, rel=1e-4)
    noisy = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    assert (ssim_per_image(noisy, x) < 0.9).all()


def test_metric_series_per_kind_and_direction():
    outputs = np.array([[2.0, 4.0], [1.0, 1.0]])  # per-sequence mean NLL at two evaluations
    lm = metric_series(WorkloadKind.LANGUAGE_MODEL, "perplexity", outputs, np.zeros(2))
    assert lm == pytest.approx([math.exp(3.0), math.e])
    assert metric_series(WorkloadKind.LANGUAGE_MODEL, "loss", outputs, np.zeros(2)) == \
        pytest.approx([3.0, 1.0])
    clicks = metric_series(WorkloadKind.CLICK_THROUGH, "auc",
                           np.array([[0.8, 0.4, 0.6, 0.2]]), np.array([1, 1, 0, 0]))
    assert clicks == pytest.approx([0.75])
    # Lower is better: a loss target is met when the loss falls to it.
    assert not METRICS[WorkloadKind.LANGUAGE_MODEL]["loss"].higher_is_better
    assert meets(1.0, 1.5, higher=False) and not meets(2.0, 1.5, higher=False)
    reached = time_to_target([0.0, 1.0, 2.0], [3.0, 1.6, 1.2], 1.5, higher_is_better=False,
                             max_runtime_s=5.0)
    assert reached == 2.0


def test_targets_are_checked_against_the_metric_range():
    assert METRICS[WorkloadKind.LANGUAGE_MODEL]["perplexity"].check_target(0.9) is not None
    assert METRICS[WorkloadKind.LANGUAGE_MODEL]["perplexity"].check_target(3.0) is None
    assert METRICS[WorkloadKind.CLICK_THROUGH]["auc"].check_target(0.4) is not None
    assert METRICS[WorkloadKind.RECONSTRUCTION]["ssim"].check_target(0.8) is None
