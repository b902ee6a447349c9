"""Comparisons of methods across benchmarks: part of the view model (see `leaderboard.view`).

For a set of benchmarks (the scenarios of one suite, or every benchmark of the site) the
continual methods are compared by their mean primary metric per benchmark: Friedman's test with
Iman–Davenport's F, then the post-hoc procedure of `StatSettings.posthoc`, then tie groups, a
compact letter display, "Arena-style" ranks (1 + the number of methods significantly better) and
seed-bootstrap rank intervals (`harness.stats`), and the aggregates of the same block with
stratified-bootstrap intervals (`leaderboard.aggregate_view`). Only complete blocks are
compared: methods that miss a benchmark are left out and listed with their coverage
(`harness.stats.common_subset`); if that leaves fewer than two methods, the benchmarks some
method misses are left out instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness.metrics.continual import METRIC_DIRECTIONS
from harness.stats import (
    Coverage,
    CrossBenchmarkResult,
    RankIntervals,
    common_subset,
    compare_across_benchmarks,
    rank_intervals_over_seeds,
)
from leaderboard.aggregate_view import AggregateView, aggregate_view
from leaderboard.current import CurrentResults, is_continual
from leaderboard.figures import PlotSpec
from leaderboard.numbers import format_p_value
from leaderboard.paths import benchmark_slug
from leaderboard.rows import is_complete
from leaderboard.settings import StatSettings, scenario_sort_key

BenchmarkTitle = Callable[[str, str], str]
"""(suite, scenario) -> the benchmark's name in this comparison."""


@dataclass(frozen=True)
class CrossRow:
    """One method in a cross-benchmark ranking, best average rank first."""

    method: str
    method_href: str
    position: int  # 1 + the number of methods with a strictly better average rank
    average_rank: float
    average_rank_text: str
    rank_interval_text: str
    letters: str
    arena_rank: int
    coverage_text: str


@dataclass(frozen=True)
class LeftOut:
    """A method not in the comparison because it misses some benchmarks."""

    method: str
    method_href: str
    coverage_text: str


@dataclass(frozen=True)
class CrossView:
    """A cross-benchmark comparison; `result` is None when there is too little to compare
    (fewer than two benchmarks shared by two methods), and `message` then says so."""

    scope: str
    slug: str
    benchmark_titles: tuple[str, ...]
    dropped_benchmarks: tuple[str, ...]
    rows: tuple[CrossRow, ...]
    left_out: tuple[LeftOut, ...]
    omnibus_text: str
    posthoc_text: str
    greyed: bool
    message: str
    plot: PlotSpec | None
    result: CrossBenchmarkResult | None = field(default=None, compare=False, hash=False)
    rank_intervals: RankIntervals | None = field(default=None, compare=False, hash=False)
    aggregates: AggregateView | None = None  # mean, median, IQM, optimality gap with CIs

    @property
    def available(self) -> bool:
        return self.result is not None


def _seed_values(
    runs: pd.DataFrame, current: CurrentResults, metric: str
) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """(suite, scenario) -> continual method -> its successful seeds' values, by seed."""
    evaluation = runs[runs["phase"] == "evaluate"]
    column = f"metric.{metric}"
    values: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for (suite, scenario, method), group in evaluation.groupby(
        ["suite", "scenario", "submission"], sort=True
    ):
        if not is_continual(current.metadata.get(str(method), {})):
            continue
        # a method with failed seeds has no cell here (`rows.is_complete`): it is left out
        # with its coverage, not compared on the seeds that survived
        ok = group.sort_values("seed") if is_complete(group) else group.iloc[:0]
        seeds = ok[column].to_numpy(dtype=float) if column in ok else np.empty(0)
        values.setdefault((str(suite), str(scenario)), {})[str(method)] = seeds[
            np.isfinite(seeds)
        ]
    return values


