"""``data/manifest.json``: the machine-readable summary of one build, for release changelogs.

Every ranked table of the site becomes one entry of ``tables``: the benchmark tables (ranked by
the primary metric), the cross-benchmark rankings (by average rank), the time-to-result suites
(by benchmark score) and the NEVIS-like streams (by average error). Each row keeps what a later
release needs to say what moved and whether the move means anything: rank, value, interval, n,
the per-seed values where the value is a seed mean, and the pairs of methods the table itself
declares significantly different (the pairwise tests of a benchmark, the disjoint letters of a
significant Friedman ranking, non-overlapping bootstrap intervals of time-to-result scores;
none for streams, whose pages test no pair). `leaderboard.changelog`
compares two manifests, so a changelog never needs the old results store.

Written with `harness.stats.dumps` (sorted keys, non-finite numbers as ``null``): the same
store and release id give byte-identical text; no build time inside, so that an unchanged
store gives an unchanged manifest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.metrics.continual import METRIC_DIRECTIONS
from harness.stats import dumps, to_jsonable
from leaderboard.cross_view import CrossView
from leaderboard.view import BenchmarkView, SiteView

MANIFEST_FORMAT = 1
"""Bumped when a field changes meaning; `leaderboard.changelog` refuses other formats."""

MANIFEST_PATH = "data/manifest.json"


@dataclass(frozen=True)
class ManifestRow:
    """One method of one ranked table. `value` is the table's ranking quantity."""

    method: str
    rank: int | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    seeds: tuple[float, ...] | None = None  # per-seed values where `value` is their mean


@dataclass(frozen=True)
class ManifestTable:
    """A ranked table. `key` identifies it across releases; `significant_pairs` are the pairs
    (sorted by name) this table declares significantly different."""

    key: str
    kind: str  # "benchmark", "ranking", "time-to-result" or "stream"
    title: str
    version: str
    quantity: str
    higher_is_better: bool
    rows: tuple[ManifestRow, ...]
    significant_pairs: tuple[tuple[str, str], ...]
    href: str


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _seeds_by_cell(site: SiteView) -> dict[tuple[str, str, str], tuple[float, ...]]:
    """(suite, scenario, method) -> successful evaluation seeds' primary metric, by seed."""
    runs = site.current.runs
    column = f"metric.{site.settings.primary_metric}"
    if runs.empty or column not in runs.columns:
        return {}
    ok = runs[(runs["phase"] == "evaluate") & (runs["status"] == "ok")]
    ok = ok[np.isfinite(ok[column].to_numpy(dtype=float))].sort_values("seed")
    return {
        (str(suite), str(scenario), str(method)): tuple(float(v) for v in group[column])
        for (suite, scenario, method), group in ok.groupby(["suite", "scenario", "submission"])
    }


def _benchmark_table(bench: BenchmarkView, seeds: Mapping[tuple[str, str, str],
                     tuple[float, ...]], suite_href: str) -> ManifestTable:
    rows = tuple(
        ManifestRow(
            method=row.method, rank=row.rank,
            value=_finite(row.primary.mean) if row.primary else None,
            ci_low=_finite(row.primary.ci_low) if row.primary else None,
            ci_high=_finite(row.primary.ci_high) if row.primary else None,
            n=row.primary.n if row.primary else 0,
            seeds=seeds.get((bench.suite, bench.scenario, row.method)),
        )
        for row in bench.rows if row.continual
    )
    pairs = _sorted_pairs((c.method, c.reference) for c in bench.pairwise if c.significant)
    return ManifestTable(
        key=f"{bench.suite}/{bench.scenario}", kind="benchmark",
        title=f"{bench.suite} · {bench.title}", version=bench.suite_version,
        quantity=bench.primary_metric,
        higher_is_better=METRIC_DIRECTIONS.get(bench.primary_metric, "higher") == "higher",
        rows=rows, significant_pairs=pairs, href=f"{suite_href}#{bench.slug}",
    )


def _ranking_table(cross: CrossView, key: str, href: str) -> ManifestTable | None:
    if not cross.available:
        return None
    rows = tuple(
        ManifestRow(method=r.method, rank=r.position, value=r.average_rank, ci_low=None,
                    ci_high=None, n=len(cross.benchmark_titles))
        for r in cross.rows
    )
    # Methods sharing no letter of the compact letter display differ significantly; with a
    # non-significant omnibus test no pair does (every method then has letter "a").
    pairs = () if cross.greyed else _sorted_pairs(
        (a.method, b.method) for i, a in enumerate(cross.rows) for b in cross.rows[i + 1:]
        if not set(a.letters) & set(b.letters)
    )
    return ManifestTable(
        key=key, kind="ranking", title=f"Average rank across {cross.scope}",
        version="", quantity="average_rank", higher_is_better=False, rows=rows,
        significant_pairs=pairs, href=f"{href}#{cross.slug}",
    )


def _sorted_pairs(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({tuple(sorted(p)) for p in pairs}))  # type: ignore[misc]


def manifest_tables(site: SiteView) -> tuple[ManifestTable, ...]:
    """Every ranked table of `site`, in page order."""
    seeds = _seeds_by_cell(site)
    tables: list[ManifestTable] = []
    for suite in site.suites:
        tables += [_benchmark_table(b, seeds, suite.href) for b in suite.benchmarks]
        if suite.cross is not None:
            table = _ranking_table(suite.cross, f"{suite.name}/across-scenarios", suite.href)
            tables += [table] if table else []
    if site.cross is not None:
        table = _ranking_table(site.cross, "across-all-benchmarks", "index.html")
        tables += [table] if table else []
    tables += list(_extra_tables(site))
    return tuple(tables)


def _extra_tables(site: SiteView) -> Sequence[ManifestTable]:
    """Tables of the other suite families (time-to-result, NEVIS-like streams)."""
    from leaderboard.nevis_manifest import nevis_tables  # one family per module
    from leaderboard.ttr_manifest import ttr_tables

    return (*ttr_tables(site), *nevis_tables(site))


def manifest_document(site: SiteView, previous: str | None = None) -> dict[str, Any]:
    """The manifest of `site`; `previous` is the release it follows (its changelog's base)."""
    return to_jsonable({
        "format": MANIFEST_FORMAT,
        "release": site.stamp.release,
        "previous_release": previous,
        "harness_version": site.stamp.harness_version,
        "num_runs": site.num_runs,
        "alpha": site.settings.alpha,
        "confidence": site.settings.confidence,
        "primary_metric": site.settings.primary_metric,
        "suites": [{"name": s.name, "version": s.version}
                   for s in sorted([*site.suites, *site.ttr_suites, *site.nevis_suites],
                                   key=lambda s: s.name)],
        "tables": list(manifest_tables(site)),
    })


def manifest_json(site: SiteView, previous: str | None = None) -> str:
    return dumps(manifest_document(site, previous))
