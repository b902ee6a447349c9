"""The worker boundary: failures become failed runs, and evaluation labels never enter it."""

from __future__ import annotations

import json

import pytest

from harness.evaluation import EvaluateOptions, evaluate
from harness.runner import execute as execute_module
from harness.runner.spec import Phase
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import (
    HANGS,
    LABEL_SPY,
    LEARNER_HEAD,
    NAN,
    RAISES,
    TWO_PASSES,
    make_method,
    write_tiny_suite,
)


def run_methods(tmp_path, cache, methods, **options):
    suite = load_suite(write_tiny_suite(tmp_path))
    subs = [load_submission(m) for m in methods]
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, subs, store, EvaluateOptions(**options), cache=cache)
        frame = store.runs_frame()
    return report, frame


def reasons_of(frame, name):
    return set(frame[frame.submission == name].reason)


def test_misbehaving_methods_fail_with_reasons_and_the_rest_completes(tmp_path, tiny_cache):
    methods = [make_method(tmp_path, "good"), make_method(tmp_path, "raises", RAISES),
               make_method(tmp_path, "nan", NAN), make_method(tmp_path, "hangs", HANGS),
               make_method(tmp_path, "greedy", TWO_PASSES)]
    suite_path = write_tiny_suite(tmp_path, time_limit_s=4)
    suite = load_suite(suite_path)
    subs = [load_submission(m) for m in methods]
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, subs, store, EvaluateOptions(jobs=2, num_trials=1, num_seeds=2),
                          cache=tiny_cache)
        frame = store.runs_frame()
    good = frame[frame.submission == "good"]
    assert len(good) == 3 and set(good.status) == {"ok"}  # 1 trial + 2 seeds
    raise_line = RAISES.splitlines().index('            raise RuntimeError("exploding on purpose")')
    expected = f"submission.py:{raise_line + 1}: RuntimeError: exploding on purpose"
    assert reasons_of(frame, "raises") == {expected}  # file and line inside the submission
    [nan_reason] = reasons_of(frame, "nan")
    assert "non-finite logits" in nan_reason and "after task 0" in nan_reason
    [hang_reason] = reasons_of(frame, "hangs")
    assert hang_reason.startswith("timed out")
    [greedy_reason] = reasons_of(frame, "greedy")
    assert "second time" in greedy_reason
    # Every tuning trial of a broken method failed: it is reported and not evaluated.
    for name in ("raises", "nan", "hangs", "greedy"):
        assert set(frame[frame.submission == name].phase) == {Phase.TUNE.value}
        assert any(name in note for note in report.notes)


def test_evaluation_labels_never_enter_the_worker(tmp_path, tiny_cache, monkeypatch):
    spy_log = tmp_path / "opened.txt"
    monkeypatch.setenv("HARNESS_TEST_SPY_LOG", str(spy_log))
    captured = []
    real_execute = execute_module.execute

    def recording_execute(job, *args, **kwargs):
        captured.append(job.payload)
        return real_execute(job, *args, **kwargs)

    monkeypatch.setattr("harness.runner.local.execute", recording_execute)
    spy = make_method(tmp_path, "spy", LABEL_SPY)
    report, frame = run_methods(tmp_path, tiny_cache, [spy], num_trials=1, num_seeds=1)
    assert set(frame.status) == {"ok"}, frame.reason.tolist()

    opened = spy_log.read_text().splitlines()
    assert any(p.endswith("eval_inputs.npy") for p in opened)  # the spy does see data opens
    assert any(p.endswith("train_images.npy") for p in opened)
    for forbidden in ("test_labels.npy", "val_labels.npy"):
        assert not [p for p in opened if p.endswith(forbidden)], forbidden
    payload_text = json.dumps(captured)
    assert "test_labels" not in payload_text and "val_labels" not in payload_text
    # Tuning runs read the tuning split only; evaluation runs read the test split.
    tune = frame[frame.phase == "tune"].dataset_fingerprints.map(json.loads)
    assert all("textures/val" in fp and "textures/test" not in fp for fp in tune)


@pytest.mark.parametrize("scenario", ["task", "domain", "class"])
def test_each_scenario_runs_and_scores_a_full_accuracy_matrix(tmp_path, tiny_cache, scenario):
    suite = load_suite(write_tiny_suite(tmp_path, scenarios=(scenario,)))
    sub = load_submission(make_method(tmp_path, "good"))
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, [sub], store, EvaluateOptions(num_trials=1, num_seeds=1),
                          cache=tiny_cache)
    [ev] = [r for r in report.results if r.spec.phase is Phase.EVALUATE]
    matrix = ev.curves["accuracy_matrix"]
    assert len(matrix) == 3 and all(len(row) == 2 for row in matrix)
    assert ev.metrics["samples_seen"] == 2 * 2 * 24  # tasks × classes × train per class


MASKS_OTHER_TASKS = LEARNER_HEAD.replace("""    def predict(self, x, task=None):
        return self.model(x)""", """    def predict(self, x, task=None):
        logits = self.model(x)
        if task is not None and task in self.classes:  # other tasks' classes: -inf
            mask = torch.full_like(logits, float("-inf"))
            mask[:, list(self.classes[task])] = 0.0
            logits = logits + mask
        return logits""") + """
    classes = {}

    def learn(self, task, data):
        self.classes[task.index] = task.classes
        for x, y in data:
            self.opt.zero_grad()
            F.cross_entropy(self.model(x), y).backward()
            self.opt.step()
"""
ALL_MINUS_INF = LEARNER_HEAD.replace("        return self.model(x)",
                                     "        return self.model(x) * 0 - float('inf')") + """
    def learn(self, task, data):
        for x, y in data:
            pass
"""


def test_minus_inf_masks_pass_but_a_row_with_nothing_finite_fails(tmp_path, tiny_cache):
    """Masking other tasks' classes with -inf is a task-incremental idiom, not divergence."""
    methods = [make_method(tmp_path, "masks", MASKS_OTHER_TASKS),
               make_method(tmp_path, "all-minus-inf", ALL_MINUS_INF)]
    suite = load_suite(write_tiny_suite(tmp_path, scenarios=("task",)))
    with Store(tmp_path / "r.db") as store:
        evaluate(suite, [load_submission(m) for m in methods], store,
                 EvaluateOptions(num_trials=1, num_seeds=1, sandbox=False), cache=tiny_cache)
        frame = store.runs_frame()
    assert set(frame[frame.submission == "masks"].status) == {"ok"}
    [reason] = reasons_of(frame, "all-minus-inf")
    assert "all -inf over the classes it is scored on" in reason