def _subset(cells: Mapping[str, Mapping[str, np.ndarray]]) -> Coverage:
    rows = [
        (bench, method, float(np.mean(seeds)) if seeds.size else math.nan)
        for bench, by_method in cells.items()
        for method, seeds in by_method.items()
    ]
    subset = common_subset(rows, keep="benchmarks")
    if len(subset.methods) < 2:
        subset = common_subset(rows, keep="methods")
    return subset


def cross_view(
    runs: pd.DataFrame, current: CurrentResults, method_hrefs: Mapping[str, str],
    settings: StatSettings, *, scope: str, slug: str, title: BenchmarkTitle,
) -> CrossView | None:
    """The comparison across the benchmarks of `runs` (current runs); None with fewer than
    two benchmarks, where there is nothing to compare across."""
    by_benchmark = _seed_values(runs, current, settings.primary_metric)
    keys = sorted(by_benchmark, key=lambda k: (k[0], scenario_sort_key(k[1])))
    if len(keys) < 2:
        return None
    names = {benchmark_slug(*k): title(*k) for k in keys}
    cells = {benchmark_slug(*k): by_benchmark[k] for k in keys}
    subset = _subset(cells)
    base = {
        "scope": scope, "slug": slug,
        "dropped_benchmarks": tuple(t for b, t in names.items() if b in subset.dropped_benchmarks),
        "left_out": tuple(
            LeftOut(m, method_hrefs[m], f"{count}/{subset.num_benchmarks}")
            for m, count in subset.coverage if m in subset.dropped_methods
        ),
    }
    if subset.scores.shape[0] < 2 or subset.scores.shape[1] < 2:
        return CrossView(
            benchmark_titles=tuple(names.values()), rows=(), omnibus_text="",
            posthoc_text="", greyed=True, plot=None,
            message="Too little to compare: fewer than two benchmarks on which at least two "
                    "continual methods all have results.",
            **base,
        )
    return _analysed_view(subset, cells, names, method_hrefs, settings, base)


def _analysed_view(
    subset: Coverage, cells: Mapping[str, Mapping[str, np.ndarray]], names: Mapping[str, str],
    method_hrefs: Mapping[str, str], settings: StatSettings, base: dict,
) -> CrossView:
    higher = METRIC_DIRECTIONS.get(settings.primary_metric, "higher") == "higher"
    result = compare_across_benchmarks(
        subset.scores, methods=subset.methods, higher_is_better=higher, alpha=settings.alpha,
        posthoc=settings.posthoc,
    )
    cube = _seed_cube(subset, cells)
    intervals = rank_intervals_over_seeds(
        cube, rng=np.random.default_rng(settings.bootstrap_seed),
        reps=settings.bootstrap_reps, confidence=settings.confidence, higher_is_better=higher,
        methods=subset.methods,
    )
    rows = _rows(result, intervals, subset, method_hrefs)
    greyed = not result.omnibus_significant
    titles = tuple(title for b, title in names.items() if b in subset.benchmarks)
    return CrossView(
        benchmark_titles=titles, rows=rows, omnibus_text=omnibus_text(result, settings),
        posthoc_text=posthoc_text(result, settings), greyed=greyed, message="",
        plot=_cd_plot(base["scope"], base["slug"], result, rows, titles, greyed),
        result=result, rank_intervals=intervals,
        aggregates=aggregate_view(cube, subset.methods, method_hrefs, settings,
                                  scope=base["scope"], slug=base["slug"]),
        **base,
    )


