"""Timed runs one at a time, with the next runs' sandboxed workers started ahead in batches:
no worker is ever starting while a run is timed, a held worker runs no submission code, and its
wait for its turn is not part of its run's wall time."""

from __future__ import annotations

import shutil
import time

import pytest

import harness.runner.serial as serial
from harness.evaluation import EvaluateOptions
from harness.runner.local import LocalExecutor
from harness.runner.process import WorkerSettings
from harness.runner.ray_executor import RayExecutor
from harness.runner.ttr_exchange import WARM_FILE
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from harness.ttr_evaluation import evaluate_ttr
from tests.conftest import REPO
from tests.test_ttr_pipeline import TINY_TTR

needs_sandbox = pytest.mark.skipif(not serial.sandbox_available(),
                                   reason="needs a working bubblewrap (bwrap)")


def test_the_local_executor_is_warmed_and_others_get_one_job_at_a_time():
    local = serial.one_at_a_time(LocalExecutor(4, WorkerSettings(sandbox=True)))
    assert isinstance(local, serial.WarmedSerialExecutor) and local.max_in_flight == 1
    ray = serial.one_at_a_time(RayExecutor.__new__(RayExecutor))
    assert isinstance(ray, serial.OneAtATime) and ray.max_in_flight == 1


@needs_sandbox
def test_workers_start_ahead_in_batches_and_never_while_a_run_is_timed(tmp_path, tiny_cache,
                                                                       monkeypatch):
    method = tmp_path / "adamw-marked"
    shutil.copytree(REPO / "submissions" / "adamw", method,
                    ignore=shutil.ignore_patterns("__pycache__"))
    source = method / "submission.py"  # submission code leaves a mark in its scratch (its cwd)
    source.write_text(source.read_text() + '\nimport pathlib\npathlib.Path("imported").touch()\n')

    events, timing, live = [], {}, []
    real_start, real_finish = serial.start, serial.finish

    def start(job, **kwargs):
        run = real_start(job, **kwargs)
        events.append(("start", job.spec.key))
        timing[job.spec.key] = {"start": time.perf_counter()}
        live.append(run)
        return run

    def finish(run):
        key = run.job.spec.key
        others = [r for r in live if r is not run]
        # every other started worker is warm (or gone): none is starting while this run is timed
        assert all((r.scratch / WARM_FILE).exists() or r.worker.join(0) is not None
                   for r in others)
        assert (run.scratch / WARM_FILE).exists()
        assert not (run.scratch / "imported").exists()  # held: no submission code has run
        events.append(("release", key))
        began = time.perf_counter()
        result = real_finish(run)
        timing[key].update(began=began, end=time.perf_counter(), wall=result.wall_time_s)
        events.append(("end", key))
        live.remove(run)
        return result

    monkeypatch.setattr(serial, "start", start)
    monkeypatch.setattr(serial, "finish", finish)
    monkeypatch.setattr(serial.os, "cpu_count", lambda: 2)
    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR)
    options = EvaluateOptions(jobs=4, num_trials=3, num_seeds=1, sandbox=True)
    with Store(tmp_path / "r.db") as store:
        report = evaluate_ttr(load_suite(path), [load_submission(method)], store, options,
                              cache=tiny_cache)
    assert report.executed == 6 and not report.failed, [r.reason for r in report.failed]
    kinds = [kind for kind, _ in events]
    # batches of two (one per core): start, start, then each run released and ended in turn
    assert kinds == ["start", "start", "release", "end", "release", "end"] * 3
    keys = [key for _, key in events]
    for i in range(0, len(events), 6):
        first, second = keys[i], keys[i + 1]
        assert keys[i + 2:i + 6] == [first, first, second, second]
        held = timing[second]["began"] - timing[first]["began"]  # waited for the first run
        elapsed = timing[second]["end"] - timing[second]["start"]
        assert timing[second]["wall"] < elapsed - 0.9 * held


@needs_sandbox
def test_an_interrupted_campaign_leaves_no_held_worker(tmp_path, tiny_cache):
    """A caller that stops early (or an interrupt) kills the workers still held."""
    from harness.runner import execute

    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR)
    suite = load_suite(path)
    runner_jobs = _jobs(tmp_path, suite, tiny_cache)
    results = serial.WarmedSerialExecutor(WorkerSettings(sandbox=True), ahead=2).map(runner_jobs)
    first = next(results)
    assert first.ok
    with execute._live_lock:
        assert len(execute._live) == 1  # the second of the batch, held
        held = next(iter(execute._live))
    results.close()
    assert held.join(0) is not None
    with execute._live_lock:
        assert not execute._live


def _jobs(tmp_path, suite, cache):
    """Run jobs of the tiny suite for adamw, as `harness evaluate` makes them."""
    from harness.evaluation import EvaluationReport, Reporter
    from harness.ttr_data import prepare
    from harness.ttr_evaluation import _TTRRunner, ttr_specs

    sub = load_submission(REPO / "submissions" / "adamw")
    with Store(tmp_path / "jobs.db") as store:
        runner = _TTRRunner(suite, store, EvaluateOptions(sandbox=True), Reporter(),
                            EvaluationReport())
        runner.prepared = {w.name: prepare(w, cache) for w in suite.workloads}
        return [runner._job(spec, sub) for spec in ttr_specs(suite, sub, 2, 1)]


def test_a_forked_time_to_result_run_is_watched_and_stops_at_its_target(tmp_path, tiny_cache):
    """Forked workers (--no-sandbox, or no bubblewrap) are never held: the executor must not
    wait for them to be warm, which would wait out the whole run unwatched — no stop at the
    target, and the suite's time limit replaced by the start-up allowance."""
    path = tmp_path / "tiny-ttr.toml"
    head, easy = TINY_TTR.split("[[workload]]")[:2]
    path.write_text(head + "[[workload]]" + easy.replace("max_runtime_s = 0.4",
                                                         "max_runtime_s = 60.0"))
    sub = load_submission(REPO / "submissions" / "adamw")
    with Store(tmp_path / "r.db") as store:
        report = evaluate_ttr(load_suite(path), [sub], store,
                              EvaluateOptions(num_trials=1, num_seeds=1, sandbox=False),
                              cache=tiny_cache)
    [run] = report.results
    assert run.ok and run.metrics["reached_target"] == 1.0  # chance meets the 5 % target
    assert run.metrics["submission_time_s"] < 10 and run.wall_time_s < 30  # not 60 s
