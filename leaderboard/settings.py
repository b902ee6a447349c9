"""The statistical settings a site is built with, and the names the site gives things.

The methodology page is generated from a `StatSettings` instance, the same one the tables were
computed with, so the page cannot drift from what was done.
"""

from __future__ import annotations

from dataclasses import dataclass

SCENARIO_LABELS = {
    "task": "Task-incremental",
    "domain": "Domain-incremental",
    "class": "Class-incremental",
}

METRIC_LABELS = {
    "final_avg_acc": "Final average accuracy",
    "avg_incremental_acc": "Average incremental accuracy",
    "bwt": "Backward transfer (BWT)",
    "fwt": "Forward transfer (FWT)",
    "forgetting": "Forgetting",
    "learning_acc": "Learning accuracy",
    "min_acc": "Min-ACC",
    "wc_acc": "WC-ACC",
    "intransigence": "Intransigence",
    "train_flops": "Training FLOPs",
    "state_bytes": "Learner state (bytes)",
    "train_time_s": "Training time (s)",
    "peak_rss_mb": "Peak memory (MiB)",  # ru_maxrss KiB / 1024
    "eval_time_s": "Evaluation time (s)",
    "samples_seen": "Samples seen",
    "state_size_bytes": "Learner state (bytes)",
}

TEST_LABELS = {
    "welch-t": "Welch's t-test",
    "student-t": "Student's t-test",
    "mann-whitney": "Mann–Whitney U test",
    "wilcoxon": "Wilcoxon signed-rank test",
}

# What limits each test's power at small seed counts (shown on the methodology page).
TEST_POWER_NOTES = {
    "welch-t": "Welch's t-test needs at least 2 successful seeds on each side; with fewer the "
               "comparison cannot be made.",
    "mann-whitney": "An exact Mann–Whitney test of n against m seeds cannot give a two-sided p "
                    "below 2 / C(n + m, n): 3 against 3 seeds can never reach p < 0.05.",
}

POSTHOC_LABELS = {
    "wilcoxon-holm": "Wilcoxon signed-rank tests with Holm's correction",
    "nemenyi": "the Nemenyi test",
    "bonferroni-dunn": "the Bonferroni–Dunn test",
}

CORRECTION_LABELS = {
    "holm": "Holm",
    "benjamini-hochberg": "Benjamini–Hochberg",
    "bonferroni": "Bonferroni",
    "none": "no correction",
}

AGGREGATE_LABELS = {
    "mean": "Mean",
    "median": "Median",
    "iqm": "IQM",
    "optimality_gap": "Optimality gap",
}
AGGREGATE_HINTS = {
    "mean": "mean over benchmarks of the seed mean (higher is better)",
    "median": "median over benchmarks of the seed mean (higher is better)",
    "iqm": "interquartile mean of all seeds × benchmarks: the middle 50% (higher is better)",
    "optimality_gap": "mean shortfall below 1 over all seeds × benchmarks (lower is better)",
}


@dataclass(frozen=True)
class StatSettings:
    """How the tables are computed.

    Attributes:
        confidence: level of the Student-t intervals of seed means.
        alpha: significance level of the comparisons with the best method.
        test: two-sample test of each method against the best (`harness.stats` name).
        correction: multiple-comparison correction within one table.
        primary_metric: the metric methods are ranked and tested by.
        secondary_metrics: further metrics shown as mean ± CI, not tested.
        optional_metrics: secondary metrics shown only on benchmarks where a run recorded them
            (min-ACC and WC-ACC need continual evaluation); intransigence follows them where
            the benchmark has a non-continual reference (`leaderboard.reference`).
        stability_tasks: how many of the first tasks the stability-gap figure follows (one
            panel each; task 1 alone by default).
        pairwise_correction: correction across all pairs of one table (p-value heatmaps).
        posthoc: post-hoc procedure across benchmarks after the Friedman test
            (`harness.stats.PosthocName`; "bonferroni-dunn" is not offered: it needs a
            control method, and a leaderboard has none).
        bootstrap_reps: replicates of the seed bootstrap of rank intervals.
        bootstrap_seed: seed of its `numpy.random.Generator` (fixed: same store, same site).
    """

    confidence: float = 0.95
    alpha: float = 0.05
    test: str = "welch-t"
    correction: str = "holm"
    primary_metric: str = "final_avg_acc"
    secondary_metrics: tuple[str, ...] = ("avg_incremental_acc", "bwt", "forgetting")
    optional_metrics: tuple[str, ...] = ("min_acc", "wc_acc")
    stability_tasks: int = 1
    pairwise_correction: str = "benjamini-hochberg"
    posthoc: str = "wilcoxon-holm"
    bootstrap_reps: int = 2000
    bootstrap_seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must lie in (0, 1), got {self.confidence}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        if self.posthoc not in ("wilcoxon-holm", "nemenyi"):
            raise ValueError(
                f"posthoc must be 'wilcoxon-holm' or 'nemenyi', got {self.posthoc!r}"
            )
        if self.stability_tasks < 1:
            raise ValueError(f"stability_tasks must be >= 1, got {self.stability_tasks}")
        if self.bootstrap_reps < 1:
            raise ValueError(f"bootstrap_reps must be >= 1, got {self.bootstrap_reps}")

    @property
    def confidence_text(self) -> str:
        """The confidence level as the site writes it: "95%"."""
        return f"{self.confidence:.0%}" if round(self.confidence, 2) == self.confidence else (
            f"{self.confidence:.1%}"
        )

    @property
    def stability_tasks_text(self) -> str:
        """The tasks the stability-gap figure follows: "task 1" or "tasks 1–3"."""
        return "task 1" if self.stability_tasks == 1 else f"tasks 1–{self.stability_tasks}"

    @property
    def test_label(self) -> str:
        return TEST_LABELS.get(self.test, self.test)

    @property
    def primary_label(self) -> str:
        return metric_label(self.primary_metric)

    @property
    def secondary_labels(self) -> tuple[str, ...]:
        return tuple(metric_label(m) for m in self.secondary_metrics)

    @property
    def test_power_note(self) -> str:
        return TEST_POWER_NOTES.get(self.test, "")

    @property
    def correction_label(self) -> str:
        return CORRECTION_LABELS.get(self.correction, self.correction)

    @property
    def posthoc_label(self) -> str:
        return POSTHOC_LABELS.get(self.posthoc, self.posthoc)

    @property
    def pairwise_correction_label(self) -> str:
        return CORRECTION_LABELS.get(self.pairwise_correction, self.pairwise_correction)

    @property
    def p_label(self) -> str:
        """What the p-values in the tables are: "Holm-adjusted p", or "unadjusted p"."""
        return _p_label(self.correction, self.correction_label)

    @property
    def pairwise_p_label(self) -> str:
        """What the p-values of all pairs are: "Benjamini–Hochberg-adjusted p", or …"""
        return _p_label(self.pairwise_correction, self.pairwise_correction_label)


def _p_label(correction: str, label: str) -> str:
    return "unadjusted p" if correction == "none" else f"{label}-adjusted p"


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def scenario_label(scenario: str) -> str:
    return SCENARIO_LABELS.get(scenario, scenario)


def scenario_sort_key(scenario: str) -> tuple[int, str]:
    """Task, domain, class (the order of van de Ven et al.), then any other alphabetically."""
    order = list(SCENARIO_LABELS)
    return (order.index(scenario) if scenario in order else len(order), scenario)