def _seed_cube(subset: Coverage, cells: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
    """(num_seeds, num_benchmarks, num_methods) of the subset, NaN-padded."""
    depth = max(cells[b][m].size for b in subset.benchmarks for m in subset.methods)
    cube = np.full((depth, len(subset.benchmarks), len(subset.methods)), np.nan)
    for i, bench in enumerate(subset.benchmarks):
        for j, method in enumerate(subset.methods):
            seeds = cells[bench][method]
            cube[: seeds.size, i, j] = seeds
    return cube


def _rows(
    result: CrossBenchmarkResult, intervals: RankIntervals, subset: Coverage,
    method_hrefs: Mapping[str, str],
) -> tuple[CrossRow, ...]:
    ranks = result.friedman.average_ranks
    coverage = dict(subset.coverage)
    rows = [
        CrossRow(
            method=m, method_href=method_hrefs[m], position=intervals.rank[j],
            average_rank=ranks[j], average_rank_text=f"{ranks[j]:.2f}",
            rank_interval_text=_interval_text(intervals.ci_low[j], intervals.ci_high[j]),
            letters=result.letters[j], arena_rank=result.arena_ranks[j],
            coverage_text=f"{coverage[m]}/{subset.num_benchmarks}",
        )
        for j, m in enumerate(result.methods)
    ]
    return tuple(sorted(rows, key=lambda r: (r.average_rank, r.method)))


def _interval_text(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def omnibus_text(result: CrossBenchmarkResult, settings: StatSettings) -> str:
    """The Friedman / Iman–Davenport sentence shown above a comparison."""
    f = result.friedman
    k, n = f.num_methods, f.num_benchmarks
    f_text = "∞" if math.isinf(f.iman_davenport_F) else f"{f.iman_davenport_F:.2f}"
    text = (
        f"Friedman χ² = {f.statistic:.2f} (df {k - 1}), {format_p_value(f.p_value)}; "
        f"Iman–Davenport F({k - 1}, {(k - 1) * (n - 1)}) = {f_text}, "
        f"{format_p_value(f.iman_davenport_p)}"
    )
    if f.min_attainable_p >= settings.alpha:
        return text + (
            f". Not significant at α = {settings.alpha:g}: with {n} benchmarks and {k} methods "
            "no ranking can be, since even identical rankings on every benchmark have exact "
            f"p = {f.min_attainable_p:.3g}."
        )
    verdict = "significant" if result.omnibus_significant else "not significant"
    return text + f": {verdict} at α = {settings.alpha:g}."


def posthoc_text(result: CrossBenchmarkResult, settings: StatSettings) -> str:
    """What the post-hoc marks (groups, letters, Arena ranks) mean and whether they count."""
    posthoc = result.posthoc
    text = f"Post-hoc: {settings.posthoc_label} at α = {settings.alpha:g}"
    if math.isfinite(posthoc.critical_difference):
        text += f" (critical difference CD = {posthoc.critical_difference:.2f} ranks)"
    text += "."
    if not posthoc.can_reach_significance:
        text += (
            f" With {posthoc.num_benchmarks} benchmarks it cannot reach significance "
            f"(smallest attainable adjusted p = {posthoc.min_attainable_p:.3g})."
        )
    if not result.omnibus_significant:
        text += (
            " The omnibus test is not significant, so no pair is declared different: the "
            "groups are greyed, every method shares letter “a” and Arena rank 1."
        )
    return text


def _cd_plot(
    scope: str, slug: str, result: CrossBenchmarkResult, rows: tuple[CrossRow, ...],
    titles: tuple[str, ...], greyed: bool,
) -> PlotSpec:
    groups = "; ".join("(" + ", ".join(c) + ")" for c in result.cliques) or "none"
    ranks = ", ".join(f"{r.method} {r.average_rank_text}" for r in rows)
    cd = result.posthoc.critical_difference
    return PlotSpec(
        kind="critical_difference", path=f"plots/{slug}-cd.svg",
        alt=f"Critical-difference diagram across {len(titles)} benchmarks of {scope}. Average "
            f"ranks (1 = best): {ranks}. Groups not significantly different: {groups}."
            + (" Omnibus test not significant: groups are indicative only." if greyed else ""),
        caption=f"Average rank of each method over {len(titles)} benchmarks "
                f"({', '.join(titles)}); bars join methods that are not significantly "
                "different" + (" (greyed: the omnibus test is not significant)." if greyed
                              else "."),
        data={
            "labels": list(result.methods),
            "average_ranks": list(result.friedman.average_ranks),
            "cliques": [list(c) for c in result.cliques],
            "critical_difference": cd if math.isfinite(cd) else None,
            "greyed": greyed,
            "note": "Omnibus test not significant: groups are indicative only." if greyed
            else "",
        },
    )
