"""Stability-gap curves, min-ACC / WC-ACC, intransigence against the reference, and compute."""

import math

import numpy as np
import pandas as pd
import pytest

from harness.store import Store
from leaderboard import plots
from leaderboard.numbers import format_bytes, format_flops
from leaderboard.reference import intransigence_per_seed, reference_method
from leaderboard.stability import mean_trace_of, task_boundaries
from leaderboard.view import SiteView, build_site_view


@pytest.fixture(scope="module")
def site(example_store) -> SiteView:
    with Store(example_store) as store:
        return build_site_view(store, built_at="x")


def _bench(site: SiteView, scenario: str):
    return next(b for b in site.suites[0].benchmarks if b.scenario == scenario)


def _secondary(site: SiteView, scenario: str, method: str, metric: str):
    bench = _bench(site, scenario)
    row = next(r for r in bench.rows if r.method == method)
    return row.secondary[bench.secondary_metrics.index(metric)]


# --- stability gap ---------------------------------------------------------------------------

def test_stability_plot_averages_the_continual_methods_traces(site, example):
    plot = _bench(site, "class").stability_plot
    assert plot.kind == "stability_gap" and plot.path == "plots/split-mnist-class-stability.svg"
    curves = plot.data["curves"]
    assert set(curves) == {"replay", "replay-twin", "finetune"}  # joint is not continual
    early = example.task0_trace["replay"]
    # the end of task 0 is the matrix's acc[1, 0]; the last point the mean final s − 0.02
    expected = [early[0], early[1], example.plasticity["replay"], early[2], early[3], 0.78]
    assert curves["replay"] == [pytest.approx(expected)]
    assert curves["finetune"][0][-1] == pytest.approx(0.5025 - 0.02)  # 4 ok seeds
    assert plot.data["task_of_eval"] == [0, 0, 0, 1, 1, 1] and plot.data["tasks"] == [0]


def test_stability_plot_has_alt_text_and_is_only_where_curves_exist(site):
    plot = _bench(site, "class").stability_plot
    assert "finetune: 0.96 after task 1, lowest 0.20 while learning task 2" in plot.alt
    assert "replay: 0.90 after task 1, lowest 0.50 while learning task 2, final 0.78" in plot.alt
    assert "every 5 training steps" in plot.caption
    assert _bench(site, "task").stability_plot is None  # no continual_eval curves there


def test_mean_trace_leaves_out_seeds_with_another_schedule():
    def trace(acc0, steps=(5, -1, 5, -1)):
        return {"task": [0, 0, 1, 1], "step": list(steps),
                "acc": [[a, 0.1] for a in acc0]}
    runs = pd.DataFrame({"run_key": ["a", "b", "c", "d"], "status": ["ok", "ok", "ok", "failed"]})
    traces = {"a": trace([0.5, 0.9, 0.3, 0.8]), "b": trace([0.7, 0.9, 0.5, 0.6]),
              "c": trace([0.0, 0.0, 0.0, 0.0], steps=(3, -1, 3, -1)),
              "d": trace([1.0, 1.0, 1.0, 1.0])}
    mean = mean_trace_of(runs, traces)
    assert mean.num_seeds == 2 and mean.steps == (5, -1, 5, -1)
    assert mean.acc[:, 0] == pytest.approx([0.6, 0.9, 0.4, 0.7])
    assert task_boundaries(mean.tasks) == [2.5]
    assert mean_trace_of(runs, {"a": {"task": [0]}}) is None  # malformed curves are skipped


def test_stability_gap_figure_marks_task_boundaries(parse_svg):
    nan = math.nan
    root = parse_svg(plots.plot_stability_gap(
        {"a": [[0.6, 0.9, 0.4, 0.8], [nan, nan, 0.7, 0.9]], "b": [[0.5, 0.8, 0.7, 0.75],
                                                                  [nan, nan, 0.6, 0.8]]},
        tasks=[0, 1], task_of_eval=[0, 0, 1, 1],
    ))
    texts = [t.text for t in root.iter("text")]
    assert "accuracy on task 1" in texts and "accuracy on task 2" in texts
    curves = root.findall(".//g[@class='curve']")
    assert [(c.get("data-method"), c.get("data-task")) for c in curves] == [
        ("a", "1"), ("b", "1"), ("a", "2"), ("b", "2")]
    top_a, top_b, bottom_a, _ = (c.find("polyline") for c in curves)
    assert len(top_a.get("points").split()) == 4
    assert len(bottom_a.get("points").split()) == 2  # nan before the task: not drawn
    assert top_a.get("stroke-dasharray") != top_b.get("stroke-dasharray")  # not colour alone
    boundaries = root.findall(".//line[@class='task-boundary']")
    assert len(boundaries) == 2 and len({b.get("x1") for b in boundaries}) == 1  # one per panel
    labels = [t for t in root.iter("text") if t.get("class") == "task-label"]
    assert [t.text for t in labels] == ["task 1", "task 2"]
    assert float(labels[0].get("x")) < float(boundaries[0].get("x1")) < float(labels[1].get("x"))


def test_min_and_worst_case_accuracy_are_columns_where_recorded(site):
    bench = _bench(site, "class")
    assert bench.secondary_metrics[-3:] == ("min_acc", "wc_acc", "intransigence")
    assert "Min-ACC" in bench.secondary_labels and "WC-ACC" in bench.secondary_labels
    # replay: task 0 falls to 0.50 while task 1 is learned; WC-ACC = a_T(T) / 2 + min / 2
    assert _secondary(site, "class", "replay", "min_acc").mean == pytest.approx(0.5)
    assert _secondary(site, "class", "replay", "wc_acc").mean == pytest.approx(0.82 / 2 + 0.25)
    assert _secondary(site, "class", "finetune", "min_acc").n == 4
    assert "min_acc" not in _bench(site, "task").secondary_metrics


