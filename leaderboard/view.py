"""The view model: everything the site shows, computed from the results store.

Pure functions from store data to frozen dataclasses. Every number, rank, significance mark,
formatted string, plot input and alt text is decided here; templates only place them on the page
and `build` only writes files. Links are relative to the site root (``suites/x.html``); templates
prefix them with the path back to the root.

Per benchmark (suite × scenario) the table has one row per method. Continual methods with at
least one successful evaluation seed form the comparison family: the best is the one with the
best mean primary metric, and every other one is compared with it (`harness.stats
.compare_with_best`, one family per table); every pair of the family is also tested for the
p-value heatmap (`harness.stats.pairwise_tests`). Non-continual references (``continual =
false``, e.g. joint training) are shown but kept out of the ranking, the family and "best".
Comparisons across benchmarks (per suite, and across the whole site) are `leaderboard.cross_view`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from harness import __version__
from harness.metrics.continual import METRIC_DIRECTIONS
from harness.stats import Comparison, compare_with_best, pairwise_tests, summarize_cell
from harness.store import Decision, Store
from leaderboard.cross_view import CrossView, cross_view
from leaderboard.current import CurrentResults, is_continual, select_current
from leaderboard.figures import ACCURACY_MATRIX, PlotSpec, benchmark_plots, mean_matrix_of
from leaderboard.method_view import MethodView, method_views
from leaderboard.numbers import (
    Estimate,
    estimate_from_summary,
    format_duration,
    format_hparams,
    format_p_value,
)
from leaderboard.paths import benchmark_slug, method_hrefs, slugify, suite_href
from leaderboard.settings import StatSettings, metric_label, scenario_label, scenario_sort_key


class VersusBest(enum.Enum):
    """How a row relates to the best method of its table."""

    BEST = "best"
    TIED = "tied"              # not significantly different from the best
    WORSE = "worse"            # significantly worse than the best
    UNTESTABLE = "untestable"  # the power guard: significance is out of reach with these seeds
    REFERENCE = "reference"    # not a continual method: outside the family
    NO_RESULTS = "no-results"  # no successful evaluation seed


@dataclass(frozen=True)
class MethodRow:
    """One method in one benchmark table. `secondary` follows `StatSettings.secondary_metrics`."""

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
class BenchmarkView:
    suite: str
    suite_version: str
    scenario: str
    title: str
    slug: str
    primary_metric: str
    primary_label: str
    primary_hint: str
    secondary_labels: tuple[str, ...]
    secondary_hints: tuple[str, ...]
    rows: tuple[MethodRow, ...]
    best: str | None
    num_methods: int
    num_runs: int
    seeds_text: str
    trials_text: str
    csv_href: str
    json_href: str
    tex_href: str
    plots: tuple[PlotSpec, ...]
    pairwise: tuple[Comparison, ...] = ()  # every pair of the family, for the heatmap


@dataclass(frozen=True)
class SuiteView:
    name: str
    version: str
    href: str
    benchmarks: tuple[BenchmarkView, ...]
    num_methods: int
    num_runs: int
    cross: CrossView | None = None  # across the suite's scenarios; None with fewer than two


@dataclass(frozen=True)
class BuildStamp:
    harness_version: str
    built_at: str
    release: str


@dataclass(frozen=True)
class SiteView:
    stamp: BuildStamp
    settings: StatSettings
    suites: tuple[SuiteView, ...]
    methods: tuple[MethodView, ...]
    num_runs: int
    current: CurrentResults = field(repr=False, compare=False)
    cross: CrossView | None = None  # across every benchmark; None with fewer than two

    @property
    def is_empty(self) -> bool:
        return self.num_runs == 0


def build_site_view(
    store: Store, *, built_at: str, release: str | None = None,
    settings: StatSettings | None = None,
) -> SiteView:
    """Compute the whole site from `store`. `built_at` is the build time stamp to show."""
    settings = settings or StatSettings()
    current = select_current(store.runs_frame(), store.submissions())
    decisions = [
        d for d in store.decisions()
        if current.suite_versions.get(d.suite) == d.suite_version
        and current.hashes.get(d.submission) == d.submission_hash
    ]
    matrices = store.curves_for(ACCURACY_MATRIX)
    hrefs = method_hrefs(current.hashes)
    suites = tuple(
        _suite_view(suite, current, decisions, matrices, hrefs, settings)
        for suite in sorted(current.suite_versions)
        # a suite whose newest version only has runs of stale hashes has nothing to show
        if (current.runs["suite"] == suite).any()
    )
    stamp = BuildStamp(__version__, built_at, release or "unreleased")
    methods = method_views(current, decisions, hrefs, settings)
    across = cross_view(
        current.runs, current, hrefs, settings, scope="all benchmarks", slug="across-all",
        title=lambda suite, scenario: f"{suite} · {scenario_label(scenario)}",
    )
    return SiteView(
        stamp=stamp, settings=settings, suites=suites, methods=methods,
        num_runs=len(current.runs), current=current, cross=across,
    )


def _suite_view(
    suite: str, current: CurrentResults, decisions: list[Decision],
    matrices: Mapping[str, Any], method_hrefs: Mapping[str, str], settings: StatSettings,
) -> SuiteView:
    runs = current.runs[current.runs["suite"] == suite]
    benchmarks = tuple(
        _benchmark_view(
            runs[runs["scenario"] == scenario],
            [d for d in decisions if d.suite == suite and d.scenario == scenario],
            matrices, current, method_hrefs, settings,
        )
        for scenario in sorted(runs["scenario"].unique(), key=scenario_sort_key)
    )
    across = cross_view(
        runs, current, method_hrefs, settings, scope=suite, slug=f"across-{slugify(suite)}",
        title=lambda _suite, scenario: scenario_label(scenario),
    )
    return SuiteView(
        name=suite, version=current.suite_versions[suite], href=suite_href(suite),
        benchmarks=benchmarks, num_methods=runs["submission"].nunique(), num_runs=len(runs),
        cross=across,
    )


def metric_values(runs: pd.DataFrame, metric: str) -> np.ndarray:
    """Finite values of `metric` over the successful runs in `runs` (undefined ones dropped)."""
    column = f"metric.{metric}"
    if column not in runs.columns:
        return np.empty(0)
    values = runs.loc[runs["status"] == "ok", column].to_numpy(dtype=float)
    return values[np.isfinite(values)]


def _estimate(runs: pd.DataFrame, metric: str, confidence: float) -> Estimate | None:
    values = metric_values(runs, metric)
    if values.size == 0:
        return None
    return estimate_from_summary(summarize_cell(values, confidence=confidence))


def _compare(
    family: Mapping[str, np.ndarray], settings: StatSettings, higher_is_better: bool
) -> tuple[str | None, dict[str, Comparison]]:
    """The best method of the family and each other member's comparison with it."""
    if not family:
        return None, {}
    return compare_with_best(
        family, higher_is_better=higher_is_better, alpha=settings.alpha, test=settings.test,
        correction=settings.correction,
    )


