"""Time-to-result suites end to end: studies × trials × workloads, scoring, held-out rule."""

from __future__ import annotations

import json
import math

import pytest

from harness.evaluation import EvaluateOptions
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from harness.ttr_evaluation import evaluate_ttr, ttr_specs
from harness.ttr_scores import score_suite
from harness.ttr_suite import TTRSuite
from tests.conftest import REPO

TINY_TTR = """
name = "tiny-ttr"
description = "tests only"
api = "training-algorithm"

[protocol]
num_trials = 2
num_studies = 2

[[workload]]
name = "easy"
dataset = "textures"
model = "mlp"
model_options = { hidden = 8, num_layers = 1 }
target = 0.05
max_runtime_s = 0.4
eval_period_s = 0.1
step_hint = 20

[[workload]]
name = "easy-impossible"
variant_of = "easy"
dataset = "textures"
model = "mlp"
model_options = { hidden = 8, num_layers = 1, activation = "tanh" }
target = 1.0
max_runtime_s = 0.4
eval_period_s = 0.1
step_hint = 20
"""


def test_ttr_suite_parses_and_specs_cover_studies_trials_workloads(tmp_path):
    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR)
    suite = load_suite(path)
    assert isinstance(suite, TTRSuite)
    assert [w.name for w in suite.base_workloads] == ["easy"]
    sub = load_submission(REPO / "submissions" / "adamw")
    specs = ttr_specs(suite, sub)
    assert len(specs) == 2 * 2 * 2  # studies × trials × workloads
    assert len({s.key for s in specs}) == len(specs)
    first_study = {json.dumps(s.hparams, sort_keys=True) for s in specs if s.study == 0}
    second_study = {json.dumps(s.hparams, sort_keys=True) for s in specs if s.study == 1}
    assert first_study != second_study  # each study samples with its own seed


def test_unknown_variant_base_is_reported(tmp_path):
    from harness.errors import ConfigError

    path = tmp_path / "bad.toml"
    path.write_text(TINY_TTR.replace('variant_of = "easy"', 'variant_of = "eazy"'))
    with pytest.raises(ConfigError, match='unknown workload "eazy" \\(did you mean "easy"\\?\\)'):
        load_suite(path)


def test_runs_score_and_a_missed_variant_sets_the_base_workload_to_infinity(tmp_path,
                                                                           tiny_cache):
    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR)
    suite = load_suite(path)
    sub = load_submission(REPO / "submissions" / "adamw")
    with Store(tmp_path / "r.db") as store:
        report = evaluate_ttr(suite, [sub], store, EvaluateOptions(num_trials=1, num_seeds=1),
                              cache=tiny_cache)
    assert report.failed == [], [r.reason for r in report.failed]
    by_workload = {r.spec.scenario: r for r in report.results}
    easy, impossible = by_workload["easy"], by_workload["easy-impossible"]
    assert 0 <= easy.metrics["time_to_target_s"] <= 0.4  # chance level meets a 5 % target
    assert math.isinf(impossible.metrics["time_to_target_s"])
    trace = impossible.curves["eval_trace"]["time_s"]  # never met: runs its whole budget
    assert trace[0] < trace[-1] and impossible.metrics["submission_time_s"] >= 0.4
    scored = score_suite(suite, report.results)
    assert scored.workloads == ("easy",)
    assert math.isinf(scored.times[0, 0])  # the held-out rule
    assert math.isfinite(scored.raw_times[("adamw", "easy")])
    assert "textures" not in json.dumps(easy.spec.identity()["hparams"])


def test_a_failing_target_watcher_fails_the_run_and_kills_its_worker(tmp_path, tiny_cache,
                                                                      monkeypatch):
    """The parent's watcher reads files the worker wrote; if it fails on one, the run fails
    with the reason, and its worker must not go on running beside the next timed run."""
    import harness.runner.execute as execute
    from harness.runner.process import Worker

    class BrokenWatcher:
        def __init__(self, plan, scratch):
            pass

        def __call__(self):
            raise ValueError("cannot read evals/000000.npy")

    killed = []
    real_kill = Worker.kill

    def kill(worker):
        killed.append(worker.join(timeout_s=0) is None)  # it was still running
        real_kill(worker)

    monkeypatch.setattr(execute, "TargetWatcher", BrokenWatcher)
    monkeypatch.setattr(Worker, "kill", kill)
    path = tmp_path / "slow.toml"
    path.write_text(TINY_TTR.split("[[workload]]")[0] + "[[workload]]" + TINY_TTR.split(
        "[[workload]]")[1].replace("max_runtime_s = 0.4", "max_runtime_s = 60.0").replace(
        "target = 0.05", "target = 1.0"))
    with Store(tmp_path / "r.db") as store:
        report = evaluate_ttr(load_suite(path), [load_submission(REPO / "submissions" / "adamw")],
                              store, EvaluateOptions(num_trials=1, num_seeds=1, sandbox=False),
                              cache=tiny_cache)
    [run] = report.results
    assert not run.ok and "cannot read evals/000000.npy" in run.reason
    assert killed == [True] and run.wall_time_s < 30