# --- intransigence ---------------------------------------------------------------------------

def test_intransigence_against_a_hand_made_reference():
    reference = [[0.1, 0.1], [0.9, 0.1], [0.8, 0.9]]  # learns task 0 to 0.9, task 1 to 0.9
    runs = pd.DataFrame({"run_key": ["s1", "s0", "bad"], "seed": [1, 0, 2],
                         "status": ["ok", "ok", "ok"]})
    matrices = {"s0": [[0.1, 0.1], [0.8, 0.1], [0.5, 0.6]],   # (0.1 + 0.3) / 2 = 0.2
                "s1": [[0.1, 0.1], [0.9, 0.1], [0.3, 0.9]],   # (0.0 + 0.0) / 2 = 0.0
                "bad": [[0.1, 0.1, 0.1]]}                     # other shape: left out
    assert intransigence_per_seed(runs, matrices, reference) == pytest.approx([0.2, 0.0])
    means = {"joint": reference, "ewc": reference, "zeta": reference}
    flags = {"joint": False, "ewc": True, "zeta": False}
    assert reference_method(["zeta", "ewc", "joint"], means, flags) == "joint"
    assert reference_method(["ewc"], means, flags) is None


def test_intransigence_column_uses_the_joint_reference(site, example):
    bench = _bench(site, "class")
    assert bench.reference == "joint"
    # per seed ((0.92 − p) + (0.95 − s)) / 2 with joint's mean final score 0.95
    replay = _secondary(site, "class", "replay", "intransigence")
    assert replay.mean == pytest.approx(((0.92 - 0.9) + (0.95 - 0.80)) / 2)
    assert replay.n == 5 and replay.ci_low < replay.mean < replay.ci_high
    finetune = _secondary(site, "class", "finetune", "intransigence")
    assert finetune.mean == pytest.approx(((0.92 - 0.96) + (0.95 - 0.5025)) / 2)
    assert _secondary(site, "class", "joint", "intransigence") is None  # the reference itself
    assert _bench(site, "task").reference is None  # joint did not run the task scenario
    assert "intransigence" not in _bench(site, "task").secondary_metrics
    assert site.intransigence_references == (("split-mnist · Class-incremental", "joint"),)


def test_methodology_names_the_reference(example_site):
    text = (example_site / "methodology.html").read_text(encoding="utf-8")
    section = text.split('id="intransigence"', 1)[1].split("</p>", 1)[0]
    assert "split-mnist · Class-incremental: <strong>joint</strong>" in section


# --- compute ---------------------------------------------------------------------------------

def test_flops_and_bytes_are_written_in_their_units():
    assert format_flops(2.5e12) == "2.50 TFLOPs"
    assert format_flops(4e11) == "400 GFLOPs"
    assert format_flops(3.2e15) == "3.20 PFLOPs"
    assert format_flops(5e6) == "5.00 MFLOPs"
    assert format_bytes(204800) == "200 KiB"
    assert format_bytes(3 * 2**20) == "3.00 MiB"
    assert format_bytes(1.5 * 2**30) == "1.50 GiB"
    assert format_bytes(512) == "512 B"
    # the top of a unit: never scientific notation
    assert format_bytes(1023 * 1024) == "1023 KiB" and format_flops(999.7e9) == "1000 GFLOPs"
    assert format_flops(5.1e18) == "5100 PFLOPs" and format_bytes(999.4 * 2**20) == "999 MiB"
    assert format_flops(None) == format_bytes(math.nan) == "—"


def test_compute_table_shows_means_over_seeds_with_units(site, example):
    compute = _bench(site, "class").compute
    assert [c.label for c in compute.columns] == [
        "Training FLOPs", "Training time", "Wall time", "Peak memory", "Learner state"]
    rows = {r.method: r for r in compute.rows}
    assert [r.method for r in compute.rows] == [r.method for r in _bench(site, "class").rows]
    texts = {m: [c.text for c in rows[m].cells] for m in rows}
    assert texts["replay"] == ["2.50 TFLOPs", "2.0 min", "60 s", "1.50 GiB", "200 KiB"]
    assert texts["finetune"] == ["400 GFLOPs", "45 s", "60 s", "512 MiB", "3.00 MiB"]
    flops = rows["replay"].cells[0].estimate
    assert flops.mean == pytest.approx(2.5e12) and flops.n == 5  # 2.4e12 + 0.05e12 · seed
    assert rows["finetune"].cells[3].estimate.mean == pytest.approx(512 * 2**20)  # bytes
    assert rows["replay"].tuning_flops == pytest.approx(example.num_trials * example.tune_flops)
    assert rows["replay"].tuning_flops_text == "300 GFLOPs"
    assert compute.has_tuning_flops and compute.hardware_note == ""


def test_compute_downloads_and_page(example_site):
    table = pd.read_csv(example_site / "data/split-mnist-class-compute.csv").set_index("method")
    assert table.loc["replay", "train_flops_mean"] == pytest.approx(2.5e12)
    assert table.loc["finetune", "state_bytes_mean"] == pytest.approx(3 * 2**20)
    assert table.loc["replay", "tuning_flops"] == pytest.approx(3e11)
    assert np.isfinite(table.loc["replay", "train_flops_ci_low"])
    page = (example_site / "suites/split-mnist.html").read_text(encoding="utf-8")
    section = page.split('id="split-mnist-class-compute"', 1)[1].split("</section>", 1)[0]
    assert "2.50 TFLOPs" in section and "3.00 MiB" in section and "300 GFLOPs" in section
    assert 'alt="Stability-gap curves on split-mnist' in page
    assert (example_site / "plots/split-mnist-class-stability.svg").is_file()
