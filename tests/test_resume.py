"""A killed `harness evaluate` resumes: finished runs are kept, never redone or duplicated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from harness.data.cache import DatasetCache
from tests.conftest import LEARNER_HEAD, make_method, write_tiny_suite
from tests.faults.common import processes_with_env

# Sleeps in every task so the evaluation is long enough to be killed in the middle.
SLOW = LEARNER_HEAD + """
    def learn(self, task, data):
        import time
        for x, y in data:
            self.opt.zero_grad()
            F.cross_entropy(self.model(x), y).backward()
            self.opt.step()
        time.sleep(0.4)
"""


def evaluate_command(tmp_path):
    # Unsandboxed: this test follows the zygote and its forked workers by their environment,
    # which a sandboxed worker does not inherit (tests/faults covers kills in both modes).
    return [sys.executable, "-m", "harness", "evaluate", "--suite",
            str(write_tiny_suite(tmp_path)), "--submissions", str(tmp_path / "methods"),
            "--store", str(tmp_path / "r.db"), "--jobs", "2", "--seeds", "4", "--trials", "2",
            "--no-sandbox"]


def finished_runs(db_path):
    if not db_path.exists():
        return {}
    with sqlite3.connect(db_path, timeout=30) as db:
        try:
            return dict(db.execute("SELECT run_key, started_at FROM runs WHERE status = 'ok'"))
        except sqlite3.OperationalError:  # schema not created yet
            return {}


def test_sigkill_mid_evaluation_then_resume(tmp_path, tiny_cache):
    for name in ("slow-a", "slow-b"):
        make_method(tmp_path / "methods", name, SLOW)
    db = tmp_path / "r.db"
    marker = f"HARNESS_TEST_KILLED_RUN={tmp_path}"
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tiny_cache.root),
           marker.split("=")[0]: str(tmp_path)}
    DatasetCache(tiny_cache.root).get("textures")  # the CLI's data, prepared before the kill
    proc = subprocess.Popen(evaluate_command(tmp_path), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(finished_runs(db)) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, "evaluation ended before it could be killed"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before_kill = finished_runs(db)
    assert processes_with_env(marker)  # the zygote and workers were running at the kill
    # ... and die with the killed harness: the zygote sees its pipe close, and workers ask
    # for SIGKILL when their parent dies.
    deadline = time.monotonic() + 15
    while processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with_env(marker) == []
    assert 3 <= len(before_kill) < 12  # 2 methods × (2 trials + 4 seeds) = 12 runs

    env.pop("HARNESS_TEST_KILLED_RUN")
    resumed = subprocess.run(evaluate_command(tmp_path), env=env, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = finished_runs(db)
    assert len(after) == 12
    for key, started_at in before_kill.items():  # finished runs were not redone
        assert after[key] == started_at
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT run_key) FROM runs").fetchone()
    assert rows == (12, 12)
    summary = " ".join(resumed.stderr.split())  # rich may wrap the line
    assert f"{12 - len(before_kill)} run(s) executed, {len(before_kill)} already stored" in summary


def test_runs_made_on_other_data_are_run_again_not_skipped(tmp_path, isolated_cache):
    """A run key names the suite version, not the data: after a dataset is re-imported or
    regenerated (here: generated at other sizes, so its fingerprint changes), its stored runs
    describe other data and must not be kept as finished."""
    from harness.evaluation import EvaluateOptions, evaluate
    from harness.store import Store
    from harness.submission import load_submission
    from harness.suite import load_suite
    from tests.conftest import TINY_SIZES

    suite = load_suite(write_tiny_suite(tmp_path))
    sub = load_submission(make_method(tmp_path / "methods", "steady"))
    options = EvaluateOptions(num_trials=1, num_seeds=1, sandbox=False)
    first, second = (DatasetCache(isolated_cache, sizes_override=sizes)
                     for sizes in (TINY_SIZES, {k: v + 4 for k, v in TINY_SIZES.items()}))
    with Store(tmp_path / "r.db") as store:
        done = evaluate(suite, [sub], store, options, cache=first)
        again = evaluate(suite, [sub], store, options, cache=first)
        changed = evaluate(suite, [sub], store, options, cache=second)
        stored = [store.get_run(r.spec.key) for r in changed.results]
    assert (done.executed, again.executed, again.skipped, again.info) == (2, 0, 2, [])
    assert changed.executed == 2 and changed.skipped == 0
    assert [line.split(" were")[0] for line in changed.info] == [
        "1 stored tune run(s)", "1 stored evaluate run(s)"]
    assert {r.spec.key for r in stored} == {r.spec.key for r in done.results}  # replaced
    assert all(r.dataset_fingerprints != d.dataset_fingerprints
               for r, d in zip(stored, done.results, strict=True))
