"""One method's row in a benchmark table: part of the view model (see `leaderboard.view`).

A row holds the method's fair-protocol results only: evaluation seeds (phase ``evaluate``) and
tuning trials (phase ``tune``). Runs of the legacy phases (``legacy-tune``, ``legacy``) are the
protocol-gap section's (`leaderboard.protocol_gap`) and never reach a row.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from harness.metrics.continual import METRIC_DIRECTIONS
from harness.stats import Comparison, summarize_cell
from harness.store import Decision
from leaderboard.numbers import (
    Estimate,
    estimate_from_summary,
    format_duration,
    format_hparams,
    format_p_value,
)
from leaderboard.settings import StatSettings, metric_label

FAIR_PHASES = ("tune", "evaluate")
"""The phases of the fair protocol: the only ones the main table, its tests and "best" see."""


class VersusBest(enum.Enum):
    """How a row relates to the best method of its table."""

    BEST = "best"
    TIED = "tied"              # not significantly different from the best
    WORSE = "worse"            # significantly worse than the best
    UNTESTABLE = "untestable"  # the power guard: significance is out of reach with these seeds
    REFERENCE = "reference"    # not a continual method: outside the family
    INCOMPLETE = "incomplete"  # some evaluation seeds failed: not ranked (survivor bias)
    NO_RESULTS = "no-results"  # no successful evaluation seed


@dataclass(frozen=True)
class MethodRow:
    """One method in one benchmark table. `secondary` follows
    `BenchmarkView.secondary_metrics`."""

    rank: int | None
    method: str
    method_href: str
    continual: bool
    primary: Estimate | None
    secondary: tuple[Estimate | None, ...]
    versus_best: VersusBest
    versus_best_text: str
    versus_best_title: str
    comparison: Comparison | None
    failed_runs: int
    hparams: dict[str, Any]
    hparams_text: str
    tuning_trials: int
    tuning_failed: int
    tuning_time_s: float
    tuning_text: str
    submission_hash: str
    mean_matrix: tuple[tuple[float, ...], ...] | None = None
    num_matrices: int = 0

    @property
    def is_best(self) -> bool:
        return self.versus_best is VersusBest.BEST

    @property
    def is_tied(self) -> bool:
        return self.versus_best is VersusBest.TIED


@dataclass(frozen=True)
class RowContext:
    """What every row of one table shares: the best method and the settings."""

    best: str | None
    settings: StatSettings
    secondary_metrics: tuple[str, ...]


def metric_values(runs: pd.DataFrame, metric: str) -> np.ndarray:
    """Finite values of `metric` over the successful runs in `runs` (undefined ones dropped)."""
    column = f"metric.{metric}"
    if column not in runs.columns:
        return np.empty(0)
    values = runs.loc[runs["status"] == "ok", column].to_numpy(dtype=float)
    return values[np.isfinite(values)]


def estimate_of(values: np.ndarray, confidence: float) -> Estimate | None:
    """Mean ± Student-t interval of `values` (one per seed); None when there are none."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return estimate_from_summary(summarize_cell(values, confidence=confidence))


def direction_hint(metric: str) -> str:
    direction = METRIC_DIRECTIONS.get(metric)
    return f"{direction} is better" if direction else ""


def method_row(
    method: str, runs: pd.DataFrame, decision: Decision | None, *, continual: bool, href: str,
    submission_hash: str, comparison: Comparison | None, context: RowContext,
    derived: Mapping[str, np.ndarray], mean_matrix: tuple[Any, int],
) -> MethodRow:
    """The row of `method` from its fair-phase `runs` on one benchmark.

    `derived` holds per-seed values of secondary metrics computed by the site rather than
    stored (intransigence); `mean_matrix` is (seed-mean accuracy matrix or None, seed count).
    """
    evaluation = runs[runs["phase"] == "evaluate"]
    tuning = runs[runs["phase"] == "tune"]
    settings = context.settings
    primary = estimate_of(metric_values(evaluation, settings.primary_metric), settings.confidence)
    failed_runs = int((evaluation["status"] != "ok").sum())
    status, text, title = _versus_best(method, continual, primary, context.best, comparison,
                                       settings, failed=(failed_runs, len(evaluation)))
    hparams = chosen_hparams(decision, evaluation)
    tuning_time_s = float(tuning["wall_time_s"].sum())
    tuning_failed = int((tuning["status"] != "ok").sum())
    return MethodRow(
        rank=None, method=method, method_href=href, continual=continual, primary=primary,
        secondary=_secondary(evaluation, context.secondary_metrics, derived, settings),
        versus_best=status, versus_best_text=text, versus_best_title=title,
        comparison=comparison, failed_runs=failed_runs,
        hparams=hparams, hparams_text=format_hparams(hparams),
        tuning_trials=len(tuning), tuning_failed=tuning_failed, tuning_time_s=tuning_time_s,
        tuning_text=_tuning_text(len(tuning), tuning_failed, tuning_time_s),
        submission_hash=submission_hash,
        mean_matrix=mean_matrix[0], num_matrices=mean_matrix[1],
    )


