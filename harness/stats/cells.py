"""Per-cell summaries: one method on one benchmark, one value per seed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from harness.stats.validation import check_open_unit, sample


@dataclass(frozen=True)
class CellSummary:
    """Summary of one leaderboard cell (one method, one benchmark, n seeds)."""

    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); nan when n == 1
    median: float
    min: float
    max: float
    ci_low: float  # Student-t interval of the mean; nan when n == 1
    ci_high: float
    confidence: float


def summarize_cell(values: ArrayLike, confidence: float = 0.95) -> CellSummary:
    """Mean, spread and Student-t confidence interval of one cell's seeds.

    `values`: 1-D sample, one score per seed. CI = mean +- t_{(1+c)/2, n-1} * s / sqrt(n) with
    s the sample SD (ddof=1). Student-t rather than bootstrap because the percentile bootstrap
    under-covers badly at the 3-10 seeds a benchmark cell has. n == 1: std and CI are nan.
    Raises ValueError for an empty sample or NaN/inf values.
    """
    check_open_unit(confidence, "confidence")
    values = sample(values, "cell values")
    n = values.size
    mean = float(np.mean(values))
    std = ci_low = ci_high = math.nan
    if n >= 2:
        std = float(np.std(values, ddof=1))
        half_width = float(sps.t.ppf((1.0 + confidence) / 2.0, n - 1)) * std / math.sqrt(n)
        ci_low, ci_high = mean - half_width, mean + half_width
    return CellSummary(
        n=n,
        mean=mean,
        std=std,
        median=float(np.median(values)),
        min=float(np.min(values)),
        max=float(np.max(values)),
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
    )
