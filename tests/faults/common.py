"""Helpers for the fault tests: store consistency, result comparison, misbehaving methods."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

from tests.conftest import LEARNER_HEAD, write_tiny_suite

# Measurements of the machine, not results: they differ between any two executions.
MEASUREMENTS = ("train_time_s", "eval_time_s", "peak_rss_mb", "uncounted_train_time_s")

TRAINS = LEARNER_HEAD + """
    def learn(self, task, data):
        for x, y in data:
            self.opt.zero_grad()
            F.cross_entropy(self.model(x), y).backward()
            self.opt.step()
"""


def results_of(db_path: Path) -> dict[str, tuple]:
    """(status, reason, metrics without measurements, curves) of every stored run, by key."""
    if not db_path.exists():
        return {}
    with sqlite3.connect(db_path, timeout=60) as db:
        try:
            runs = db.execute("SELECT run_key, status, reason FROM runs").fetchall()
        except sqlite3.OperationalError:  # killed before the schema was created
            return {}
        metrics = db.execute("SELECT run_key, name, value FROM metrics").fetchall()
        curves = db.execute("SELECT run_key, name, value FROM curves").fetchall()
    out = {key: (status, reason, {}, {}) for key, status, reason in runs}
    for key, name, value in metrics:
        if name not in MEASUREMENTS:
            out[key][2][name] = value
    for key, name, value in curves:
        out[key][3][name] = json.loads(value)
    return out


def decisions_of(db_path: Path) -> list[tuple]:
    """The protocol's decisions (what was chosen, on what evidence), without timestamps."""
    with sqlite3.connect(db_path, timeout=60) as db:
        return sorted(db.execute(
            "SELECT suite, scenario, submission, phase, chosen_hparams, chosen_run_key, "
            "metric_name, metric_value, trial_keys FROM decisions").fetchall())


def store_problems(db_path: Path) -> list[str]:
    """What is wrong with a store: integrity, duplicates, partial or orphaned rows."""
    if not db_path.exists():
        return []
    problems = []
    with sqlite3.connect(db_path, timeout=60) as db:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check failed")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "runs" not in tables:
            return problems
        total, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT run_key) FROM runs").fetchone()
        if total != distinct:
            problems.append(f"{total - distinct} duplicate run rows")
        for table in ("metrics", "curves"):
            orphans = db.execute(f"SELECT COUNT(*) FROM {table} WHERE run_key NOT IN "
                                 "(SELECT run_key FROM runs)").fetchone()[0]
            if orphans:
                problems.append(f"{orphans} {table} rows without a run")
        partial = db.execute(
            "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND (run_key NOT IN (SELECT run_key "
            "FROM metrics WHERE name = 'final_avg_acc') OR run_key NOT IN (SELECT run_key FROM "
            "curves WHERE name = 'accuracy_matrix'))").fetchone()[0]
        if partial:
            problems.append(f"{partial} ok runs without their metrics or curves")
        silent = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'failed' AND reason = ''"
                            ).fetchone()[0]
        if silent:
            problems.append(f"{silent} failed runs without a reason")
    return problems


def evaluate_command(tmp_path: Path, store: Path, *extra: str) -> list[str]:
    """`harness evaluate` of the tiny suite on the methods in tmp_path/methods. The CLI reads
    the default-sized data, and these tests are not about time limits: a generous one keeps
    them independent of the machine's load."""
    return [sys.executable, "-m", "harness", "evaluate", "--suite",
            str(write_tiny_suite(tmp_path, time_limit_s=600)), "--submissions",
            str(tmp_path / "methods"), "--store", str(store), *extra]


def processes_with_env(marker: str) -> list[int]:
    """Pids (other than ours) whose environment holds `marker` ("NAME=value")."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if marker.encode() in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def wait_until_gone(marker: str, timeout_s: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while (left := processes_with_env(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left
