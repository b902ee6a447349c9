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

Only the fair protocol's phases (``tune``, ``evaluate``) feed a table, its family and "best";
runs of legacy test-set tuning feed the benchmark's protocol-gap section alone
(`leaderboard.protocol_gap`). Beside each table: the compute table (`leaderboard.compute_view`),
the stability-gap figure (`leaderboard.stability`) and, where the benchmark has a non-continual
reference, each method's intransigence as a secondary column (`leaderboard.reference`), and the
effect sizes of the family's comparisons (`leaderboard.effects`). A row is `leaderboard.rows`.

Suites of the time-to-result family (training algorithms timed to a target,
`leaderboard.ttr_results.is_ttr_suite`) have no such tables: each gets a `TTRSuiteView`
(`leaderboard.ttr_view`) and stays out of the continual suites and the comparison across all
benchmarks. NEVIS-like streams (runs with a ``nevis_tasks`` curve) likewise get a
`NevisSuiteView` (`leaderboard.nevis_view`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness import __version__
from harness.metrics.continual import METRIC_DIRECTIONS
from harness.stats import Comparison, compare_with_best, pairwise_tests
from harness.store import Decision, Store
from leaderboard.compute_view import ComputeView, compute_view
from leaderboard.cross_view import CrossView, cross_view
from leaderboard.current import CurrentResults, is_continual, select_current
from leaderboard.effects import EffectsView, effects_view
from leaderboard.figures import ACCURACY_MATRIX, PlotSpec, benchmark_plots, mean_matrix_of
from leaderboard.method_view import MethodView, method_views
from leaderboard.nevis_view import NEVIS_TASKS, NevisSuiteView, is_nevis_suite, nevis_suite_view
from leaderboard.paths import benchmark_slug, method_hrefs, slugify, suite_href
from leaderboard.protocol_gap import ProtocolGapView, protocol_gap_view
from leaderboard.reference import INTRANSIGENCE, intransigence_per_seed, reference_method
from leaderboard.rows import (
    FAIR_PHASES,
    MethodRow,
    RowContext,
    VersusBest,
    direction_hint,
    is_complete,
    method_row,
    metric_values,
    ranked,
)
from leaderboard.settings import StatSettings, metric_label, scenario_label, scenario_sort_key
from leaderboard.stability import CONTINUAL_EVAL, mean_trace_of, stability_plot
from leaderboard.ttr_results import EVAL_TRACE, is_ttr_suite
from leaderboard.ttr_view import TTRSuiteView, ttr_suite_view

__all__ = [
    "BenchmarkView", "BuildStamp", "MethodRow", "SiteView", "SuiteView", "VersusBest",
    "build_site_view", "metric_values",
]

Curves = Mapping[str, Mapping[str, Any]]
"""Curve name (accuracy_matrix, continual_eval) -> run key -> the stored curve."""


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
    secondary_metrics: tuple[str, ...]  # the settings' secondary metrics + those present here
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
    reference: str | None = None  # the non-continual method intransigence is measured against
    compute: ComputeView | None = None
    protocol_gap: ProtocolGapView | None = None  # None without legacy runs
    stability_plot: PlotSpec | None = None  # None without continual-evaluation curves
    effects: EffectsView | None = None  # None when the family has no method besides the best

    @property
    def figures(self) -> tuple[PlotSpec, ...]:
        """Every figure of the benchmark's sections, for `leaderboard.build` to draw."""
        extra = (self.stability_plot, self.protocol_gap.plot if self.protocol_gap else None)
        return self.plots + tuple(p for p in extra if p is not None)


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
    ttr_suites: tuple[TTRSuiteView, ...] = ()  # time-to-result suites (`leaderboard.ttr_view`)
    nevis_suites: tuple[NevisSuiteView, ...] = ()  # NEVIS-like streams (`leaderboard.nevis_view`)

    @property
    def is_empty(self) -> bool:
        return self.num_runs == 0

    @property
    def intransigence_references(self) -> tuple[tuple[str, str], ...]:
        """(benchmark title, reference method) of each benchmark with intransigence."""
        return tuple((f"{suite.name} · {bench.title}", bench.reference)
                     for suite in self.suites for bench in suite.benchmarks if bench.reference)


def build_site_view(
    store: Store, *, built_at: str, release: str | None = None,
    settings: StatSettings | None = None,
) -> SiteView:
    """Compute the whole site from `store`. `built_at` is the build time stamp to show."""
    settings = settings or StatSettings()
    all_decisions = store.decisions()
    current = select_current(store.runs_frame(), store.submissions(), all_decisions)
    decisions = [
        d for d in all_decisions
        if current.suite_versions.get(d.suite) == d.suite_version
        and current.hashes.get(d.submission) == d.submission_hash
    ]
    curves = {name: store.curves_for(name) for name in (ACCURACY_MATRIX, CONTINUAL_EVAL)}
    hrefs = method_hrefs(current.hashes)
    # a suite whose newest version only has runs of stale hashes has nothing to show
    shown = [s for s in sorted(current.suite_versions) if (current.runs["suite"] == s).any()]
    timed = {s for s in shown
             if is_ttr_suite(current.runs[current.runs["suite"] == s], current.metadata)}
    stream_curves = store.curves_for(NEVIS_TASKS)
    streams = {s for s in shown
               if is_nevis_suite(current.runs[current.runs["suite"] == s], stream_curves)}
    nevis_suites = tuple(nevis_suite_view(s, current.suite_versions[s],
                                          current.runs[current.runs["suite"] == s],
                                          stream_curves, decisions, hrefs, settings.confidence)
                         for s in sorted(streams))
    suites = tuple(_suite_view(suite, current, decisions, curves, hrefs, settings)
                   for suite in shown if suite not in timed | streams)
    traces = store.curves_for(EVAL_TRACE) if timed else {}
    suite_files = store.suite_files() if timed else {}
    ttr_suites = tuple(
        ttr_suite_view(s, current.suite_versions[s], current.runs[current.runs["suite"] == s],
                       traces, hrefs, settings,
                       suite_text=suite_files.get((s, current.suite_versions[s])))
        for s in sorted(timed)
    )
    stamp = BuildStamp(__version__, built_at, release or "unreleased")
    methods = method_views(current, decisions, hrefs, settings, frozenset(timed))
    across = cross_view(
        current.runs[~current.runs["suite"].isin(timed | streams)], current, hrefs, settings,
        scope="all benchmarks", slug="across-all",
        title=lambda suite, scenario: f"{suite} · {scenario_label(scenario)}",
    )
    return SiteView(
        stamp=stamp, settings=settings, suites=suites, methods=methods,
        num_runs=len(current.runs), current=current, cross=across, ttr_suites=ttr_suites,
        nevis_suites=nevis_suites,
    )


def _suite_view(
    suite: str, current: CurrentResults, decisions: list[Decision],
    curves: Curves, method_hrefs: Mapping[str, str], settings: StatSettings,
) -> SuiteView:
    runs = current.runs[current.runs["suite"] == suite]
    benchmarks = tuple(
        _benchmark_view(
            runs[runs["scenario"] == scenario],
            [d for d in decisions if d.suite == suite and d.scenario == scenario],
            curves, current, method_hrefs, settings,
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



def _compare(
    family: Mapping[str, np.ndarray], settings: StatSettings, higher_is_better: bool
) -> tuple[str | None, dict[str, Comparison], tuple[Comparison, ...]]:
    """The best method of the family, each other member's comparison with it, and every pair
    of the family (for the heatmap)."""
    if not family:
        return None, {}, ()
    best, comparisons = compare_with_best(
        family, higher_is_better=higher_is_better, alpha=settings.alpha, test=settings.test,
        correction=settings.correction, confidence=settings.confidence,
    )
    pairwise = tuple(pairwise_tests(
        family, test=settings.test, correction=settings.pairwise_correction,
        alpha=settings.alpha, higher_is_better=higher_is_better,
        confidence=settings.confidence,
    ).values()) if len(family) >= 2 else ()
    return best, comparisons, pairwise


@dataclass(frozen=True)
class _Table:
    """What the rows of one table are computed from (fair phases only)."""

    fair: pd.DataFrame
    evaluation: pd.DataFrame
    methods: list[str]
    continual: dict[str, bool]
    matrices: dict[str, tuple[Any, int]]  # method -> (seed-mean accuracy matrix, seeds)
    reference: str | None
    derived: dict[str, dict[str, np.ndarray]]  # method -> metric -> per-seed values
    secondary: tuple[str, ...]


def _table(runs: pd.DataFrame, curves: Curves, current: CurrentResults,
           settings: StatSettings) -> _Table:
    fair = runs[runs["phase"].isin(FAIR_PHASES)]
    evaluation = fair[fair["phase"] == "evaluate"]
    methods = sorted(fair["submission"].unique())
    # every method of the benchmark, legacy-only ones too (the protocol gap needs them)
    continual = {str(m): is_continual(current.metadata.get(str(m), {}))
                 for m in runs["submission"].unique()}
    by_method = {m: evaluation[evaluation["submission"] == m] for m in methods}
    matrices = {m: mean_matrix_of(by_method[m], curves[ACCURACY_MATRIX]) for m in methods}
    reference = reference_method(methods, {m: mm[0] for m, mm in matrices.items()}, continual)
    derived: dict[str, dict[str, np.ndarray]] = {m: {} for m in methods}
    if reference is not None:
        for m in methods:
            if continual[m]:
                derived[m][INTRANSIGENCE] = intransigence_per_seed(
                    by_method[m], curves[ACCURACY_MATRIX], matrices[reference][0])
    optional = tuple(m for m in settings.optional_metrics
                     if m not in settings.secondary_metrics and metric_values(evaluation, m).size)
    intransigent = any(v.get(INTRANSIGENCE, np.empty(0)).size for v in derived.values())
    return _Table(
        fair=fair, evaluation=evaluation, methods=methods, continual=continual,
        matrices=matrices, reference=reference if intransigent else None, derived=derived,
        secondary=(*settings.secondary_metrics, *optional,
                   *((INTRANSIGENCE,) if intransigent else ())),
    )


def _benchmark_view(
    runs: pd.DataFrame, decisions: list[Decision], curves: Curves,
    current: CurrentResults, method_hrefs: Mapping[str, str], settings: StatSettings,
) -> BenchmarkView:
    suite, scenario = str(runs["suite"].iloc[0]), str(runs["scenario"].iloc[0])
    table = _table(runs, curves, current, settings)
    evaluation = table.evaluation
    higher = METRIC_DIRECTIONS.get(settings.primary_metric, "higher") == "higher"
    family = {
        m: values for m in table.methods
        if table.continual[m] and is_complete(evaluation[evaluation["submission"] == m])
        and (values := metric_values(evaluation[evaluation["submission"] == m],
                                     settings.primary_metric)).size
    }
    best, comparisons, pairwise = _compare(family, settings, higher)
    fair_decisions = {d.submission: d for d in decisions if d.phase == "tune"}
    context = RowContext(best, settings, table.secondary)
    rows = ranked([
        method_row(
            m, table.fair[table.fair["submission"] == m], fair_decisions.get(m),
            continual=table.continual[m], href=method_hrefs[m],
            submission_hash=current.hashes[m], comparison=comparisons.get(m), context=context,
            derived=table.derived[m], mean_matrix=table.matrices[m],
        )
        for m in table.methods
    ], higher)
    slug = benchmark_slug(suite, scenario)
    traces = {m: t for m in family
              if (t := mean_trace_of(evaluation[evaluation["submission"] == m],
                                     curves[CONTINUAL_EVAL])) is not None}
    return BenchmarkView(
        suite=suite, suite_version=current.suite_versions[suite], scenario=scenario,
        title=scenario_label(scenario), slug=slug, primary_metric=settings.primary_metric,
        primary_label=metric_label(settings.primary_metric),
        primary_hint=direction_hint(settings.primary_metric),
        secondary_metrics=table.secondary,
        secondary_labels=tuple(metric_label(m) for m in table.secondary),
        secondary_hints=tuple(direction_hint(m) for m in table.secondary),
        rows=rows, best=best, num_methods=len(table.methods), num_runs=len(table.fair),
        seeds_text=_range_text(evaluation.groupby("submission").size(), "seed"),
        trials_text=_range_text(
            table.fair[table.fair["phase"] == "tune"].groupby("submission").size(), "trial"),
        csv_href=f"data/{slug}.csv", json_href=f"data/{slug}.json",
        tex_href=f"data/{slug}.tex",
        plots=benchmark_plots(suite, scenario, slug, rows, settings, pairwise,
                              _seed_values(evaluation, settings.primary_metric)),
        pairwise=pairwise, reference=table.reference,
        compute=compute_view(table.fair, [r.method for r in rows], continual=table.continual,
                             method_hrefs=method_hrefs, bench_slug=slug,
                             confidence=settings.confidence),
        protocol_gap=protocol_gap_view(
            runs, decisions, continual=table.continual, method_hrefs=method_hrefs,
            settings=settings),
        stability_plot=stability_plot(suite, scenario, slug, traces, settings),
        effects=effects_view(slug, best, comparisons, pairwise, [r.method for r in rows],
                             method_hrefs, settings),
    )


def _seed_values(evaluation: pd.DataFrame, metric: str) -> dict[str, tuple[float, ...]]:
    """Each method's finite values of `metric` over its successful seeds, by seed number."""
    ordered = evaluation.sort_values("seed", kind="stable")
    return {str(m): tuple(float(v) for v in metric_values(group, metric))
            for m, group in ordered.groupby("submission", sort=True)}


def _range_text(counts: pd.Series, unit: str) -> str:
    """"5 seeds" or "3–5 seeds" per method; "no {unit}s" when there are none."""
    if counts.empty:
        return f"no {unit}s"
    low, high = int(counts.min()), int(counts.max())
    plural = "" if high == 1 else "s"
    return f"{low} {unit}{plural}" if low == high else f"{low}–{high} {unit}s"
