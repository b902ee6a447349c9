"""Post-hoc comparisons of methods across benchmarks, after a Friedman test.

Input convention: *scores*, an array of shape (num_benchmarks, num_methods) of per-benchmark
mean scores (row i = benchmark i, column j = method j), higher is better unless
`higher_is_better=False` is passed; `methods` optionally names the columns (default "0", "1",
...). Three procedures (Demšar 2006; Benavoli et al. 2016):

- `wilcoxon_holm`: all pairs by the exact Wilcoxon signed-rank test on the per-benchmark score
  differences, Holm-adjusted (the default: its result for a pair does not depend on which other
  methods are in the comparison);
- `nemenyi`: all pairs by average-rank differences against the critical difference
  CD = q_alpha sqrt(k (k + 1) / (6 N)), q_alpha from the Studentized range distribution;
- `bonferroni_dunn`: every method against one control, Bonferroni-adjusted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from harness.stats.corrections import holm
from harness.stats.ranks import rank_matrix
from harness.stats.signed_rank import wilcoxon_min_p, wilcoxon_test
from harness.stats.validation import check_open_unit, method_names, score_matrix

PosthocName = Literal["wilcoxon-holm", "nemenyi", "bonferroni-dunn"]


@dataclass(frozen=True)
class RankComparison:
    """One post-hoc comparison of `method` with `other` across benchmarks.

    `rank_difference` = average rank of `method` minus that of `other` (negative: `method` is
    better). `statistic` is Wilcoxon's T+ of method - other (wilcoxon-holm) or the rank
    difference over its standard error sqrt(k (k + 1) / (6 N)) (nemenyi, bonferroni-dunn).
    """

    method: str
    other: str
    rank_difference: float
    statistic: float
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class PosthocResult:
    """A post-hoc procedure's comparisons, with what the design could detect at all.

    `methods` and `average_ranks` follow the score columns. `critical_value` (q_alpha) and
    `critical_difference` are nan for wilcoxon-holm, which has none. `min_attainable_p` is the
    smallest adjusted p the design (N benchmarks, k methods, the procedure) could give; when it
    is not below `alpha`, `can_reach_significance` is False and nothing can be significant.
    """

    test: PosthocName
    methods: tuple[str, ...]
    average_ranks: tuple[float, ...]
    num_benchmarks: int
    alpha: float
    critical_value: float
    critical_difference: float
    min_attainable_p: float
    can_reach_significance: bool
    control: str | None
    comparisons: tuple[RankComparison, ...]

    def is_significant(self, a: str, b: str) -> bool:
        """Whether methods `a` and `b` were found different (False for an untested pair)."""
        return any(
            c.significant for c in self.comparisons if {c.method, c.other} == {a, b}
        )


@functools.lru_cache(maxsize=256)  # a numerical integration: ~30 ms per call
def nemenyi_critical_value(num_methods: int, alpha: float = 0.05) -> float:
    """q_alpha of the Nemenyi test: the Studentized range quantile over sqrt(2).

    q_alpha = studentized_range.ppf(1 - alpha, k, inf) / sqrt(2); for alpha = 0.05 and
    k = 2..6 it gives Demšar's (2006) Table 5a: 1.960, 2.344, 2.569, 2.728, 2.850.
    """
    _check_k(num_methods)
    check_open_unit(alpha, "alpha")
    return float(sps.studentized_range.ppf(1.0 - alpha, num_methods, np.inf) / math.sqrt(2.0))


def bonferroni_dunn_critical_value(num_methods: int, alpha: float = 0.05) -> float:
    """q_alpha of the Bonferroni–Dunn test: the normal quantile z_{1 - alpha / (2 (k - 1))}.

    For alpha = 0.05 and k = 2..6: 1.960, 2.241, 2.394, 2.498, 2.576 (Demšar 2006, Table 5b).
    """
    _check_k(num_methods)
    check_open_unit(alpha, "alpha")
    return float(sps.norm.ppf(1.0 - alpha / (2.0 * (num_methods - 1))))


def critical_difference(critical_value: float, num_methods: int, num_benchmarks: int) -> float:
    """CD = q_alpha sqrt(k (k + 1) / (6 N)): average ranks further apart differ significantly."""
    return critical_value * _rank_standard_error(num_methods, num_benchmarks)


def _check_k(num_methods: int) -> None:
    if num_methods < 2:
        raise ValueError(f"need at least 2 methods, got {num_methods}")


def _rank_standard_error(num_methods: int, num_benchmarks: int) -> float:
    if num_benchmarks < 1:
        raise ValueError(f"need at least 1 benchmark, got {num_benchmarks}")
    return math.sqrt(num_methods * (num_methods + 1) / (6.0 * num_benchmarks))


def _prepare(
    scores: ArrayLike, methods: Sequence[str] | None, higher_is_better: bool, alpha: float
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    check_open_unit(alpha, "alpha")
    oriented = score_matrix(scores, higher_is_better, min_benchmarks=2)
    names = method_names(methods, oriented.shape[1])
    ranks = np.mean(rank_matrix(oriented), axis=0)
    return oriented, names, ranks


def wilcoxon_holm(
    scores: ArrayLike,
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    methods: Sequence[str] | None = None,
) -> PosthocResult:
    """All pairs of methods by the exact Wilcoxon signed-rank test over benchmarks, with Holm.

    `scores`: (num_benchmarks N >= 2, num_methods k) per-benchmark mean scores. Each pair's
    p-value comes from the N paired score differences (`wilcoxon_p`); the k (k - 1) / 2 p-values
    are adjusted together by Holm's procedure. With N benchmarks no p can fall below 2 / 2^N
    times the Holm factor: 5 benchmarks can never give p < 0.05, whatever the scores.
    """
    oriented, names, ranks = _prepare(scores, methods, higher_is_better, alpha)
    pairs = list(combinations(range(len(names)), 2))
    tests = [wilcoxon_test(oriented[:, i], oriented[:, j]) for i, j in pairs]
    raw = np.array([p for _, p in tests])
    adjusted = holm(raw)
    min_p = float(holm(np.full(len(pairs), wilcoxon_min_p(oriented.shape[0])))[0])
    reachable = min_p < alpha
    comparisons = tuple(
        RankComparison(
            method=names[i], other=names[j], rank_difference=float(ranks[i] - ranks[j]),
            statistic=tests[n][0],
            p_value=float(raw[n]), p_adjusted=float(adjusted[n]),
            significant=bool(reachable and adjusted[n] < alpha),
        )
        for n, (i, j) in enumerate(pairs)
    )
    return PosthocResult(
        test="wilcoxon-holm", methods=names, average_ranks=tuple(map(float, ranks)),
        num_benchmarks=oriented.shape[0], alpha=alpha, critical_value=math.nan,
        critical_difference=math.nan, min_attainable_p=min_p, can_reach_significance=reachable,
        control=None, comparisons=comparisons,
    )


def nemenyi(
    scores: ArrayLike,
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    methods: Sequence[str] | None = None,
) -> PosthocResult:
    """All pairs of methods by the Nemenyi test on average ranks (Demšar 2006).

    `scores`: (num_benchmarks N >= 2, num_methods k) per-benchmark mean scores. Two methods
    differ when their average ranks differ by more than CD = q_alpha sqrt(k (k + 1) / (6 N)),
    q_alpha = `nemenyi_critical_value(k, alpha)`. The p of a pair is the Studentized range tail
    of sqrt(2) |R_i - R_j| / sqrt(k (k + 1) / (6 N)); it is already family-wise, so
    `p_adjusted` equals `p_value`.
    """
    oriented, names, ranks = _prepare(scores, methods, higher_is_better, alpha)
    n, k = oriented.shape
    q_alpha = nemenyi_critical_value(k, alpha)
    cd = critical_difference(q_alpha, k, n)
    se = _rank_standard_error(k, n)

    def p_of(difference: float) -> float:
        return float(sps.studentized_range.sf(math.sqrt(2.0) * abs(difference) / se, k, np.inf))

    comparisons = []
    for i, j in combinations(range(k), 2):
        difference = float(ranks[i] - ranks[j])
        p = min(1.0, p_of(difference))
        comparisons.append(RankComparison(
            method=names[i], other=names[j], rank_difference=difference,
            statistic=difference / se, p_value=p, p_adjusted=p,
            significant=abs(difference) > cd,
        ))
    return PosthocResult(
        test="nemenyi", methods=names, average_ranks=tuple(map(float, ranks)),
        num_benchmarks=n, alpha=alpha, critical_value=q_alpha, critical_difference=cd,
        min_attainable_p=min(1.0, p_of(k - 1.0)), can_reach_significance=(k - 1.0) > cd,
        control=None, comparisons=tuple(comparisons),
    )


def bonferroni_dunn(
    scores: ArrayLike,
    control: str | int,
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    methods: Sequence[str] | None = None,
) -> PosthocResult:
    """Every method against the `control` method by the Bonferroni–Dunn test (Demšar 2006).

    `scores`: (num_benchmarks N >= 2, num_methods k) per-benchmark mean scores; `control`: a
    method name (or column index). z = (R_j - R_control) / sqrt(k (k + 1) / (6 N)); the
    two-sided normal p is multiplied by k - 1 (capped at 1). A method differs from the control
    when |R_j - R_control| > CD = q_alpha sqrt(k (k + 1) / (6 N)), q_alpha =
    `bonferroni_dunn_critical_value(k, alpha)`. Pairs not involving the control are not tested.
    """
    oriented, names, ranks = _prepare(scores, methods, higher_is_better, alpha)
    n, k = oriented.shape
    if isinstance(control, int) and not isinstance(control, bool):
        if not 0 <= control < k:
            raise ValueError(f"control column {control} is out of range for {k} methods")
        c = control
    elif str(control) in names:
        c = names.index(str(control))
    else:
        raise ValueError(f"unknown control {control!r}; methods are {', '.join(names)}")
    q_alpha = bonferroni_dunn_critical_value(k, alpha)
    cd = critical_difference(q_alpha, k, n)
    se = _rank_standard_error(k, n)
    comparisons = []
    for j in range(k):
        if j == c:
            continue
        difference = float(ranks[j] - ranks[c])
        p = float(2.0 * sps.norm.sf(abs(difference) / se))
        comparisons.append(RankComparison(
            method=names[j], other=names[c], rank_difference=difference,
            statistic=difference / se, p_value=p, p_adjusted=min(1.0, (k - 1) * p),
            significant=abs(difference) > cd,
        ))
    min_p = min(1.0, (k - 1) * float(2.0 * sps.norm.sf((k - 1.0) / se)))
    return PosthocResult(
        test="bonferroni-dunn", methods=names, average_ranks=tuple(map(float, ranks)),
        num_benchmarks=n, alpha=alpha, critical_value=q_alpha, critical_difference=cd,
        min_attainable_p=min_p, can_reach_significance=(k - 1.0) > cd,
        control=names[c], comparisons=tuple(comparisons),
    )
