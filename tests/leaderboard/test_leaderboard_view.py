import pytest

from harness.runner.spec import Phase
from harness.store import Store
from leaderboard.view import SiteView, VersusBest, build_site_view


@pytest.fixture(scope="module")
def site(example_store) -> SiteView:
    with Store(example_store) as store:
        return build_site_view(store, built_at="2025-01-01 00:00 UTC", release="r-test")


def _bench(site: SiteView, scenario: str):
    (suite,) = site.suites
    return next(b for b in suite.benchmarks if b.scenario == scenario)


def _rows(site: SiteView, scenario: str):
    return {row.method: row for row in _bench(site, scenario).rows}


def test_suites_use_the_newest_version_and_scenarios_in_canonical_order(site):
    (suite,) = site.suites
    assert (suite.name, suite.version) == ("split-mnist", "2")
    assert [b.scenario for b in suite.benchmarks] == ["task", "class"]


def test_best_is_the_best_continual_method_not_the_upper_bound(site):
    rows = _rows(site, "class")
    assert _bench(site, "class").best == "replay"
    assert rows["replay"].is_best and rows["replay"].rank == 1
    assert rows["joint"].versus_best is VersusBest.REFERENCE
    assert rows["joint"].rank is None and not rows["joint"].continual
    # joint has the highest mean: it is shown first, but it is not ranked or "best"
    assert rows["joint"].primary.mean > rows["replay"].primary.mean
    assert [r.method for r in _bench(site, "class").rows][0] == "joint"


def test_equal_distribution_is_tied_and_clearly_worse_is_not(site):
    rows = _rows(site, "class")
    assert rows["replay-twin"].versus_best is VersusBest.TIED
    assert rows["replay-twin"].comparison.p_adjusted > 0.5
    assert "Welch's t-test" in rows["replay-twin"].versus_best_title
    assert rows["finetune"].versus_best is VersusBest.WORSE
    assert rows["finetune"].comparison.significant
    assert [rows[m].rank for m in ("replay", "replay-twin", "finetune")] == [1, 2, 3]



def test_a_method_with_failed_seeds_is_not_ranked_tested_or_best(example_store, example,
                                                                 tmp_path):
    """A method that diverged on 2 of 3 seeds has one surviving seed of 0.95, above every
    complete method. It used to rank first as "best", and with n=1 every other method became
    "cannot be tested". The mean of the survivors flatters it: it is listed, not ranked."""
    import shutil

    from harness.runner.result import RunResult, RunStatus
    from harness.runner.spec import RunSpec

    path = tmp_path / "store.db"
    shutil.copy(example_store, path)
    with Store(path) as store:
        store.write_submission("fragile", "fragile-hash",
                               {"name": "fragile", "api": "continual", "continual": True})
        for seed, score in enumerate([0.95, None, None]):
            spec = RunSpec(suite=example.suite, suite_version=example.version, scenario="class",
                           phase=Phase.EVALUATE, submission="fragile",
                           submission_hash="fragile-hash", hparams={"lr": 0.5}, seed=seed,
                           trial=-1)
            store.write_run(RunResult(
                spec=spec, status=RunStatus.OK if score else RunStatus.FAILED,
                metrics={"final_avg_acc": score} if score else {},
                reason="" if score else "the model diverged", wall_time_s=1.0,
                finished_at="2025-03-01T12:00:00+00:00"))
        site = build_site_view(store, built_at="now")
    rows = _rows(site, "class")
    assert _bench(site, "class").best == "replay"
    assert rows["fragile"].versus_best is VersusBest.INCOMPLETE
    assert rows["fragile"].rank is None and rows["fragile"].comparison is None
    assert rows["fragile"].versus_best_text == "not ranked: 2 of 3 seeds failed"
    assert rows["finetune"].versus_best is VersusBest.WORSE  # still tested against replay
    assert [r.method for r in _bench(site, "class").rows][-1] == "fragile"
    (suite,) = site.suites
    assert "fragile" in [m.method for m in suite.cross.left_out]

def test_single_seed_method_cannot_be_tested(site):
    rows = _rows(site, "task")
    assert rows["finetune"].versus_best is VersusBest.UNTESTABLE
    assert rows["finetune"].versus_best_text == "cannot be tested with this many seeds"


def test_cells_carry_mean_ci_and_n_of_successful_seeds_only(site):
    rows = _rows(site, "class")
    replay = rows["replay"].primary
    assert replay.n == 5 and replay.mean == pytest.approx(0.80)
    assert replay.ci_low < 0.80 < replay.ci_high
    assert rows["joint"].primary.n == 5  # the failed seed 5 is not averaged
    assert rows["joint"].failed_runs == 1
    assert rows["replay"].failed_runs == 0
    assert _bench(site, "class").secondary_metrics == (
        "avg_incremental_acc", "bwt", "forgetting", "min_acc", "wc_acc", "intransigence")
    assert [e.n for e in rows["replay"].secondary] == [5] * 6


