"""Statistics for the leaderboard: intervals, tests, corrections, effect sizes, aggregates, and
comparisons of methods across benchmarks.

Data conventions (each function's docstring repeats the one it takes):

- *sample*: a 1-D array of one method's scores on one benchmark cell, one value per seed
  (`summarize_cell`, effect sizes, `compare_with_best`, `pairwise_tests`).
- *runs x tasks*: a 2-D array of ONE method, shape (num_runs, num_tasks), rliable's convention
  (aggregates and `stratified_bootstrap_ci`); NaN pads tasks with fewer runs.
- *score matrix*: a 2-D array of shape (num_benchmarks, num_methods) of per-benchmark mean
  scores, higher is better unless `higher_is_better=False` is passed (Friedman, post-hoc tests,
  rank intervals, `compare_across_benchmarks`). Get one from a table with gaps through
  `common_subset`: a method missing a benchmark is never averaged over the rest.
- *seed cube*: shape (num_seeds, num_benchmarks, num_methods), NaN-padded
  (`rank_intervals_over_seeds`).

Everything is deterministic: the same inputs give bit-identical outputs (`dumps` writes any
result as byte-identical JSON), and the random procedures draw only from the
`numpy.random.Generator` the caller passes. Modules, one concept each: `cells`, `corrections`,
`effect_sizes`, `pairwise` (within a benchmark), `aggregates` (across tasks, bootstrap),
`ranks` (Friedman), `signed_rank` (exact Wilcoxon), `posthoc`, `groups` (cliques, letters,
Arena ranks), `rank_intervals`, `resample` (the draws of every stratified bootstrap),
`coverage`, `analysis` (the whole cross-benchmark pipeline), `serialize`.
"""

from harness.stats.aggregates import (
    AGGREGATES,
    IntervalEstimate,
    aggregate_interval_estimates,
    aggregate_iqm,
    aggregate_mean,
    aggregate_median,
    aggregate_optimality_gap,
    normalize_scores,
    stratified_bootstrap_ci,
)
from harness.stats.analysis import CrossBenchmarkResult, compare_across_benchmarks, run_posthoc
from harness.stats.cells import CellSummary, summarize_cell
from harness.stats.corrections import (
    CORRECTIONS,
    CorrectionName,
    benjamini_hochberg,
    bonferroni,
    holm,
)
from harness.stats.coverage import Coverage, common_subset
from harness.stats.effect_sizes import (
    cliffs_delta,
    cohens_d,
    cohens_d_label,
    effect_size_label,
    mean_difference_ci,
    probability_of_improvement,
    probability_of_improvement_ci,
)
from harness.stats.groups import (
    arena_ranks,
    compact_letter_display,
    significant_pairs,
    tie_cliques,
)
from harness.stats.pairwise import (
    Comparison,
    TestName,
    compare_with_best,
    mann_whitney_min_p,
    pairwise_tests,
    welch_t_min_p,
)
from harness.stats.posthoc import (
    PosthocName,
    PosthocResult,
    RankComparison,
    bonferroni_dunn,
    bonferroni_dunn_critical_value,
    critical_difference,
    nemenyi,
    nemenyi_critical_value,
    wilcoxon_holm,
)
from harness.stats.rank_intervals import (
    RankIntervals,
    rank_intervals_over_benchmarks,
    rank_intervals_over_seeds,
)
from harness.stats.ranks import (
    FriedmanResult,
    average_ranks,
    friedman_min_p,
    friedman_test,
    rank_matrix,
)
from harness.stats.serialize import dumps, to_jsonable
from harness.stats.signed_rank import wilcoxon_min_p, wilcoxon_p, wilcoxon_statistic

__all__ = [
    "AGGREGATES",
    "CORRECTIONS",
    "CellSummary",
    "Comparison",
    "CorrectionName",
    "Coverage",
    "CrossBenchmarkResult",
    "FriedmanResult",
    "IntervalEstimate",
    "PosthocName",
    "PosthocResult",
    "RankComparison",
    "RankIntervals",
    "TestName",
    "aggregate_interval_estimates",
    "aggregate_iqm",
    "aggregate_mean",
    "aggregate_median",
    "aggregate_optimality_gap",
    "arena_ranks",
    "average_ranks",
    "benjamini_hochberg",
    "bonferroni",
    "bonferroni_dunn",
    "bonferroni_dunn_critical_value",
    "cliffs_delta",
    "cohens_d",
    "cohens_d_label",
    "common_subset",
    "compact_letter_display",
    "compare_across_benchmarks",
    "compare_with_best",
    "critical_difference",
    "dumps",
    "effect_size_label",
    "friedman_min_p",
    "friedman_test",
    "holm",
    "mann_whitney_min_p",
    "mean_difference_ci",
    "nemenyi",
    "nemenyi_critical_value",
    "normalize_scores",
    "pairwise_tests",
    "probability_of_improvement",
    "probability_of_improvement_ci",
    "rank_intervals_over_benchmarks",
    "rank_intervals_over_seeds",
    "rank_matrix",
    "run_posthoc",
    "significant_pairs",
    "stratified_bootstrap_ci",
    "summarize_cell",
    "tie_cliques",
    "to_jsonable",
    "welch_t_min_p",
    "wilcoxon_holm",
    "wilcoxon_min_p",
    "wilcoxon_p",
    "wilcoxon_statistic",
]