def _benchmark_view(
    runs: pd.DataFrame, decisions: list[Decision], matrices: Mapping[str, Any],
    current: CurrentResults, method_hrefs: Mapping[str, str], settings: StatSettings,
) -> BenchmarkView:
    suite, scenario = str(runs["suite"].iloc[0]), str(runs["scenario"].iloc[0])
    evaluation = runs[runs["phase"] == "evaluate"]
    higher = METRIC_DIRECTIONS.get(settings.primary_metric, "higher") == "higher"
    methods = sorted(runs["submission"].unique())
    family = {
        m: values for m in methods
        if is_continual(current.metadata.get(m, {}))
        and (values := metric_values(evaluation[evaluation["submission"] == m],
                                     settings.primary_metric)).size
    }
    best, comparisons = _compare(family, settings, higher)
    pairwise = tuple(pairwise_tests(
        family, test=settings.test, correction=settings.pairwise_correction,
        alpha=settings.alpha, higher_is_better=higher,
    ).values()) if len(family) >= 2 else ()
    by_method = {d.submission: d for d in decisions}
    rows = [
        _method_row(
            m, runs[runs["submission"] == m], by_method.get(m), matrices, current,
            method_hrefs[m], best, comparisons.get(m), settings,
        )
        for m in methods
    ]
    slug = benchmark_slug(suite, scenario)
    ranked = _ranked(rows, higher)
    return BenchmarkView(
        suite=suite, suite_version=current.suite_versions[suite], scenario=scenario,
        title=scenario_label(scenario), slug=slug, primary_metric=settings.primary_metric,
        primary_label=metric_label(settings.primary_metric),
        primary_hint=_direction_hint(settings.primary_metric),
        secondary_labels=tuple(metric_label(m) for m in settings.secondary_metrics),
        secondary_hints=tuple(_direction_hint(m) for m in settings.secondary_metrics),
        rows=ranked, best=best, num_methods=len(methods), num_runs=len(runs),
        seeds_text=_range_text(evaluation.groupby("submission").size(), "seed"),
        trials_text=_range_text(
            runs[runs["phase"] == "tune"].groupby("submission").size(), "trial"),
        csv_href=f"data/{slug}.csv", json_href=f"data/{slug}.json",
        tex_href=f"data/{slug}.tex",
        plots=benchmark_plots(suite, scenario, slug, ranked, settings, pairwise),
        pairwise=pairwise,
    )