def test_stale_hash_and_old_suite_version_do_not_leak_into_the_table(site, example):
    rows = _rows(site, "class")
    # stale replay runs scored 0.10, old-version finetune runs 0.99
    assert rows["replay"].primary.mean == pytest.approx(0.80)
    assert rows["finetune"].primary.mean == pytest.approx(0.5025)
    replay_page = next(m for m in site.methods if m.name == "replay")
    assert [s.submission_hash for s in replay_page.stale] == [example.stale_replay_hash]
    assert replay_page.current_hash == example.hashes["replay"]


def test_chosen_hparams_and_tuning_cost_come_from_the_protocol(site, example):
    row = _rows(site, "class")["replay"]
    assert row.hparams == example.chosen["replay"]
    assert row.hparams_text == "lr=0.01, memory=200"
    assert row.tuning_trials == example.num_trials
    assert row.tuning_time_s == pytest.approx(example.num_trials * example.trial_wall_time_s)
    assert row.tuning_text == "3 trials, 1.5 min"


def test_method_page_lists_trials_seeds_and_failures(site, example):
    joint = next(m for m in site.methods if m.name == "joint")
    cls = next(b for b in joint.benchmarks if b.scenario == "class")
    assert len(cls.trials) == example.num_trials
    assert [t.chosen for t in cls.trials] == [False, True, False]
    assert [s.seed for s in cls.seeds] == [0, 1, 2, 3, 4, 5]
    assert [(f.phase, f.label, f.reason) for f in cls.failed] == [
        ("evaluate", "seed 5", "loss became NaN at step 12")
    ]
    assert cls.table_href == "suites/split-mnist.html#split-mnist-class"


def test_plots_have_data_and_alt_text(site):
    plots = _bench(site, "class").plots
    kinds = [p.kind for p in plots]
    assert kinds == ["interval_estimates", "seed_strip", "pvalue_heatmap"] + \
        ["accuracy_matrix"] * 4
    intervals = plots[0]
    assert intervals.data["labels"][0] == "joint"
    assert intervals.data["statuses"][:2] == ["reference", "best"]
    assert "replay: 0.800" in intervals.alt
    matrix = plots[3].data["matrix"]
    assert len(matrix) == 3 and len(matrix[0]) == 2  # (T + 1, T) with T = 2


def test_empty_store_gives_an_empty_site(tmp_path):
    with Store(tmp_path / "empty.db") as store:
        site = build_site_view(store, built_at="now")
    assert site.is_empty and site.suites == () and site.methods == ()
    assert site.stamp.release == "unreleased"


def test_method_page_hardware_has_no_none_values():
    """A CPU run's fingerprint has gpu_model and cuda_version null: the page showed "None"."""
    import json

    import pandas as pd

    from leaderboard.method_view import _hardware

    raw = json.dumps({"cpu_model": "AMD EPYC", "cuda_version": None, "gpu_model": None,
                      "gpu_count": 0})
    (entry,) = _hardware(pd.DataFrame({"hardware": [raw, raw]}))
    assert entry.details == (("cpu_model", "AMD EPYC"), ("gpu_count", "0"))
    assert entry.num_runs == 2


def test_tuning_trials_the_decision_did_not_choose_among_are_not_counted(example_store,
                                                                          example, tmp_path):
    """A later `--trials 2` decides among the first two stored trials; the table counted
    every stored trial, and their cost, as the tuning behind the chosen setting."""
    import shutil

    from harness.runner.result import RunResult, RunStatus
    from harness.runner.spec import RunSpec

    path = tmp_path / "store.db"
    shutil.copy(example_store, path)
    with Store(path) as store:
        spec = RunSpec(suite=example.suite, suite_version=example.version, scenario="class",
                       phase=Phase.TUNE, submission="replay",
                       submission_hash=example.hashes["replay"], hparams={"lr": 0.9}, seed=0,
                       trial=7)
        store.write_run(RunResult(spec=spec, status=RunStatus.OK,
                                  metrics={"final_avg_acc": 0.99}, wall_time_s=500.0,
                                  finished_at="2025-03-01T12:00:00+00:00"))
        site = build_site_view(store, built_at="now")
    row = _rows(site, "class")["replay"]
    assert row.tuning_trials == example.num_trials
    assert row.tuning_time_s == pytest.approx(example.num_trials * example.trial_wall_time_s)
