"""``data/stats.json``: every statistical result behind the site, for re-analysis.

Per benchmark: each method's comparison with the best, every pairwise test of the heatmap, and
the protocol gap (legacy − fair, Welch interval, ranks under each protocol) where legacy runs
exist.
Per suite and across all benchmarks: the Friedman / Iman–Davenport test, the post-hoc
comparisons, tie groups, letters, Arena ranks, rank intervals and which methods and benchmarks
were left out for incomplete coverage, and the aggregates (mean, median, IQM, optimality gap)
with their stratified-bootstrap intervals. Per time-to-result suite: scores, speedups and times
to target with their bootstrap intervals. Written with `harness.stats.dumps`: the same store gives
byte-identical text (no build time inside); non-finite numbers are ``null``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from harness.stats import dumps, to_jsonable
from leaderboard.cross_view import CrossView
from leaderboard.tables import gap_records
from leaderboard.ttr_view import ttr_records
from leaderboard.view import BenchmarkView, SiteView


def _benchmark(bench: BenchmarkView) -> dict[str, Any]:
    return {
        "suite": bench.suite,
        "suite_version": bench.suite_version,
        "scenario": bench.scenario,
        "primary_metric": bench.primary_metric,
        "best": bench.best,
        "versus_best": [row.comparison for row in bench.rows if row.comparison is not None],
        "pairwise": list(bench.pairwise),
        "protocol_gap": gap_records(bench.protocol_gap) if bench.protocol_gap else None,
    }


def _cross(view: CrossView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "scope": view.scope,
        "benchmarks": list(view.benchmark_titles),
        "dropped_benchmarks": list(view.dropped_benchmarks),
        "left_out": [{"method": m.method, "coverage": m.coverage_text} for m in view.left_out],
        "message": view.message,
        "analysis": view.result,
        "rank_intervals": view.rank_intervals,
        "aggregates": _aggregates(view),
    }


def _aggregates(view: CrossView) -> dict[str, Any] | None:
    """Mean, median, IQM and optimality gap with stratified-bootstrap intervals."""
    aggregates = view.aggregates
    if aggregates is None:
        return None
    return {
        "aggregates": list(aggregates.aggregates), "message": aggregates.message,
        "methods": {
            row.method: {a: {"point": p, "ci_low": lo, "ci_high": hi} for a, p, lo, hi in zip(
                aggregates.aggregates, row.points, row.ci_lows, row.ci_highs, strict=True)}
            for row in aggregates.rows
        },
    }


def stats_document(site: SiteView) -> dict[str, Any]:
    return to_jsonable({
        "harness_version": site.stamp.harness_version,
        "release": site.stamp.release,
        "settings": dataclasses.asdict(site.settings),
        "benchmarks": [_benchmark(b) for suite in site.suites for b in suite.benchmarks],
        "across_suites": [
            {"suite": suite.name, "comparison": _cross(suite.cross)} for suite in site.suites
        ],
        "across_all_benchmarks": _cross(site.cross),
        "time_to_result": [
            {"suite": ttr.name, "suite_version": ttr.version, "reference": ttr.reference,
             "bootstrap": "percentile, over studies", "rows": ttr_records(ttr)}
            for ttr in site.ttr_suites
        ],
    })


def stats_json(site: SiteView) -> str:
    return dumps(stats_document(site))
