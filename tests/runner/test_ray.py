"""The Ray executor: same results as the local executor, lost workers retried and counted."""

from __future__ import annotations

import builtins
import dataclasses

import pytest

from harness.errors import UserError
from harness.evaluation import EvaluateOptions, evaluate
from harness.runner.result import RunResult, RunStatus
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import make_method, write_tiny_suite
from tests.faults.common import TRAINS, results_of, store_problems
from tests.test_store import make_spec

ray = pytest.importorskip("ray")

from harness.runner import ray_executor  # noqa: E402 - needs ray


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


def test_ray_and_local_executors_store_identical_results_per_run_key(tmp_path, tiny_cache,
                                                                     local_ray):
    suite = load_suite(write_tiny_suite(tmp_path))
    subs = [load_submission(make_method(tmp_path, name, TRAINS)) for name in ("a", "b")]
    for executor in ("ray", "local"):
        with Store(tmp_path / f"{executor}.db") as store:
            report = evaluate(suite, subs, store, EvaluateOptions(
                jobs=2, num_trials=2, num_seeds=2, executor=executor), cache=tiny_cache)
        assert not report.failed, [r.reason for r in report.failed]
    on_ray, local = results_of(tmp_path / "ray.db"), results_of(tmp_path / "local.db")
    assert len(local) == 2 * (2 + 2)
    assert on_ray == local  # status, reason, metrics (timings aside) and curves per run key
    assert store_problems(tmp_path / "ray.db") == []


# Kills the Ray worker process running it (worker -> zygote -> Ray worker) the first KILLS
# times it runs, counted in a file next to the method; then trains normally.
LOSES_ITS_RAY_WORKER = TRAINS + """
import os as _os, signal as _signal
_COUNT = _os.path.join(_os.path.dirname(__file__), "..", "kills-" + _os.path.basename(
    _os.path.dirname(__file__)))
_kills = int(open(_COUNT).read()) if _os.path.exists(_COUNT) else 0
if _kills < KILLS:
    open(_COUNT, "w").write(str(_kills + 1))
    with open(f"/proc/{_os.getppid()}/stat") as _f:
        _ray_worker = int(_f.read().rsplit(")", 1)[1].split()[1])
    _os.kill(_ray_worker, _signal.SIGKILL)
    import time as _time
    _time.sleep(60)
"""


@pytest.mark.parametrize("kills, max_retries, ok", [(1, 2, True), (2, 1, False)])
def test_a_lost_ray_worker_is_retried_a_bounded_number_of_times(tmp_path, tiny_cache,
                                                               local_ray, kills, max_retries,
                                                               ok):
    suite = load_suite(write_tiny_suite(tmp_path))
    sub = load_submission(make_method(tmp_path / "methods", "fragile",
                                      LOSES_ITS_RAY_WORKER.replace("KILLS", str(kills))))
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, [sub], store, EvaluateOptions(
            num_trials=1, num_seeds=1, executor="ray", max_retries=max_retries),
            cache=tiny_cache)
        stored = store.get_run(report.results[0].spec.key)
    if ok:
        assert [r.ok for r in report.results] == [True, True]
        assert stored.reason == "ran after 1 Ray retry (WorkerCrashedError)"
    else:
        assert stored.status is RunStatus.FAILED
        assert stored.reason.startswith("Ray lost this run 2 times (the limit is 1 retries); "
                                        "last: WorkerCrashedError")
    assert store_problems(tmp_path / "r.db") == []


def test_retry_notes_and_which_failures_are_retried():
    result = RunResult(spec=make_spec(), status=RunStatus.OK)
    assert ray_executor.note_retries(result, []) is result
    assert ray_executor.note_retries(result, ["NodeDiedError"] * 2).reason == \
        "ran after 2 Ray retries (NodeDiedError, NodeDiedError)"
    failed = dataclasses.replace(result, status=RunStatus.FAILED, reason="timed out")
    assert ray_executor.note_retries(failed, ["WorkerCrashedError"]).reason == \
        "timed out [ran after 1 Ray retry (WorkerCrashedError)]"
    retried = ray_executor.system_failures(ray)
    for name in ("WorkerCrashedError", "NodeDiedError", "RayTaskError"):
        assert getattr(ray.exceptions, name) in retried
    assert ray.exceptions.TaskCancelledError not in retried


def test_missing_ray_is_a_one_line_user_error(monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(UserError, match=r"pip install 'harness\[ray\]'") as caught:
        ray_executor.RayExecutor()
    assert "\n" not in str(caught.value)


def test_an_address_without_the_ray_executor_is_refused(capsys):
    from harness.cli import main

    assert main(["evaluate", "--address", "10.0.0.1:6379"]) == 2
    assert "--address names a Ray cluster; add --executor ray" in capsys.readouterr().err
