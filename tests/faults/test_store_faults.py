"""The store under faults: a full disk, a corrupted file, two harnesses at once.

Whatever happens, no finished run is lost and no partial or duplicate row appears; the user
gets one line that says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sqlite3
import subprocess

import numpy as np
import pytest

from harness.bundle import export_bundle
from harness.cli import main
from harness.data.cache import DatasetCache
from harness.errors import StoreError
from harness.evaluation import EvaluateOptions, evaluate
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import TINY_SIZES, make_method, write_tiny_suite
from tests.faults.common import (
    TRAINS,
    decisions_of,
    evaluate_command,
    results_of,
    store_problems,
)
from tests.test_store import make_result

DISK_FULL = "database or disk is full"  # what sqlite3 raises on ENOSPC (SQLITE_FULL)


class FillsUp:
    """A store connection whose disk fills up in the middle of the run after `runs_left` runs:
    the run's row is inserted, then writing its metrics fails."""

    def __init__(self, db: sqlite3.Connection, runs_left: int):
        self._db, self.runs_left = db, runs_left

    def executemany(self, sql: str, rows):
        if sql.startswith("INSERT INTO metrics"):
            if self.runs_left == 0:
                raise sqlite3.OperationalError(DISK_FULL)
            self.runs_left -= 1
        return self._db.executemany(sql, rows)

    def __getattr__(self, name):
        return getattr(self._db, name)


@pytest.fixture
def disk_fills_up(monkeypatch):
    """Every Store opened from now on runs out of disk space after two runs."""
    real_init = Store.__init__

    def init(self, path):
        real_init(self, path)
        self._db = FillsUp(self._db, runs_left=2)

    monkeypatch.setattr(Store, "__init__", init)


def tiny_campaign(tmp_path):
    suite = load_suite(write_tiny_suite(tmp_path))
    return suite, [load_submission(make_method(tmp_path / "methods", "m", TRAINS))]


def test_a_full_disk_stops_the_campaign_and_loses_nothing_finished(tmp_path, tiny_cache,
                                                                   disk_fills_up, monkeypatch):
    suite, subs = tiny_campaign(tmp_path)
    options = EvaluateOptions(jobs=2, num_trials=2, num_seeds=2)
    with Store(tmp_path / "r.db") as store, \
            pytest.raises((sqlite3.OperationalError, StoreError), match="disk is full"):
        evaluate(suite, subs, store, options, cache=tiny_cache)
    finished = results_of(tmp_path / "r.db")
    assert len(finished) == 2  # the run being written when the disk filled is not there
    assert store_problems(tmp_path / "r.db") == []
    monkeypatch.undo()  # space freed: re-running resumes
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, subs, store, options, cache=tiny_cache)
    assert (report.executed, report.skipped) == (2, 2)
    assert {k: v for k, v in results_of(tmp_path / "r.db").items() if k in finished} == finished


