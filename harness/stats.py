"""Statistics for leaderboard cells: intervals, tests, corrections, effect sizes, aggregates.

Data conventions (one per function, repeated in each docstring):

- *sample*: a 1-D array of one method's scores on one benchmark cell, one value per seed.
- *scores*: a 2-D array of shape `(num_runs, num_tasks)` for cross-benchmark aggregates
  (rliable's convention): column j holds the runs (seeds) of task/benchmark j.

Everything is deterministic: the same inputs give bit-identical outputs, and the only random
procedure (`stratified_bootstrap_ci`) draws from a `numpy.random.Generator` the caller passes.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from scipy import stats as sps

TestName = Literal["welch-t", "mann-whitney"]
CorrectionName = Literal["holm", "benjamini-hochberg", "none"]

# scipy's own rule of thumb for the exact Mann-Whitney null distribution, fixed here so that a
# scipy upgrade cannot silently change which p-value a leaderboard shows.
_MANN_WHITNEY_EXACT_MAX_N = 8


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


@dataclass(frozen=True)
class Comparison:
    """One two-sample test of `method` against `reference` on one benchmark cell.

    `mean_difference`, `cliffs_delta` and `cohens_d` are signed as method minus reference, in the
    metric's own units; only `prob_improvement` is turned to the "better" direction.
    `min_attainable_p` is the smallest *adjusted* p-value this design (sample sizes, test,
    correction and family size) could produce; `can_reach_significance` is
    `min_attainable_p < alpha`. When it is False the site says "cannot be tested with this many
    seeds" rather than "not significant", and `significant` is False.
    """

    method: str
    reference: str
    test: TestName
    p_value: float  # two-sided raw p; nan when either sample has fewer than 2 values
    p_adjusted: float  # after the family-wise / FDR correction
    significant: bool
    can_reach_significance: bool
    min_attainable_p: float
    mean_difference: float
    cliffs_delta: float
    cohens_d: float
    prob_improvement: float


def _sample(values: ArrayLike, name: str = "sample") -> np.ndarray:
    """Return a non-empty, finite, 1-D float array or raise ValueError."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per seed), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty; need at least one value")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; drop failed runs first")
    return array


def _check_open_unit(value: float, name: str) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")


def _check_choice(value: str, allowed: type, name: str) -> None:
    choices = get_args(allowed)
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def summarize_cell(values: ArrayLike, confidence: float = 0.95) -> CellSummary:
    """Mean, spread and Student-t confidence interval of one cell's seeds.

    `values`: 1-D sample, one score per seed. CI = mean +- t_{(1+c)/2, n-1} * s / sqrt(n) with
    s the sample SD (ddof=1). Student-t rather than bootstrap because the percentile bootstrap
    under-covers badly at the 3-10 seeds a benchmark cell has. n == 1: std and CI are nan.
    Raises ValueError for an empty sample or NaN/inf values.
    """
    _check_open_unit(confidence, "confidence")
    sample = _sample(values, "cell values")
    n = sample.size
    mean = float(np.mean(sample))
    std = ci_low = ci_high = math.nan
    if n >= 2:
        std = float(np.std(sample, ddof=1))
        half_width = float(sps.t.ppf((1.0 + confidence) / 2.0, n - 1)) * std / math.sqrt(n)
        ci_low, ci_high = mean - half_width, mean + half_width
    return CellSummary(
        n=n,
        mean=mean,
        std=std,
        median=float(np.median(sample)),
        min=float(np.min(sample)),
        max=float(np.max(sample)),
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
    )


# --- multiple-comparison corrections -------------------------------------------------------


