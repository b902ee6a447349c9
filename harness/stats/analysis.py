"""The recommended cross-benchmark analysis in one call: Friedman (Iman–Davenport) first, then a
post-hoc procedure, tie groups and ranks, gated by the omnibus test.

Input convention: *scores*, an array of shape (num_benchmarks, num_methods) of per-benchmark
mean scores, higher is better unless `higher_is_better=False` is passed; `methods` names the
columns. Get such a matrix from a table with gaps through `common_subset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from numpy.typing import ArrayLike

from harness.stats.groups import (
    arena_ranks,
    compact_letter_display,
    significant_pairs,
    tie_cliques,
)
from harness.stats.posthoc import (
    PosthocName,
    PosthocResult,
    bonferroni_dunn,
    nemenyi,
    wilcoxon_holm,
)
from harness.stats.ranks import FriedmanResult, friedman_test
from harness.stats.validation import check_choice, check_open_unit, method_names


@dataclass(frozen=True)
class CrossBenchmarkResult:
    """Friedman test, post-hoc comparisons and the groups and ranks they imply.

    `omnibus_significant` is Iman–Davenport's p < alpha, when the design can reach
    significance at all (`FriedmanResult.min_attainable_p < alpha`). `cliques` are the
    post-hoc tie groups for a critical-difference diagram, drawn even when the omnibus test is
    not significant (a reader then sees them greyed). `letters` and `arena_ranks` are
    *gated*: when the omnibus test is not significant no pair is declared different, so every
    method gets letter "a" and rank 1. Tuples follow `methods`.
    """

    methods: tuple[str, ...]
    friedman: FriedmanResult
    omnibus_p: float
    omnibus_significant: bool
    posthoc: PosthocResult
    cliques: tuple[tuple[str, ...], ...]
    letters: tuple[str, ...]
    arena_ranks: tuple[int, ...]

    def declared_different(self, a: str, b: str) -> bool:
        """Significant in the post-hoc procedure *and* after a significant omnibus test."""
        return self.omnibus_significant and self.posthoc.is_significant(a, b)


def run_posthoc(
    scores: ArrayLike,
    procedure: PosthocName,
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    methods: Sequence[str] | None = None,
    control: str | None = None,
) -> PosthocResult:
    """Run the named post-hoc `procedure` (bonferroni-dunn needs `control`)."""
    check_choice(procedure, PosthocName, "post-hoc procedure")
    options = {"alpha": alpha, "higher_is_better": higher_is_better, "methods": methods}
    if procedure == "wilcoxon-holm":
        return wilcoxon_holm(scores, **options)
    if procedure == "nemenyi":
        return nemenyi(scores, **options)
    if control is None:
        raise ValueError("the bonferroni-dunn procedure needs a control method")
    return bonferroni_dunn(scores, control, **options)


def compare_across_benchmarks(
    scores: ArrayLike,
    *,
    methods: Sequence[str] | None = None,
    higher_is_better: bool = True,
    alpha: float = 0.05,
    posthoc: PosthocName = "wilcoxon-holm",
    control: str | None = None,
) -> CrossBenchmarkResult:
    """Friedman + Iman–Davenport, then `posthoc`, then tie groups, letters and Arena ranks.

    `scores`: (num_benchmarks N >= 2, num_methods k >= 2) per-benchmark mean scores. The
    omnibus decision uses Iman–Davenport's p (Demšar 2006 recommends it over Friedman's
    chi-square, which is conservative), guarded by `FriedmanResult.min_attainable_p`.
    """
    check_open_unit(alpha, "alpha")
    friedman = friedman_test(scores, higher_is_better=higher_is_better)
    names = method_names(methods, friedman.num_methods)
    result = run_posthoc(scores, posthoc, alpha=alpha, higher_is_better=higher_is_better,
                         methods=names, control=control)
    omnibus_significant = (
        friedman.min_attainable_p < alpha and friedman.iman_davenport_p < alpha
    )
    different = significant_pairs(result)
    declared = different if omnibus_significant else ()
    return CrossBenchmarkResult(
        methods=names,
        friedman=friedman,
        omnibus_p=friedman.iman_davenport_p,
        omnibus_significant=omnibus_significant,
        posthoc=result,
        cliques=tie_cliques(names, friedman.average_ranks, different),
        letters=compact_letter_display(names, friedman.average_ranks, declared),
        arena_ranks=arena_ranks(names, friedman.average_ranks, declared),
    )