def fail_saving_eval_inputs(monkeypatch) -> None:
    """np.save of the prepared evaluation inputs finds the disk full."""
    real_save = np.save

    def save(file, *args, **kwargs):
        if str(file).endswith("eval_inputs.npy"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_save(file, *args, **kwargs)

    monkeypatch.setattr(np, "save", save)


@pytest.fixture
def fresh_cache(tmp_path) -> DatasetCache:
    """A cache of its own, so that scenario files are prepared (not found) by this test."""
    return DatasetCache(tmp_path / "cache", sizes_override=TINY_SIZES)


@pytest.mark.parametrize("where", ["store", "prepared files"])
def test_a_full_disk_is_one_line_from_the_cli(tmp_path, fresh_cache, disk_fills_up,
                                              monkeypatch, where):
    make_method(tmp_path / "methods", "m", TRAINS)
    monkeypatch.setattr("harness.evaluation.DatasetCache", lambda: fresh_cache)
    if where == "prepared files":
        fail_saving_eval_inputs(monkeypatch)
    code, _, err = cli(evaluate_command(tmp_path, tmp_path / "r.db", "--no-sandbox")[3:])
    assert code == 2 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("harness: error: ") and "disk" in line


def test_a_full_disk_while_preparing_data_writes_no_half_prepared_files(tmp_path, fresh_cache,
                                                                        monkeypatch):
    suite, subs = tiny_campaign(tmp_path)
    fail_saving_eval_inputs(monkeypatch)
    with Store(tmp_path / "r.db") as store, pytest.raises(OSError, match="No space left"):
        evaluate(suite, subs, store, EvaluateOptions(num_trials=1, num_seeds=1),
                 cache=fresh_cache)
    prepared = fresh_cache.root / ".prepared"
    visible = [p for p in prepared.iterdir() if not p.name.startswith(".")]
    assert all((p / "eval_inputs.npy").exists() for p in visible)  # only complete folders
    assert results_of(tmp_path / "r.db") == {}
    monkeypatch.undo()
    with Store(tmp_path / "r.db") as store:  # space freed: it runs
        report = evaluate(suite, subs, store, EvaluateOptions(num_trials=1, num_seeds=1),
                          cache=fresh_cache)
    assert [r.ok for r in report.results] == [True, True]


@pytest.fixture
def store_and_bundle(tmp_path):
    db, bundle = tmp_path / "r.db", tmp_path / "backup.jsonl"
    with Store(db) as store:
        for seed in range(40):
            store.write_run(make_result(seed=seed, acc=seed / 40))
        export_bundle(store, bundle)
    return db, bundle


def corrupt(db, offset: int) -> None:
    data = bytearray(db.read_bytes())
    for page in range(offset, len(data), 4096):
        data[page + 16: page + 400] = os.urandom(384)
    db.write_bytes(bytes(data))


def cli(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_a_store_with_a_corrupted_header_is_one_line_naming_the_recovery(store_and_bundle):
    db, _ = store_and_bundle
    corrupt(db, 0)
    code, _, err = cli(["results", "list", "--store", str(db)])
    assert code == 2 and "Traceback" not in err
    [line] = err.strip().splitlines()
    assert f"cannot open results store {db}" in line
    assert "move it aside and re-import your exported bundles with `harness results import`" \
        in line


def test_a_store_with_corrupted_pages_is_one_line_naming_the_recovery(store_and_bundle):
    db, _ = store_and_bundle
    corrupt(db, 3 * 4096)
    code, _, err = cli(["results", "list", "--store", str(db)])
    assert code == 2 and "damaged" in err and "harness results import" in err


def test_recovering_a_corrupted_store_from_its_exported_bundle(store_and_bundle, tmp_path):
    """The documented recovery: move the damaged file aside, import the bundles afresh."""
    db, bundle = store_and_bundle
    before = results_of(db)
    corrupt(db, 3 * 4096)
    db.rename(tmp_path / "r.db.damaged")
    code, out, _ = cli(["results", "import", str(bundle), "--store", str(db)])
    assert code == 0 and "imported 40 new run(s)" in out
    assert results_of(db) == before
    assert store_problems(db) == []
    assert cli(["results", "list", "--store", str(db)])[0] == 0


@pytest.mark.slow
def test_two_harnesses_on_one_store_at_once_both_finish_without_duplicates(tmp_path,
                                                                           tiny_cache):
    make_method(tmp_path / "methods", "m", TRAINS)
    # The data the CLI reads (default-sized), prepared once here, so that the two harnesses
    # race over the store and not over preparing the same data.
    DatasetCache(tiny_cache.root).get("textures")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tiny_cache.root)}
    command = evaluate_command(tmp_path, tmp_path / "r.db", "--no-sandbox", "--trials", "1",
                               "--seeds", "2")
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outcomes = [proc.communicate(timeout=600) for proc in procs]
    for proc, (_, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0, err[-2000:]
    stored = results_of(tmp_path / "r.db")
    assert len(stored) == 1 + 2 and all(status == "ok" for status, *_ in stored.values())
    assert store_problems(tmp_path / "r.db") == []
    assert len(decisions_of(tmp_path / "r.db")) == 1
