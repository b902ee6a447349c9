"""The protocol gap: legacy test-set tuning shown beside, never inside, the fair tables."""

import json

import numpy as np
import pandas as pd
import pytest

from harness.store import Store
from leaderboard import plots
from leaderboard.protocol_gap import competition_ranks
from leaderboard.view import SiteView, build_site_view


@pytest.fixture(scope="module")
def site(example_store) -> SiteView:
    with Store(example_store) as store:
        return build_site_view(store, built_at="x")


def _bench(site: SiteView, scenario: str):
    return next(b for b in site.suites[0].benchmarks if b.scenario == scenario)


def _gap_rows(site: SiteView):
    return {row.method: row for row in _bench(site, "class").protocol_gap.rows}


def test_competition_ranks_share_ties_and_follow_the_direction():
    means = {"a": 0.9, "b": 0.9, "c": 0.5}
    assert competition_ranks(means, higher_is_better=True) == {"a": 1, "b": 1, "c": 3}
    assert competition_ranks(means, higher_is_better=False) == {"a": 2, "b": 2, "c": 1}


def test_gap_rows_have_both_scores_the_gap_and_the_rank_change(site, example):
    rows = _gap_rows(site)
    assert list(rows) == ["replay", "replay-twin", "finetune"]  # fair rank order
    replay = rows["replay"]
    assert replay.fair.mean == pytest.approx(0.80) and replay.legacy.mean == pytest.approx(0.84)
    half = 2.306004135 * 0.01
    assert replay.gap.value == pytest.approx(0.04)
    assert (replay.gap.ci_low, replay.gap.ci_high) == pytest.approx((0.04 - half, 0.04 + half))
    assert replay.gap.text == "+0.040 ± [0.017, 0.063]" and replay.gap.excludes_zero
    assert not rows["replay-twin"].gap.excludes_zero  # 0.798 → 0.800: no real gap
    finetune = rows["finetune"]
    assert finetune.gap.value == pytest.approx(0.97 - 0.5025)
    assert [(rows[m].fair_rank, rows[m].legacy_rank, rows[m].rank_change_text)
            for m in ("replay", "replay-twin", "finetune")] == [
        (1, 2, "▼1"), (2, 3, "▼1"), (3, 1, "▲2")]
    assert finetune.rank_change == 2


def test_each_protocol_shows_the_hyperparameters_it_chose(site, example):
    rows = _gap_rows(site)
    for method in ("replay", "replay-twin", "finetune"):
        assert rows[method].fair_hparams == example.chosen[method]
        assert rows[method].legacy_hparams == example.legacy_chosen[method]
    assert rows["replay-twin"].legacy_hparams_text == "lr=0.02, memory=500"


def test_summary_missing_methods_and_benchmarks_without_legacy_runs(site):
    gap = _bench(site, "class").protocol_gap
    assert gap.missing == ("joint",)
    assert "flatters 3 of 3 methods" in gap.summary_text
    assert "reported as finetune instead of replay" in gap.summary_text
    assert _bench(site, "task").protocol_gap is None


def test_legacy_scores_never_enter_the_table_its_tests_or_best(site, example):
    bench = _bench(site, "class")
    rows = {row.method: row for row in bench.rows}
    assert bench.best == "replay"  # finetune's legacy 0.97 would beat it
    assert rows["finetune"].primary.mean == pytest.approx(0.5025)
    assert rows["finetune"].primary.n == 4 and rows["finetune"].rank == 3
    assert rows["replay"].primary.n == 5  # fair seeds only, not the 5 legacy ones as well
    assert rows["replay"].hparams == example.chosen["replay"]
    assert rows["replay"].tuning_trials == example.num_trials  # legacy trials are not counted
    assert rows["finetune"].comparison.significant
    family = {m for c in bench.pairwise for m in (c.method, c.reference)}
    assert family == {"replay", "replay-twin", "finetune"}
    assert rows["finetune"].mean_matrix[-1] == pytest.approx((0.4825, 0.5225))
    cross = {r.method: r for r in site.suites[0].cross.rows}
    assert cross["replay"].average_rank < cross["finetune"].average_rank
    compute = {r.method: r for r in bench.compute.rows}
    assert compute["finetune"].cells[0].estimate.mean == pytest.approx(4e11)  # not ×1000


