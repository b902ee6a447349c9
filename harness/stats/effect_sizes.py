"""Effect sizes of two samples (one value per seed each): the difference of means and the
probability of improvement with their confidence intervals, dominance (Cliff's delta) and the
standardized mean difference (Cohen's d) with the magnitude labels the site shows."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy import stats as sps

from harness.stats.validation import check_open_unit, sample


def probability_of_improvement(a: ArrayLike, b: ArrayLike) -> float:
    """P(X > Y) for X drawn from sample `a`, Y from sample `b`, ties counting 1/2.

    Equals U / (n m), U being the Mann-Whitney statistic of `a`. `a`, `b`: 1-D samples.
    Source: Agarwal et al. 2021 (rliable), "Deep RL at the Edge of the Statistical Precipice".
    """
    x, y = sample(a, "a"), sample(b, "b")
    greater = np.sum(x[:, None] > y[None, :])
    ties = np.sum(x[:, None] == y[None, :])
    return float((greater + 0.5 * ties) / (x.size * y.size))


def _newcombe_variance(theta: float, n: int, m: int) -> float:
    """Hanley and McNeil's variance of U / (n m) at `theta`, with n - 1 and m - 1 both
    replaced by (n + m) / 2 - 1 (Newcombe 2006)."""
    shared = (n + m) / 2.0 - 1.0
    spread = 1.0 + shared * ((1.0 - theta) / (2.0 - theta) + theta / (1.0 + theta))
    return theta * (1.0 - theta) * spread / (n * m)


def probability_of_improvement_ci(
    a: ArrayLike, b: ArrayLike, confidence: float = 0.95
) -> tuple[float, float, float]:
    """P(X > Y) (ties 1/2, `probability_of_improvement`) and its confidence interval.

    The interval is Newcombe's score-type interval (2006, "Confidence intervals for an effect
    size measure based on the Mann-Whitney statistic. Part 2", Method 5): every theta with
    (theta_hat - theta)^2 <= z^2 V(theta), V the Hanley-McNeil variance with a pooled sample
    size. Unlike a Wald or bootstrap interval it stays inside [0, 1] and does not collapse to
    a point when the samples are completely separated, which 3-10 seeds often are (3 vs 3
    seeds, all better: [0.50, 1]). `a`, `b`: 1-D samples. Returns (theta_hat, low, high).
    """
    check_open_unit(confidence, "confidence")
    x, y = sample(a, "a"), sample(b, "b")
    theta = probability_of_improvement(x, y)
    if theta < 0.5:  # V is symmetric about 1/2: mirror the interval of P(Y > X) = 1 - theta
        _, low, high = probability_of_improvement_ci(y, x, confidence)
        return theta, 1.0 - high, 1.0 - low
    z = float(sps.norm.ppf((1.0 + confidence) / 2.0))

    def excess(t: float) -> float:  # < 0 inside the interval, > 0 outside
        return (theta - t) ** 2 - z * z * _newcombe_variance(t, x.size, y.size)

    # theta_hat is inside (excess < 0) unless it is 1, where V vanishes; one float below 1
    # excess is negative again.
    inner = min(theta, float(np.nextafter(1.0, 0.0)))
    low = optimize.brentq(excess, 0.0, inner, xtol=1e-12)
    high = 1.0 if theta == 1.0 else optimize.brentq(excess, theta, 1.0, xtol=1e-12)
    return theta, float(low), float(high)


def mean_difference_ci(
    a: ArrayLike, b: ArrayLike, confidence: float = 0.95
) -> tuple[float, float, float]:
    """mean(a) - mean(b) and its Welch t interval at `confidence`.

    `a`, `b`: 1-D samples, one value per seed. The interval is d +- t_{(1+c)/2, nu} * se with
    se^2 = s_a^2/n_a + s_b^2/n_b and the Welch-Satterthwaite nu = se^4 / (s_a^4/(n_a^2(n_a-1))
    + s_b^4/(n_b^2(n_b-1))). Bounds are nan when either sample has fewer than two values; both
    samples constant give the zero-width interval at the difference.
    Returns (difference, low, high).
    """
    check_open_unit(confidence, "confidence")
    x, y = sample(a, "a"), sample(b, "b")
    difference = float(np.mean(x) - np.mean(y))
    if x.size < 2 or y.size < 2:
        return difference, math.nan, math.nan
    var_x, var_y = np.var(x, ddof=1) / x.size, np.var(y, ddof=1) / y.size
    se2 = var_x + var_y
    if se2 == 0.0:
        return difference, difference, difference
    dof = se2**2 / (var_x**2 / (x.size - 1) + var_y**2 / (y.size - 1))
    half_width = float(sps.t.ppf((1.0 + confidence) / 2.0, dof)) * math.sqrt(se2)
    return difference, difference - half_width, difference + half_width


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


def cohens_d_label(d: float) -> str:
    """Name the magnitude of a Cohen's d: negligible, small, medium or large.

    Cohen's (1988) conventions on |d|: < 0.2 negligible, < 0.5 small, < 0.8 medium, otherwise
    large (an infinite d, two constant samples with different means, is large).
    """
    return _magnitude_label(d, (0.2, 0.5, 0.8), "Cohen's d")


def effect_size_label(cliffs_delta: float) -> str:
    """Name the magnitude of a Cliff's delta: negligible, small, medium or large.

    Thresholds on |delta| from Romano et al. 2006: < 0.147 negligible, < 0.33 small,
    < 0.474 medium, otherwise large.
    """
    return _magnitude_label(cliffs_delta, (0.147, 0.33, 0.474), "Cliff's delta")


def _magnitude_label(value: float, bounds: tuple[float, float, float], name: str) -> str:
    """negligible / small / medium / large as |value| passes each of the three `bounds`."""
    if math.isnan(value):
        raise ValueError(f"{name} is NaN; it has no magnitude label")
    for bound, label in zip(bounds, ("negligible", "small", "medium"), strict=True):
        if abs(value) < bound:
            return label
    return "large"
