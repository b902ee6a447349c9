"""Stream campaigns end to end on a tiny stream: tuning only on the dev stream, decisions,
per-task errors, counted search compute, and a killed stream resuming with identical results."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from harness.evaluation import EvaluateOptions
from harness.nevis.evaluation import evaluate_nevis
from harness.runner import execute
from harness.runner.sandbox import sandbox_available
from harness.runner.spec import Phase
from harness.store import Store
from harness.submission import load_submission
from tests.conftest import REPO, make_method


def _run(suite, methods, store_path, cache, **options):
    with Store(store_path) as store:
        report = evaluate_nevis(suite, [load_submission(m) for m in methods], store,
                                EvaluateOptions(**options), cache=cache)
        decisions = store.decisions()
    return report, decisions


@pytest.mark.slow
def test_tuning_sees_only_the_dev_stream_and_search_compute_is_counted(stream, cache, tmp_path):
    methods = [REPO / "submissions" / "nevis-finetune",
               REPO / "submissions" / "nevis-finetune-search"]
    report, decisions = _run(stream, methods, tmp_path / "r.db", cache, num_trials=1)
    assert not report.failed, [r.reason for r in report.failed]
    for r in report.results:
        tasks = r.curves["nevis_tasks"]
        names = {k.split("/")[0] for k in r.dataset_fingerprints}
        splits = {k.split("/")[1] for k in r.dataset_fingerprints}
        if r.spec.phase is Phase.TUNE:  # dev stream: no test split, no test-stream task
            assert r.spec.scenario == "dev-stream" and tasks["name"] == ["colours", "counts"]
            assert names == {"nevis-colours", "nevis-counts"}
            assert splits == {"train", "dev", "dev_test"}
        else:
            assert r.spec.scenario == "test-stream"
            assert tasks["name"] == ["shapes", "bars", "sym"] and len(tasks["error"]) == 3
            assert names == {"nevis-shapes", "nevis-bars", "nevis-sym"}
            assert splits == {"train", "dev", "dev_test", "test"}
        assert 0 <= r.metrics["avg_error"] <= 1 and r.metrics["train_flops"] > 0
    by = {(r.spec.submission, r.spec.phase): r for r in report.results}
    plain = by[("nevis-finetune", Phase.EVALUATE)]
    searched = by[("nevis-finetune-search", Phase.EVALUATE)]
    assert plain.metrics["search_flops"] == 0
    assert searched.curves["nevis_tasks"]["search_trials"] == [3, 3, 3]
    # three full trials per task plus their dev predictions, all counted
    assert searched.metrics["train_flops"] >= 3 * plain.metrics["train_flops"]
    assert {d.metric_name for d in decisions} == {"avg_error"}
    assert {d.scenario for d in decisions} == {"test-stream"}


SLOW_FINETUNE = (REPO / "submissions" / "nevis-finetune" / "submission.py").read_text() + '''

    def end_of_task(self, task):
        import time
        time.sleep(0.7)  # keeps each task long enough for the test to kill the worker in one
'''


def _self_tuning(folder: Path) -> Path:
    (folder / "search_space.json").unlink()
    toml = folder / "submission.toml"
    toml.write_text(toml.read_text().replace("external-tuning", "self-tuning"))
    return folder


def _kill_after_first_checkpoint(root: Path, done: threading.Event) -> None:
    """SIGKILL the worker from outside (as the OOM killer or a user would) once it has
    checkpointed its first task."""
    while not done.is_set():
        if list(root.glob(".nevis-runs/*/checkpoint.pt")):
            with execute._live_lock:
                pids = [w.pid for w in execute._live]
            for pid in pids:
                os.killpg(pid, signal.SIGKILL)
            return
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", [
    False,
    pytest.param(True, marks=pytest.mark.skipif(not sandbox_available(),
                                                reason="bubblewrap (bwrap) is not usable here")),
], ids=["zygote", "sandbox"])
def test_a_killed_stream_resumes_at_the_next_task_with_identical_results(stream, cache,
                                                                          tmp_path, sandbox):
    """Also under bubblewrap (the CLI's default), whose workers see only their scratch
    folder as writable: the checkpoint must live there and survive the kill."""
    method = _self_tuning(make_method(tmp_path, "slow-finetune", SLOW_FINETUNE,
                                      base="nevis-finetune"))
    uninterrupted, _ = _run(stream, [method], tmp_path / "a.db", cache, sandbox=sandbox)
    [reference] = uninterrupted.results
    assert reference.ok, reference.reason
    assert reference.curves["nevis_tasks"]["resumed_at"] == []
    assert not list(cache.root.glob(".nevis-runs/*"))  # removed once the run succeeded

    done = threading.Event()
    watcher = threading.Thread(target=_kill_after_first_checkpoint, args=(cache.root, done))
    watcher.start()
    try:
        killed, _ = _run(stream, [method], tmp_path / "b.db", cache, sandbox=sandbox)
    finally:
        done.set()
        watcher.join()
    [first] = killed.results
    assert not first.ok and "SIGKILL" in first.reason
    assert list(cache.root.glob(".nevis-runs/*/checkpoint.pt"))  # kept for the resume

    resumed, _ = _run(stream, [method], tmp_path / "b.db", cache, retry_failed=True,
                      sandbox=sandbox)
    [second] = resumed.results
    assert second.ok, second.reason
    tasks, expected = second.curves["nevis_tasks"], reference.curves["nevis_tasks"]
    assert tasks["resumed_at"] and 1 <= tasks["resumed_at"][0] < 3
    assert tasks["error"] == expected["error"]
    assert tasks["train_flops"] == expected["train_flops"]
    assert second.metrics["avg_error"] == reference.metrics["avg_error"]
