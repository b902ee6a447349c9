"""`harness calibrate`: reference runs -> median best metric -> targets written into the suite
file with provenance, the rest of the file untouched."""

from __future__ import annotations

import statistics

import pytest
import tomlkit

from harness.calibrate import reference_setting, round_target, run_calibration, write_targets
from harness.cli import main
from harness.errors import UserError
from harness.evaluation import EvaluateOptions
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import REPO, make_method

SUITE = """# A comment that must survive calibration.
name = "tiny-cal"
description = "tests only"
api = "training-algorithm"

[protocol]
num_trials = 1
num_studies = 1
num_threads = 1  # an inline comment too

[[workload]]
name = "lm"
kind = "language-model"
dataset = "markov-text"
dataset_options = { train_bytes = 4000, eval_bytes = 800, sequence_length = 16 }
model = "transformer_lm"
model_options = { width = 16, depth = 1, heads = 2 }
target = 9.0  # placeholder
max_runtime_s = 0.25
eval_period_s = 0.05
step_hint = 30

[[workload]]
name = "lm-relu"
variant_of = "lm"
kind = "language-model"
dataset = "markov-text"
dataset_options = { train_bytes = 4000, eval_bytes = 800, sequence_length = 16 }
model = "transformer_lm"
model_options = { width = 16, depth = 1, heads = 2, activation = "relu" }
target = 9.0
max_runtime_s = 0.25
eval_period_s = 0.05
step_hint = 30
"""


def test_round_target_rounds_towards_the_easier_side():
    assert round_target(0.947368, higher=True) == 0.9473
    assert round_target(1.234561, higher=False) == 1.235
    assert round_target(0.000123456, higher=True) == 0.0001234


def test_reference_setting_is_the_tuned_one_or_the_search_space_centre():
    sub = load_submission(REPO / "submissions" / "nadamw")
    centre = reference_setting(sub, {})
    assert centre["learning_rate"] == pytest.approx((1e-4 * 1e-2) ** 0.5)  # log midpoint
    assert centre["beta2"] == 0.999  # the middle (only) feasible point
    assert reference_setting(sub, {"nadamw": {"learning_rate": 0.1}}) == {"learning_rate": 0.1}


def test_calibration_writes_median_targets_and_provenance_keeping_the_file(tmp_path,
                                                                          capsys):
    path = tmp_path / "tiny-cal.toml"
    path.write_text(SUITE)
    folder = make_method(tmp_path, "ref-adamw", base="adamw")
    store_path = tmp_path / "cal.db"

    code = main(["calibrate", str(path), "--reference", str(folder), "--seeds", "1",
                 "--store", str(store_path), "--dry-run", "--no-sandbox"])
    assert code == 0
    assert "calibrated targets of tiny-cal" in capsys.readouterr().out
    assert path.read_text() == SUITE  # a dry run writes nothing

    suite = load_suite(path)
    ref = load_submission(folder)
    with Store(store_path) as store:
        report = run_calibration(suite, [ref], store, num_seeds=2,
                                 options=EvaluateOptions())
    assert not report.failed
    with Store(store_path) as store:  # the whole budget, although the placeholder was met
        runs = [r for r in store.iter_runs() if r.ok]
    assert runs and all(r.metrics["submission_time_s"] >= 0.25 for r in runs)
    by_name = {c.workload: c for c in report.calibrations}
    lm = by_name["lm"]
    assert len(lm.per_seed["ref-adamw"]) == 2 and None not in lm.per_seed["ref-adamw"]
    assert lm.medians["ref-adamw"] == statistics.median(lm.per_seed["ref-adamw"])
    assert lm.target == round_target(lm.medians["ref-adamw"], higher=False)
    assert lm.target < 9.0  # the loss fell below the placeholder

    write_targets(path, report, num_seeds=2)
    text = path.read_text()
    assert text.startswith("# A comment that must survive calibration.")
    assert "num_threads = 1  # an inline comment too" in text
    again = load_suite(path)  # still a valid suite
    targets = {w.name: w.target for w in again.workloads}
    assert targets == {c.workload: c.target for c in report.calibrations}
    provenance = tomlkit.parse(text)["workload"][0]["calibration"]
    assert provenance["seeds"] == 2 and provenance["harness_version"]
    assert provenance["hardware"]["cpu_model"]
    assert list(provenance["references"]) == ["ref-adamw"]
    assert provenance["references"]["ref-adamw"]["median"] == lm.medians["ref-adamw"]


def test_calibrate_refuses_bad_input(tmp_path, capsys):
    path = tmp_path / "tiny-cal.toml"
    path.write_text(SUITE)
    adamw = str(REPO / "submissions" / "adamw")
    assert main(["calibrate", "quickstart", "--reference", adamw]) == 2
    assert "not a time-to-result suite" in capsys.readouterr().err
    assert main(["calibrate", str(path), "--reference", str(REPO / "submissions" / "naive")]) == 2
    assert "not a training algorithm" in capsys.readouterr().err
    suite = load_suite(path)
    with Store(tmp_path / "x.db") as store, pytest.raises(UserError, match="no workload lmm"):
        run_calibration(suite, [load_submission(adamw)], store, only=["lmm"])


def test_a_failed_seed_counts_as_the_worst_in_the_median():
    """Seeds [failed, failed, 0.9] used to give a target of 0.9: one lucky seed of three."""
    from harness.calibrate import _calibrate_one
    from harness.runner.result import RunResult, RunStatus
    from harness.runner.spec import Phase, RunSpec

    suite = load_suite("ttr-quick")
    workload = suite.base_workloads[0]
    sub = load_submission(REPO / "submissions" / "nadamw")

    def run(study, best):
        spec = RunSpec(suite=suite.name, suite_version=suite.version, scenario=workload.name,
                       phase=Phase.EVALUATE, submission=sub.meta.name,
                       submission_hash=sub.content_hash, hparams={}, seed=study, trial=0,
                       study=study)
        if best is None:
            return RunResult(spec=spec, status=RunStatus.FAILED, reason="diverged")
        return RunResult(spec=spec, status=RunStatus.OK, metrics={"best_metric": best})

    higher = workload.metric in ("accuracy", "ssim")
    good, bad = (0.9, 0.5) if higher else (0.5, 0.9)
    with pytest.raises(UserError, match="finished most of its runs"):
        _calibrate_one(workload, [sub], [run(0, None), run(1, None), run(2, good)], 3)
    calibrated = _calibrate_one(workload, [sub], [run(0, None), run(1, bad), run(2, good)], 3)
    assert calibrated.target == round_target(bad, higher)  # the median of [worst, bad, good]