def _p_vector(p_values: ArrayLike) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be 1-D, got shape {p.shape}")
    if p.size and not (np.all(np.isfinite(p)) and p.min() >= 0.0 and p.max() <= 1.0):
        raise ValueError("p-values must be finite and lie in [0, 1]")
    return p


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values (controls the family-wise error rate).

    For sorted p_(1) <= ... <= p_(m): adj_(j) = max_{k <= j} min(1, (m - k + 1) p_(k)),
    returned in the input order. Reject where adj < alpha. Source: Holm 1979.
    """
    p = _p_vector(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (controls the false discovery rate).

    For sorted p_(1) <= ... <= p_(m): adj_(j) = min_{k >= j} min(1, m p_(k) / k), returned in
    the input order. Source: Benjamini & Hochberg 1995.
    """
    p = _p_vector(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return adjusted


_CORRECTIONS = {"holm": holm, "benjamini-hochberg": benjamini_hochberg, "none": np.copy}


# --- effect sizes ---------------------------------------------------------------------------


def probability_of_improvement(a: ArrayLike, b: ArrayLike) -> float:
    """P(X > Y) for X drawn from sample `a`, Y from sample `b`, ties counting 1/2.

    Equals U / (n m), U being the Mann-Whitney statistic of `a`. `a`, `b`: 1-D samples.
    Source: Agarwal et al. 2021 (rliable), "Deep RL at the Edge of the Statistical Precipice".
    """
    x, y = _sample(a, "a"), _sample(b, "b")
    greater = np.sum(x[:, None] > y[None, :])
    ties = np.sum(x[:, None] == y[None, :])
    return float((greater + 0.5 * ties) / (x.size * y.size))


def cliffs_delta(a: ArrayLike, b: ArrayLike) -> float:
    """Cliff's delta = P(X > Y) - P(X < Y), in [-1, 1]; positive when `a` tends to be larger.

    `a`, `b`: 1-D samples. Source: Cliff 1993, "Dominance statistics".
    """
    x, y = _sample(a, "a"), _sample(b, "b")
    diff = np.sign(x[:, None] - y[None, :])
    return float(np.mean(diff))


def cohens_d(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d = (mean(a) - mean(b)) / s_pooled.

    s_pooled = sqrt(((n-1) s_a^2 + (m-1) s_b^2) / (n + m - 2)), sample variances with ddof=1.
    `a`, `b`: 1-D samples. nan when n + m < 3 or when both samples are constant with equal
    means; +-inf when both are constant with different means. Source: Cohen 1988.
    """
    x, y = _sample(a, "a"), _sample(b, "b")
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


# --- two-sample tests -----------------------------------------------------------------------


def mann_whitney_min_p(n: int, m: int) -> float:
    """Smallest two-sided p-value an exact Mann-Whitney test of n vs m values can give.

    2 / C(n + m, n), capped at 1: the two complete separations are the most extreme of the
    C(n + m, n) equally likely rank arrangements. 3 vs 3 gives 2/20 = 0.1, so it can never
    reach p < 0.05.
    """
    if n < 0 or m < 0:
        raise ValueError(f"sample sizes must be non-negative, got {n} and {m}")
    return min(1.0, 2.0 / special.comb(n + m, n, exact=True))


def welch_t_min_p(n: int, m: int) -> float:
    """Smallest p-value Welch's t-test of n vs m values can give: 0.0 if n, m >= 2, else 1.0.

    With two or more values per side the t statistic is unbounded, so any p is attainable; with
    fewer, a variance is undefined and the test cannot be run (1.0 stands for "unattainable").
    """
    if n < 0 or m < 0:
        raise ValueError(f"sample sizes must be non-negative, got {n} and {m}")
    return 0.0 if n >= 2 and m >= 2 else 1.0


def _welch_p(x: np.ndarray, y: np.ndarray) -> float:
    # Both samples constant: scipy returns nan (0/0). Equal constants are indistinguishable
    # (p = 1); different constants are separated with zero noise (p = 0).
    if np.ptp(x) == 0.0 and np.ptp(y) == 0.0:
        return 1.0 if x[0] == y[0] else 0.0
    return float(sps.ttest_ind(x, y, equal_var=False).pvalue)


def _mann_whitney_p(x: np.ndarray, y: np.ndarray) -> float:
    # With ties the asymptotic p of a tiny design can dip below the exact minimum (3 vs 3 with
    # ties: ~0.047); the power guard still uses the exact permutation bound, so it stays honest.
    has_ties = np.unique(np.concatenate([x, y])).size < x.size + y.size
    small = min(x.size, y.size) <= _MANN_WHITNEY_EXACT_MAX_N
    method = "exact" if small and not has_ties else "asymptotic"
    result = sps.mannwhitneyu(x, y, alternative="two-sided", method=method)
    return float(result.pvalue)


def _raw_comparison(
    method: str, reference: str, x: np.ndarray, y: np.ndarray, test: TestName, higher: bool
) -> dict:
    """Fields of a Comparison that do not depend on the rest of the family."""
    testable = x.size >= 2 and y.size >= 2
    better, worse = (x, y) if higher else (y, x)
    if test == "welch-t":
        p_value = _welch_p(x, y) if testable else math.nan
        min_p = welch_t_min_p(x.size, y.size)
    else:
        p_value = _mann_whitney_p(x, y) if testable else math.nan
        min_p = mann_whitney_min_p(x.size, y.size) if testable else 1.0
    return {
        "method": method,
        "reference": reference,
        "test": test,
        "p_value": p_value,
        "min_attainable_p": min_p,
        "mean_difference": float(x.mean() - y.mean()),
        "cliffs_delta": cliffs_delta(x, y),
        "cohens_d": cohens_d(x, y),
        "prob_improvement": probability_of_improvement(better, worse),
    }


def _finalize(raws: list[dict], correction: CorrectionName, alpha: float) -> list[Comparison]:
    """Adjust the family's p-values together and decide significance.

    Only comparisons with a finite p form the family. Their smallest attainable adjusted p is
    the correction applied to their smallest attainable raw p's (Holm and BH are monotone in
    each p-value, so that vector gives the minimum).
    """
    tested = [i for i, raw in enumerate(raws) if not math.isnan(raw["p_value"])]
    adjust = _CORRECTIONS[correction]
    adjusted = adjust(np.array([raws[i]["p_value"] for i in tested]))
    min_adjusted = adjust(np.array([raws[i]["min_attainable_p"] for i in tested]))
    position = {i: k for k, i in enumerate(tested)}
    comparisons = []
    for i, raw in enumerate(raws):
        fields = dict(raw, p_adjusted=math.nan, can_reach_significance=False, significant=False)
        if i in position:
            k = position[i]
            reachable = bool(min_adjusted[k] < alpha)
            fields.update(
                p_adjusted=float(adjusted[k]),
                min_attainable_p=float(min_adjusted[k]),
                can_reach_significance=reachable,
                significant=reachable and bool(adjusted[k] < alpha),
            )
        comparisons.append(Comparison(**fields))
    return comparisons


def _check_family(
    samples: Mapping[str, ArrayLike], test: str, correction: str, alpha: float
) -> dict[str, np.ndarray]:
    _check_choice(test, TestName, "test")
    _check_choice(correction, CorrectionName, "correction")
    _check_open_unit(alpha, "alpha")
    if not samples:
        raise ValueError("no methods to compare")
    return {name: _sample(values, f"scores of {name!r}") for name, values in samples.items()}


def compare_with_best(
    samples: Mapping[str, ArrayLike],
    *,
    higher_is_better: bool = True,
    alpha: float = 0.05,
    test: TestName = "welch-t",
    correction: CorrectionName = "holm",
) -> tuple[str, dict[str, Comparison]]:
    """Test every method against the best one on one benchmark cell.

    `samples`: method name -> 1-D sample (one score per seed). The best method has the best mean
    (ties broken by the smaller name, for determinism). Each other method is compared with it by
    a two-sided `test`; p-values are adjusted across that family by `correction`. Methods with
    fewer than 2 values (or a best with fewer than 2) get p = nan and cannot reach significance.
    Returns (best_name, {method: Comparison}) with the best itself left out.
    """
    arrays = _check_family(samples, test, correction, alpha)
    sign = -1.0 if higher_is_better else 1.0
    best = min(arrays, key=lambda name: (sign * float(np.mean(arrays[name])), name))
    others = sorted(name for name in arrays if name != best)
    raws = [
        _raw_comparison(name, best, arrays[name], arrays[best], test, higher_is_better)
        for name in others
    ]
    return best, {c.method: c for c in _finalize(raws, correction, alpha)}


def pairwise_tests(
    samples: Mapping[str, ArrayLike],
    *,
    test: TestName = "welch-t",
    correction: CorrectionName = "benjamini-hochberg",
    alpha: float = 0.05,
    higher_is_better: bool = True,
) -> dict[tuple[str, str], Comparison]:
    """Test all unordered pairs of methods on one benchmark cell (for the heatmap).

    `samples`: method name -> 1-D sample. Keys are (a, b) with a < b by name; each Comparison
    has method=a, reference=b. p-values are adjusted across all pairs by `correction`.
    """
    arrays = _check_family(samples, test, correction, alpha)
    pairs = list(combinations(sorted(arrays), 2))
    raws = [_raw_comparison(a, b, arrays[a], arrays[b], test, higher_is_better) for a, b in pairs]
    return dict(zip(pairs, _finalize(raws, correction, alpha), strict=True))


# --- cross-benchmark aggregates (scores of shape (num_runs, num_tasks)) ---------------------


def _scores(scores: ArrayLike) -> np.ndarray:
    array = np.asarray(scores, dtype=float)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"scores must have shape (num_runs, num_tasks) with both >= 1, got {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("scores contain NaN or infinite values")
    return array


def aggregate_mean(scores: ArrayLike) -> float:
    """Mean over tasks of the per-task mean over runs. `scores`: (num_runs, num_tasks)."""
    return float(np.mean(np.mean(_scores(scores), axis=0)))


def aggregate_iqm(scores: ArrayLike) -> float:
    """Interquartile mean: mean of the middle 50% of all runs x tasks scores (25% cut each end).

    `scores`: (num_runs, num_tasks). Source: Agarwal et al. 2021 (rliable).
    """
    return float(sps.trim_mean(_scores(scores), proportiontocut=0.25, axis=None))


def aggregate_optimality_gap(scores: ArrayLike, gamma: float = 1.0) -> float:
    """Mean shortfall below the target `gamma`: mean of max(gamma - score, 0). Lower is better.

    `scores`: (num_runs, num_tasks), normalized so that `gamma` is the target. Source: rliable.
    """
    return float(np.mean(np.maximum(gamma - _scores(scores), 0.0)))


def stratified_bootstrap_ci(
    scores: ArrayLike,
    statistic: Callable[[np.ndarray], float],
    *,
    rng: np.random.Generator,
    reps: int = 2000,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Point estimate and percentile stratified-bootstrap interval of an aggregate.

    `scores`: shape (num_runs, num_tasks). Each replicate resamples the runs with replacement
    independently within every task column (rliable's stratified bootstrap), so every task keeps
    its weight. `statistic` maps a (num_runs, num_tasks) array to a float (e.g. `aggregate_iqm`).
    All randomness comes from `rng`. Returns (statistic(scores), ci_low, ci_high).
    """
    array = _scores(scores)
    _check_open_unit(confidence, "confidence")
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    num_runs, num_tasks = array.shape
    rows = rng.integers(0, num_runs, size=(reps, num_runs, num_tasks))
    columns = np.arange(num_tasks)
    replicates = np.array([statistic(array[rows[r], columns]) for r in range(reps)], dtype=float)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    return float(statistic(array)), float(low), float(high)
