"""Effect sizes of two samples (one value per seed each): dominance and standardized mean
difference, and the magnitude label the site shows."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from harness.stats.validation import sample


def probability_of_improvement(a: ArrayLike, b: ArrayLike) -> float:
    """P(X > Y) for X drawn from sample `a`, Y from sample `b`, ties counting 1/2.

    Equals U / (n m), U being the Mann-Whitney statistic of `a`. `a`, `b`: 1-D samples.
    Source: Agarwal et al. 2021 (rliable), "Deep RL at the Edge of the Statistical Precipice".
    """
    x, y = sample(a, "a"), sample(b, "b")
    greater = np.sum(x[:, None] > y[None, :])
    ties = np.sum(x[:, None] == y[None, :])
    return float((greater + 0.5 * ties) / (x.size * y.size))


def cliffs_delta(a: ArrayLike, b: ArrayLike) -> float:
    """Cliff's delta = P(X > Y) - P(X < Y), in [-1, 1]; positive when `a` tends to be larger.

    `a`, `b`: 1-D samples. Source: Cliff 1993, "Dominance statistics".
    """
    x, y = sample(a, "a"), sample(b, "b")
    diff = np.sign(x[:, None] - y[None, :])
    return float(np.mean(diff))


def cohens_d(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d = (mean(a) - mean(b)) / s_pooled.

    s_pooled = sqrt(((n-1) s_a^2 + (m-1) s_b^2) / (n + m - 2)), sample variances with ddof=1.
    `a`, `b`: 1-D samples. nan when n + m < 3 or when both samples are constant with equal
    means; +-inf when both are constant with different means. Source: Cohen 1988.
    """
    x, y = sample(a, "a"), sample(b, "b")
    dof = x.size + y.size - 2
    if dof < 1:
        return math.nan
    sum_sq = np.sum((x - x.mean()) ** 2) + np.sum((y - y.mean()) ** 2)
    pooled_sd = math.sqrt(sum_sq / dof)
    difference = float(x.mean() - y.mean())
    if pooled_sd == 0.0:
        return math.nan if difference == 0.0 else math.copysign(math.inf, difference)
    return difference / pooled_sd


def effect_size_label(cliffs_delta: float) -> str:
    """Name the magnitude of a Cliff's delta: negligible, small, medium or large.

    Thresholds on |delta| from Romano et al. 2006: < 0.147 negligible, < 0.33 small,
    < 0.474 medium, otherwise large.
    """
    if math.isnan(cliffs_delta):
        raise ValueError("Cliff's delta is NaN; it has no magnitude label")
    magnitude = abs(cliffs_delta)
    if magnitude < 0.147:
        return "negligible"
    if magnitude < 0.33:
        return "small"
    if magnitude < 0.474:
        return "medium"
    return "large"
