"""Validation metrics of time-to-result workloads, computed by the parent from what the worker
returns at each evaluation (`outputs`, one row per evaluation) and the labels only the parent
holds.

What a worker returns per validation example, by kind:

- classification: the predicted class; scored against the labels (accuracy);
- click-through: the predicted click probability; scored against the clicks (log loss, AUC);
- language-model: the sequence's mean next-token cross-entropy (nats); the targets are the
  text the model reads, so there is nothing to withhold and the worker computes it;
- reconstruction: the image's SSIM (or MSE) to its input, likewise computed by the worker.

Averages are over examples (for the LM: sequences of equal length, so also over tokens).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from harness.ttr_kinds import WorkloadKind

_EPS = 1e-7


def log_loss(probabilities: np.ndarray, clicks: np.ndarray) -> float:
    """Mean binary cross-entropy (nats), probabilities clipped to [1e-7, 1 - 1e-7]."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), _EPS, 1 - _EPS)
    y = np.asarray(clicks, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney form; tied scores count one half).

    0.5 when only one class is present, since no ranking can then be judged.
    """
    labels = np.asarray(labels).astype(bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return 0.5
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) /
                 (positives * negatives))


def metric_series(kind: WorkloadKind, metric: str, outputs: np.ndarray,
                  labels: np.ndarray) -> np.ndarray:
    """The metric at each evaluation: outputs (E, N) -> (E,)."""
    outputs = np.asarray(outputs)
    if kind is WorkloadKind.CLASSIFICATION:
        return (outputs.astype(np.int64) == labels[None, :]).mean(axis=1)
    if kind is WorkloadKind.CLICK_THROUGH:
        score = log_loss if metric == "log_loss" else roc_auc
        return np.array([score(row, labels) for row in outputs])
    mean = outputs.astype(np.float64).mean(axis=1)
    return np.exp(mean) if metric == "perplexity" else mean
