"""Timed runs never share the machine (whatever --jobs or the executor), and time-to-result
scores refuse to mix hardware classes."""

from __future__ import annotations

import dataclasses

import pytest

from harness.errors import UserError
from harness.evaluation import EvaluateOptions
from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from harness.ttr_evaluation import evaluate_ttr
from harness.ttr_scores import score_suite
from tests.conftest import REPO
from tests.test_ttr_pipeline import TINY_TTR


class GreedyExecutor:
    """A maximally parallel fake: takes every job it is offered before finishing any."""

    offered: list[int] = []

    def __init__(self, *args, **kwargs):
        pass

    def map(self, run_jobs):
        jobs = list(run_jobs)
        GreedyExecutor.offered.append(len(jobs))
        for job in jobs:
            yield RunResult(spec=job.spec, status=RunStatus.FAILED, reason="fake",
                            dataset_fingerprints=job.payload["dataset_fingerprints"])


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_timed_runs_reach_the_executor_one_at_a_time(tmp_path, tiny_cache, monkeypatch,
                                                     executor):
    import harness.evaluation
    import harness.runner.ray_executor

    monkeypatch.setattr(harness.evaluation, "LocalExecutor", GreedyExecutor)
    monkeypatch.setattr(harness.runner.ray_executor, "RayExecutor", GreedyExecutor)
    GreedyExecutor.offered = []
    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR)
    options = EvaluateOptions(jobs=4, num_trials=2, num_seeds=1, executor=executor)
    with Store(tmp_path / "r.db") as store:
        report = evaluate_ttr(load_suite(path), [load_submission(REPO / "submissions" / "adamw")],
                              store, options, cache=tiny_cache)
        # the suite file is kept with the runs: the site scores a suite given by path with
        # its targets and held-out variants (it used to find only files in suites/)
        assert store.suite_files() == {("tiny-ttr", load_suite(path).version): TINY_TTR}
    assert len(report.failed) == 4  # 2 trials × 2 workloads, all offered ...
    assert GreedyExecutor.offered == [1, 1, 1, 1]  # ... one at a time


def result(spec: RunSpec, cpu: str, time_s: float) -> RunResult:
    return RunResult(spec=spec, status=RunStatus.OK, metrics={"time_to_target_s": time_s},
                     hardware={"cpu_model": cpu, "gpu_model": None, "gpu_count": 0})


def tiny_suite_and_spec(tmp_path):
    """The tiny time-to-result suite and a run spec of method "a" on its base workload."""
    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR)
    suite = load_suite(path)
    return suite, RunSpec(suite=suite.name, suite_version=suite.version, scenario="easy",
                          phase=Phase.EVALUATE, submission="a", submission_hash="h", hparams={},
                          seed=0, trial=0, study=0)


def test_scores_refuse_runs_of_two_hardware_classes(tmp_path):
    suite, spec = tiny_suite_and_spec(tmp_path)
    other = dataclasses.replace(spec, submission="b")
    same = [result(spec, "cpu-x", 1.0), result(other, "cpu-x", 2.0)]
    assert score_suite(suite, same).raw_times[("a", "easy")] == 1.0
    mixed = [result(spec, "cpu-x", 1.0), result(other, "cpu-y", 2.0)]
    with pytest.raises(UserError, match="mix runs of 2 hardware classes"):
        score_suite(suite, mixed)


def test_a_cpu_run_is_of_one_class_whether_or_not_it_could_see_the_gpus():
    """A sandboxed CPU run sees no GPU (no /dev/nvidia*); unsandboxed on the same machine it
    sees them. Its speed does not depend on them: one class. A CUDA run's GPUs do count."""
    from harness.store import hardware_class

    seen = {"cpu_model": "EPYC", "gpu_model": "H100", "gpu_count": 8, "device": "cpu"}
    hidden = {"cpu_model": "EPYC", "gpu_model": None, "gpu_count": 0, "device": "cpu"}
    assert hardware_class(seen) == hardware_class(hidden)
    assert hardware_class(hidden) == hardware_class({"cpu_model": "EPYC", "gpu_model": None,
                                                     "gpu_count": 0})  # stored before
    on_gpu = dict(seen, device="cuda:0")
    assert hardware_class(on_gpu) != hardware_class(dict(on_gpu, gpu_model="A100"))
    assert hardware_class(on_gpu) != hardware_class(seen)


def test_the_summary_table_says_failed_where_every_run_failed(tmp_path):
    """A crashed run printed "inf" under a title that said "inf: target missed"."""
    from rich.console import Console

    from harness.evaluation import EvaluationReport
    from harness.progress import ttr_summary_table

    suite, spec = tiny_suite_and_spec(tmp_path)
    variant = dataclasses.replace(spec, scenario="easy-impossible")
    report = EvaluationReport(results=[
        result(spec, "cpu-x", 1.5),
        RunResult(spec=variant, status=RunStatus.FAILED, reason="boom",
                  hardware={"cpu_model": "cpu-x", "gpu_model": None, "gpu_count": 0})])
    console = Console(record=True, width=200)
    console.print(ttr_summary_table(report, suite))
    row = next(line for line in console.export_text().splitlines() if line.startswith("│ a"))
    assert "1.50" in row and "failed" in row and "inf" not in row