def _secondary(
    evaluation: pd.DataFrame, metrics: Sequence[str], derived: Mapping[str, np.ndarray],
    settings: StatSettings,
) -> tuple[Estimate | None, ...]:
    return tuple(
        estimate_of(derived[m] if m in derived else metric_values(evaluation, m),
                    settings.confidence)
        for m in metrics
    )


def chosen_hparams(decision: Decision | None, runs: pd.DataFrame) -> dict[str, Any]:
    """The tuned configuration; without a decision, the one the evaluated `runs` used."""
    if decision is not None:
        return dict(decision.chosen_hparams)
    if runs.empty:
        return {}
    return json.loads(runs["hparams"].iloc[0])


def _tuning_text(trials: int, failed: int, time_s: float) -> str:
    if trials == 0:
        return "no tuning runs"
    text = f"{trials} trial{'s' if trials != 1 else ''}, {format_duration(time_s)}"
    return f"{text} ({failed} failed)" if failed else text


def ranked(rows: list[MethodRow], higher_is_better: bool) -> tuple[MethodRow, ...]:
    """Rows by mean primary metric, best first; then rows with failed evaluation seeds (not
    ranked), then rows without results. Continual methods get ranks 1, 2, …, references none."""
    sign = -1.0 if higher_is_better else 1.0

    def group(row: MethodRow) -> int:
        if row.primary is None:
            return 2
        return 1 if row.versus_best is VersusBest.INCOMPLETE else 0

    ordered = sorted(
        rows,
        key=lambda r: (group(r), sign * r.primary.mean if r.primary else 0.0, r.method),
    )
    result, rank = [], 0
    for row in ordered:
        if row.continual and group(row) == 0:
            rank += 1
            row = replace(row, rank=rank)
        result.append(row)
    return tuple(result)


def is_complete(runs: pd.DataFrame) -> bool:
    """Whether every evaluation seed in `runs` succeeded (and there is one). A mean over the
    seeds that survived is biased, most for a method that fails on its hard seeds, so only
    complete methods are ranked, tested and eligible as the best."""
    return bool(len(runs)) and bool((runs["status"] == "ok").all())


def _versus_best(
    method: str, continual: bool, primary: Estimate | None, best: str | None,
    comparison: Comparison | None, settings: StatSettings, *, failed: tuple[int, int] = (0, 0),
) -> tuple[VersusBest, str, str]:
    """Status, column text and tooltip of a row's comparison with the best method; `failed`
    is (failed evaluation seeds, evaluation seeds)."""
    if not continual:
        return (VersusBest.REFERENCE, "upper bound · not continual",
                "Not a continual method (e.g. joint training on all tasks at once): shown as a "
                "reference, kept out of the ranking, the significance tests and 'best'.")
    if primary is None:
        return VersusBest.NO_RESULTS, "no successful runs", "No evaluation seed succeeded."
    if failed[0]:
        return (VersusBest.INCOMPLETE, f"not ranked: {failed[0]} of {failed[1]} seeds failed",
                "The mean covers only the seeds that succeeded, which flatters a method that "
                "fails on its hard seeds. Kept out of the ranking, 'best' and the significance "
                "tests; `harness evaluate --retry-failed` runs the failed seeds again.")
    if method == best or comparison is None:
        return (VersusBest.BEST, "best",
                f"Best mean {metric_label(settings.primary_metric).lower()} in this table.")
    p = comparison.p_adjusted
    how = (f"{settings.test_label} against {best}, {settings.p_label} = {p:.3g}, "
           f"α = {settings.alpha:g}")
    if comparison.significant:
        return (VersusBest.WORSE, f"worse than best ({format_p_value(p)})",
                f"Significantly worse: {how}.")
    if not comparison.can_reach_significance:
        return (VersusBest.UNTESTABLE, "cannot be tested with this many seeds",
                f"With these seed counts the smallest attainable adjusted p-value is "
                f"{comparison.min_attainable_p:.3g} > α = {settings.alpha:g}; add seeds to "
                f"test against {best}.")
    return (VersusBest.TIED, f"tied with best ({format_p_value(p)})",
            f"Not significantly different: {how}.")
