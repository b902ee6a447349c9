"""`--legacy-test-tuning`: the common practice of tuning on the evaluation data, stored apart."""

from __future__ import annotations

import json

from harness.evaluation import EvaluateOptions, evaluate
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import make_method, write_tiny_suite


def test_legacy_phases_run_on_evaluation_data_and_are_stored_apart(tmp_path, tiny_cache):
    suite = load_suite(write_tiny_suite(tmp_path))
    sub = load_submission(make_method(tmp_path, "naive-copy"))
    options = EvaluateOptions(num_trials=2, num_seeds=2, legacy_test_tuning=True)
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, [sub], store, options, cache=tiny_cache)
        frame = store.runs_frame()
        decisions = {d.phase: d for d in store.decisions()}
    assert report.failed == []
    assert frame.groupby("phase").size().to_dict() == {
        "tune": 2, "evaluate": 2, "legacy-tune": 2, "legacy": 2}
    fingerprints = {phase: set().union(*frame[frame.phase == phase].dataset_fingerprints
                                       .map(lambda s: set(json.loads(s))))
                    for phase in ("tune", "legacy-tune")}
    assert "textures/test" not in fingerprints["tune"]  # the fair protocol never sees it
    assert "textures/test" in fingerprints["legacy-tune"]  # the legacy practice does
    assert set(decisions) == {"tune", "legacy-tune"}
    legacy_trials = frame[frame.phase == "legacy-tune"]
    chosen = legacy_trials[legacy_trials.run_key == decisions["legacy-tune"].chosen_run_key]
    # selected by its score on the evaluation data (ties go to the lower trial)
    assert chosen["metric.final_avg_acc"].item() == legacy_trials["metric.final_avg_acc"].max()
    # Same trial configurations in both protocols, only the data they are scored on differs.
    tune_hparams = sorted(frame[frame.phase == "tune"].hparams)
    assert sorted(legacy_trials.hparams) == tune_hparams
