"""Aggregates across benchmarks (mean, median, IQM, optimality gap) with stratified-bootstrap
intervals, beside each cross-benchmark ranking: numbers, table, figure."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.stats import aggregate_iqm, aggregate_optimality_gap
from harness.store import Store
from leaderboard.aggregate_view import aggregate_view
from leaderboard.settings import StatSettings
from leaderboard.view import build_site_view


@pytest.fixture(scope="module")
def cross(cross_store):
    with Store(cross_store) as store:
        return build_site_view(store, built_at="x")


def _seeds(cross_store, method: str) -> np.ndarray:
    """(3 seeds, 10 benchmarks) of `method` straight from the store."""
    with Store(cross_store) as store:
        runs = store.runs_frame()
    mine = runs[runs["submission"] == method].sort_values(["scenario", "seed"])
    return mine["metric.final_avg_acc"].to_numpy().reshape(10, 3).T


def test_aggregates_cover_the_ranked_block_with_intervals(cross, cross_store):
    view = cross.suites[0].cross.aggregates
    assert view.aggregates == ("mean", "median", "iqm", "optimality_gap")
    assert view.num_benchmarks == 10
    rows = {r.method: r for r in view.rows}
    assert set(rows) == {"strong", "strong-twin", "mid", "weak"}  # partial and oracle left out
    assert [r.method for r in view.rows][-1] == "weak"  # rows by IQM, best first
    seeds = _seeds(cross_store, "mid")
    iqm, gap = view.aggregates.index("iqm"), view.aggregates.index("optimality_gap")
    assert rows["mid"].points[iqm] == pytest.approx(aggregate_iqm(seeds))
    assert rows["mid"].points[gap] == pytest.approx(aggregate_optimality_gap(seeds))
    for row in view.rows:
        for low, point, high in zip(row.ci_lows, row.points, row.ci_highs, strict=True):
            assert low <= point <= high
    # strong is 0.1 above mid on every benchmark: the intervals of its IQM do not meet
    assert rows["strong"].ci_lows[iqm] > rows["mid"].ci_highs[iqm]


def test_aggregates_are_reproducible_and_described(cross):
    cube = np.random.default_rng(3).uniform(0.2, 0.9, size=(4, 5, 3))
    hrefs = {m: f"{m}.html" for m in "abc"}
    first, second = (aggregate_view(cube, list("abc"), hrefs, StatSettings(bootstrap_reps=300),
                                    scope="s", slug="x") for _ in range(2))
    assert first == second and first.rows[0].texts == second.rows[0].texts
    plot = cross.suites[0].cross.aggregates.plot
    assert plot.kind == "aggregate_estimates" and plot.path == "plots/across-toy-aggregates.svg"
    assert "stratified-bootstrap" in plot.alt and "mid: IQM" in plot.alt


def test_metrics_not_on_one_unit_scale_get_no_aggregates():
    cube = np.array([[[0.5, 2.0], [0.4, 0.3]]])  # (1 seed, 2 benchmarks, 2 methods): 2.0 > 1
    view = aggregate_view(cube, ["a", "b"], {"a": "a.html", "b": "b.html"}, StatSettings(),
                          scope="s", slug="x")
    assert view.rows == () and view.plot is None and "different scales" in view.message
    lower = StatSettings(primary_metric="forgetting")
    view = aggregate_view(cube / 4, ["a", "b"], {"a": "", "b": ""}, lower, scope="s", slug="x")
    assert view.rows == () and "higher-is-better" in view.message


def test_the_suite_page_shows_the_aggregates_table_and_figure(cross_site):
    page = (cross_site / "suites/toy.html").read_text(encoding="utf-8")
    assert 'id="table-across-toy-aggregates"' in page
    assert "IQM" in page and "Optimality gap" in page
    assert 'src="../plots/across-toy-aggregates.svg"' in page
    svg = (cross_site / "plots/across-toy-aggregates.svg").read_text()
    assert "<svg" in svg and "stratified-bootstrap" in svg
    stats = json.loads((cross_site / "data/stats.json").read_text())
    aggregates = stats["across_suites"][0]["comparison"]["aggregates"]
    assert aggregates["aggregates"] == ["mean", "median", "iqm", "optimality_gap"]
    mid = aggregates["methods"]["mid"]["iqm"]
    assert mid["ci_low"] <= mid["point"] <= mid["ci_high"]