def test_method_page_keeps_the_fair_decision_and_names_the_legacy_one(site):
    replay = next(m for m in site.methods if m.name == "replay")
    cls = next(b for b in replay.benchmarks if b.scenario == "class")
    assert cls.chosen_hparams_text == "lr=0.01, memory=200"
    assert [t.chosen for t in cls.trials] == [False, True, False]
    assert cls.legacy_hparams_text == "lr=0.03, memory=200"
    assert cls.gap_href == "suites/split-mnist.html#split-mnist-class-protocol-gap"
    task = next(b for b in replay.benchmarks if b.scenario == "task")
    assert task.legacy_hparams_text == "" and task.gap_href == ""


def test_gap_plot_is_a_dumbbell_with_alt_text(site, parse_svg):
    plot = _bench(site, "class").protocol_gap.plot
    assert plot.kind == "protocol_gap" and plot.path == "plots/split-mnist-class-protocol-gap.svg"
    assert "finetune: 0.502 → 0.970 (rank 3 → 1)" in plot.alt
    root = parse_svg(plots.PLOTTERS[plot.kind](**plot.data))
    rows = sorted((float(t.get("y")), t.text) for t in root.iter("text")
                  if t.get("class") == "row-label")
    assert [label for _, label in rows] == [
        "replay (rank 1 → 2)", "replay-twin (rank 2 → 3)", "finetune (rank 3 → 1)"]
    fair = [float(m.get("cx")) for m in root.iter("circle") if m.get("class") == "fair"]
    legacy = root.findall(".//rect[@class='legacy']")
    assert len(fair) == len(legacy) == 3  # a fair and a legacy marker per method
    # fair markers sit on one linear value axis at 0.80, 0.798 and 0.5025
    assert (fair[0] - fair[2]) / (fair[1] - fair[2]) == pytest.approx(
        (0.80 - 0.5025) / (0.798 - 0.5025), rel=1e-3)


def test_site_offers_the_gap_table_as_csv_and_json(example_site):
    table = pd.read_csv(example_site / "data/split-mnist-class-protocol-gap.csv")
    assert list(table["method"]) == ["replay", "replay-twin", "finetune"]
    finetune = table.set_index("method").loc["finetune"]
    assert finetune["gap"] == pytest.approx(0.97 - 0.5025)
    assert (finetune["fair_rank"], finetune["legacy_rank"], finetune["rank_change"]) == (3, 1, 2)
    assert json.loads(finetune["legacy_hparams"]) == {"lr": 0.3}
    document = json.loads((example_site / "data/split-mnist-class-protocol-gap.json").read_text())
    assert document["gap"] == "legacy - fair" and document["interval"] == "welch-t"
    assert document["rows"][0]["fair_final_avg_acc_mean"] == pytest.approx(0.80)
    assert not (example_site / "data/split-mnist-task-protocol-gap.csv").exists()
    stats = json.loads((example_site / "data/stats.json").read_text())
    cls = next(b for b in stats["benchmarks"] if b["scenario"] == "class")
    assert cls["best"] == "replay" and len(cls["protocol_gap"]) == 3


def test_suite_and_methodology_pages_show_the_gap(example_site):
    page = (example_site / "suites/split-mnist.html").read_text(encoding="utf-8")
    section = page.split('id="split-mnist-class-protocol-gap"', 1)[1].split("</section>", 1)[0]
    assert 'id="table-split-mnist-class-protocol-gap"' in section
    assert "+0.040 ± [0.017, 0.063]" in section and "▲2" in section
    assert "plots/split-mnist-class-protocol-gap.svg" in section
    assert (example_site / "plots/split-mnist-class-protocol-gap.svg").is_file()
    methodology = (example_site / "methodology.html").read_text(encoding="utf-8")
    assert 'id="protocol-gap"' in methodology and "Welch interval" in methodology


def test_a_store_without_legacy_runs_has_no_gap(cross_store):
    with Store(cross_store) as store:
        site = build_site_view(store, built_at="x")
    assert all(b.protocol_gap is None for b in site.suites[0].benchmarks)
    assert np.all([b.compute is None for b in site.suites[0].benchmarks])