def _direction_hint(metric: str) -> str:
    direction = METRIC_DIRECTIONS.get(metric)
    return f"{direction} is better" if direction else ""


def _ranked(rows: list[MethodRow], higher_is_better: bool) -> tuple[MethodRow, ...]:
    """Rows by mean primary metric, best first, rows without results last; continual methods
    get ranks 1, 2, …, references none."""
    sign = -1.0 if higher_is_better else 1.0
    ordered = sorted(
        rows,
        key=lambda r: (r.primary is None, sign * r.primary.mean if r.primary else 0.0, r.method),
    )
    ranked, rank = [], 0
    for row in ordered:
        if row.continual and row.primary is not None:
            rank += 1
            row = replace(row, rank=rank)
        ranked.append(row)
    return tuple(ranked)


def _range_text(counts: pd.Series, unit: str) -> str:
    """"5 seeds" or "3–5 seeds" per method; "no {unit}s" when there are none."""
    if counts.empty:
        return f"no {unit}s"
    low, high = int(counts.min()), int(counts.max())
    plural = "" if high == 1 else "s"
    return f"{low} {unit}{plural}" if low == high else f"{low}–{high} {unit}s"


def _method_row(
    method: str, runs: pd.DataFrame, decision: Decision | None, matrices: Mapping[str, Any],
    current: CurrentResults, href: str, best: str | None, comparison: Comparison | None,
    settings: StatSettings,
) -> MethodRow:
    evaluation = runs[runs["phase"] == "evaluate"]
    tuning = runs[runs["phase"] == "tune"]
    continual = is_continual(current.metadata.get(method, {}))
    primary = _estimate(evaluation, settings.primary_metric, settings.confidence)
    status, text, title = _versus_best(method, continual, primary, best, comparison, settings)
    hparams = _chosen_hparams(decision, evaluation)
    tuning_time_s = float(tuning["wall_time_s"].sum())
    tuning_failed = int((tuning["status"] != "ok").sum())
    mean_matrix, num_matrices = mean_matrix_of(evaluation, matrices)
    return MethodRow(
        rank=None, method=method, method_href=href, continual=continual, primary=primary,
        secondary=tuple(
            _estimate(evaluation, m, settings.confidence) for m in settings.secondary_metrics
        ),
        versus_best=status, versus_best_text=text, versus_best_title=title,
        comparison=comparison, failed_runs=int((evaluation["status"] != "ok").sum()),
        hparams=hparams, hparams_text=format_hparams(hparams),
        tuning_trials=len(tuning), tuning_failed=tuning_failed, tuning_time_s=tuning_time_s,
        tuning_text=_tuning_text(len(tuning), tuning_failed, tuning_time_s),
        submission_hash=current.hashes[method],
        mean_matrix=mean_matrix, num_matrices=num_matrices,
    )


def _chosen_hparams(decision: Decision | None, evaluation: pd.DataFrame) -> dict[str, Any]:
    """The tuned configuration; without a decision, the one the evaluation runs used."""
    if decision is not None:
        return dict(decision.chosen_hparams)
    if evaluation.empty:
        return {}
    return json.loads(evaluation["hparams"].iloc[0])


def _tuning_text(trials: int, failed: int, time_s: float) -> str:
    if trials == 0:
        return "no tuning runs"
    text = f"{trials} trial{'s' if trials != 1 else ''}, {format_duration(time_s)}"
    return f"{text} ({failed} failed)" if failed else text


def _versus_best(
    method: str, continual: bool, primary: Estimate | None, best: str | None,
    comparison: Comparison | None, settings: StatSettings,
) -> tuple[VersusBest, str, str]:
    """Status, column text and tooltip of a row's comparison with the best method."""
    if not continual:
        return (VersusBest.REFERENCE, "upper bound · not continual",
                "Not a continual method (e.g. joint training on all tasks at once): shown as a "
                "reference, kept out of the ranking, the significance tests and 'best'.")
    if primary is None:
        return VersusBest.NO_RESULTS, "no successful runs", "No evaluation seed succeeded."
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
