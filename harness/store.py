"""The results store: one SQLite file in WAL mode.

Why SQLite: one file, transactional, safe for several `harness evaluate` processes at once, and
nothing to install. Each run is written in a single transaction (its row, metrics and curves
together), so a killed harness never leaves a partial run visible. The driver process alone
writes; workers never see the store.

Schema (version `SCHEMA_VERSION`, kept in table `meta`):

- ``runs``      one row per run key: the run's identity, status, reason, timing, hardware.
- ``metrics``   (run_key, name, value): scalar metrics.
- ``curves``    (run_key, name, json): structured results such as the accuracy matrix.
- ``decisions`` the protocol's tuning decisions: which trial was chosen and why, per phase
  (``tune``: the fair protocol; ``legacy-tune``: selection on the evaluation data).
- ``submissions`` each submission folder version seen (content hash) with its metadata.

A store written by a newer harness is refused; an older one is migrated in place, inside one
transaction, by the functions in `_MIGRATIONS` (version N → N+1).

Faults: every public method turns SQLite's errors into a `StoreError` (one line from the CLI)
that says what to do: a full disk ("free space and re-run: finished runs are kept") or a damaged
file ("move it aside and re-import your exported bundles"). The transaction that failed rolls
back, so a fault never leaves a partial run.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import StoreError
from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import RunSpec, canonical_json

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_key TEXT PRIMARY KEY,
    suite TEXT NOT NULL, suite_version TEXT NOT NULL, scenario TEXT NOT NULL,
    phase TEXT NOT NULL, submission TEXT NOT NULL, submission_hash TEXT NOT NULL,
    hparams TEXT NOT NULL, seed INTEGER NOT NULL, trial INTEGER NOT NULL, study INTEGER NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL,
    wall_time_s REAL NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
    hardware TEXT NOT NULL, hardware_class TEXT NOT NULL,
    dataset_fingerprints TEXT NOT NULL, harness_version TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_suite ON runs (suite, scenario, phase, submission);
CREATE TABLE IF NOT EXISTS metrics (
    run_key TEXT NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    name TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (run_key, name)
);
CREATE TABLE IF NOT EXISTS curves (
    run_key TEXT NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_key, name)
);
CREATE TABLE IF NOT EXISTS decisions (
    suite TEXT NOT NULL, suite_version TEXT NOT NULL, scenario TEXT NOT NULL,
    submission TEXT NOT NULL, submission_hash TEXT NOT NULL, phase TEXT NOT NULL,
    chosen_hparams TEXT NOT NULL, chosen_run_key TEXT NOT NULL,
    metric_name TEXT NOT NULL, metric_value REAL NOT NULL,
    trial_keys TEXT NOT NULL, decided_at TEXT NOT NULL,
    PRIMARY KEY (suite, suite_version, scenario, submission_hash, phase)
);
CREATE TABLE IF NOT EXISTS submissions (
    submission_hash TEXT PRIMARY KEY, name TEXT NOT NULL, metadata TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
"""

_DECISION_COLUMNS = (
    "suite", "suite_version", "scenario", "submission", "submission_hash", "phase",
    "chosen_hparams", "chosen_run_key", "metric_name", "metric_value", "trial_keys",
    "decided_at",
)


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """Decisions gain a `phase` (for legacy test-set tuning); existing ones were `tune`."""
    db.execute("ALTER TABLE decisions RENAME TO decisions_v1")
    db.execute(next(s for s in _SCHEMA.split(";") if "TABLE IF NOT EXISTS decisions" in s))
    old = [c for c in _DECISION_COLUMNS if c != "phase"]
    db.execute(f"INSERT INTO decisions ({', '.join(old)}, phase) "
               f"SELECT {', '.join(old)}, 'tune' FROM decisions_v1")
    db.execute("DROP TABLE decisions_v1")


# Version N -> N+1 upgrade functions, applied in order inside one transaction.
_MIGRATIONS: dict[int, Any] = {1: _v1_to_v2}

_RUN_COLUMNS = (
    "run_key", "suite", "suite_version", "scenario", "phase", "submission", "submission_hash",
    "hparams", "seed", "trial", "study", "status", "reason", "wall_time_s", "started_at",
    "finished_at", "hardware", "hardware_class", "dataset_fingerprints", "harness_version",
)


_RECOVERY = ("move it aside and re-import your exported bundles with `harness results import` "
             "(export them regularly with `harness results export`)")


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """What a SQLite error on the store at `path` means for the user, and what to do."""
    text = str(exc)
    if "disk is full" in text or "disk I/O error" in text:
        return StoreError(f"results store {path}: the disk is full or failing ({text}); every "
                          "finished run is kept: free space and re-run the same command to resume")
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError) \
            or "malformed" in text or "not a database" in text:
        return StoreError(f"results store {path} is damaged ({text}); {_RECOVERY}")
    return StoreError(f"results store {path}: {type(exc).__name__}: {text}")


def _guarded(method: Callable) -> Callable:
    """Turn SQLite errors raised by a `Store` method (or generator) into `StoreError`s."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self, *args, **kwargs):
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error(self.path, exc) from exc
        return generator

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from exc
    return wrapper


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def hardware_class(hardware: dict[str, Any]) -> str:
    """The part of a hardware fingerprint that time-based scores must agree on: the CPU model,
    and for a run on a CUDA device the GPU model and count. A CPU run's GPUs are left out: they
    do not set its speed, and a sandboxed CPU run cannot see them (no /dev/nvidia*), so a
    campaign resumed with or without the sandbox would otherwise split into two classes."""
    fields = {k: hardware.get(k) for k in ("cpu_model", "gpu_model", "gpu_count")}
    device = hardware.get("device")
    if device is not None and not str(device).startswith("cuda"):
        fields.update(gpu_model=None, gpu_count=0)
    return canonical_json(fields)


@dataclass(frozen=True)
class Decision:
    """A tuning decision: the configuration the protocol fixed for evaluation."""

    suite: str
    suite_version: str
    scenario: str
    submission: str
    submission_hash: str
    chosen_hparams: dict[str, Any]
    chosen_run_key: str
    metric_name: str
    metric_value: float
    trial_keys: tuple[str, ...]
    decided_at: str = ""
    phase: str = "tune"


class Store:
    """Read and write results. Open with `Store(path)`; use as a context manager to close."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of results store {self.path}: "
                             f"{exc.strerror or exc}; pass --store PATH in a folder you can "
                             "write") from None
        if self.path.is_dir():
            raise StoreError(f"results store {self.path} is a folder; pass --store FILE")
        try:
            self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open results store {self.path}: {exc}. If the file is "
                             f"corrupted, {_RECOVERY}.") from exc

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers queue instead
        # of failing half-way.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _init_schema(self) -> None:
        with self._transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                return
            version = int(row[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"results store {self.path} has schema version {version}, newer than this "
                    f"harness understands ({SCHEMA_VERSION}). Upgrade harness to read it."
                )
            for from_version in range(version, SCHEMA_VERSION):
                _MIGRATIONS[from_version](db)
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
            )

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    # ----------------------------------------------------------------------------- writing

    @_guarded
    def write_run(self, result: RunResult) -> None:
        """Write one run with its metrics and curves atomically, replacing an older record."""
        with self._transaction() as db:
            self._insert_run(db, result, replace=True)

    def _insert_run(self, db: sqlite3.Connection, result: RunResult, replace: bool) -> bool:
        spec = result.spec
        key = spec.key
        if not replace and db.execute(
            "SELECT 1 FROM runs WHERE run_key = ?", (key,)
        ).fetchone():
            return False
        db.execute("DELETE FROM runs WHERE run_key = ?", (key,))
        row = (
            key, spec.suite, spec.suite_version, spec.scenario, spec.phase.value,
            spec.submission, spec.submission_hash, canonical_json(spec.hparams), spec.seed,
            spec.trial, spec.study, result.status.value, result.reason, result.wall_time_s,
            result.started_at or utc_now(), result.finished_at or utc_now(),
            canonical_json(result.hardware), hardware_class(result.hardware),
            canonical_json(result.dataset_fingerprints), result.harness_version,
        )
        db.execute(
            f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_RUN_COLUMNS))})",
            row,
        )
        db.executemany(
            "INSERT INTO metrics (run_key, name, value) VALUES (?, ?, ?)",
            # NaN is "undefined" (SQLite would store NULL and refuse the row): not stored
            [(key, name, float(value)) for name, value in sorted(result.metrics.items())
             if not math.isnan(float(value))],
        )
        db.executemany(
            "INSERT INTO curves (run_key, name, value) VALUES (?, ?, ?)",
            [(key, name, canonical_json(value)) for name, value in sorted(result.curves.items())],
        )
        return True

    @_guarded
    def write_decision(self, decision: Decision) -> None:
        with self._transaction() as db:
            self._insert_decision(db, decision)

    def _insert_decision(self, db: sqlite3.Connection, decision: Decision) -> None:
        db.execute(
            f"INSERT OR REPLACE INTO decisions ({', '.join(_DECISION_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_DECISION_COLUMNS))})",
            (
                decision.suite, decision.suite_version, decision.scenario,
                decision.submission, decision.submission_hash, decision.phase,
                canonical_json(decision.chosen_hparams), decision.chosen_run_key,
                decision.metric_name, decision.metric_value,
                canonical_json(list(decision.trial_keys)), decision.decided_at or utc_now(),
            ),
        )

    def _import_decision(self, db: sqlite3.Connection, decision: Decision) -> None:
        """Keep the later of the stored and the imported decision of one protocol step."""
        row = db.execute(
            "SELECT decided_at FROM decisions WHERE suite = ? AND suite_version = ? AND "
            "scenario = ? AND submission_hash = ? AND phase = ?",
            (decision.suite, decision.suite_version, decision.scenario,
             decision.submission_hash, decision.phase),
        ).fetchone()
        if row is None or decision.decided_at > row[0]:
            self._insert_decision(db, decision)

    @_guarded
    def write_submission(self, name: str, submission_hash: str, metadata: dict[str, Any]) -> None:
        """Record a submission folder version (kept once per content hash)."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO submissions VALUES (?, ?, ?, ?)",
                (submission_hash, name, canonical_json(metadata), utc_now()),
            )

    @_guarded
    def write_suite_file(self, name: str, version: str, text: str) -> None:
        """Keep the text of the suite file a campaign ran (in `meta`, one per suite version),
        so the site can score its runs without the file: a suite given by path is not in
        `suites/`, and its targets and held-out variants are in nothing else."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                       (f"suite-file:{name}:{version}", text))

    @_guarded
    def suite_files(self) -> dict[tuple[str, str], str]:
        """(suite, version) -> the suite file's text, for every suite file kept."""
        rows = self._db.execute("SELECT key, value FROM meta WHERE key LIKE 'suite-file:%'")
        # the version is hex, the name may hold a colon: split at the last one
        return {tuple(key.removeprefix("suite-file:").rsplit(":", 1)): text  # type: ignore[misc]
                for key, text in rows}

    # ----------------------------------------------------------------------------- reading

    @_guarded
    def submissions(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """(name, metadata) of every recorded submission version, by content hash."""
        rows = self._db.execute("SELECT submission_hash, name, metadata FROM submissions")
        return {h: (name, json.loads(meta)) for h, name, meta in rows}

    @_guarded
    def statuses(self, keys: Iterable[str] | None = None) -> dict[str, RunStatus]:
        """Status of stored runs by key (all runs, or only `keys`)."""
        rows = self._db.execute("SELECT run_key, status FROM runs").fetchall()
        wanted = None if keys is None else set(keys)
        return {k: RunStatus(s) for k, s in rows if wanted is None or k in wanted}

    @_guarded
    def get_run(self, key: str) -> RunResult:
        row = self._db.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE run_key = ?", (key,)
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return self._result_from_row(dict(zip(_RUN_COLUMNS, row, strict=True)))

    def _result_from_row(self, row: dict[str, Any]) -> RunResult:
        key = row["run_key"]
        metrics = dict(
            self._db.execute("SELECT name, value FROM metrics WHERE run_key = ?", (key,))
        )
        curves = {
            name: json.loads(value)
            for name, value in self._db.execute(
                "SELECT name, value FROM curves WHERE run_key = ?", (key,)
            )
        }
        spec = RunSpec.from_identity(
            {
                "suite": row["suite"], "suite_version": row["suite_version"],
                "scenario": row["scenario"], "phase": row["phase"],
                "submission": row["submission"], "submission_hash": row["submission_hash"],
                "hparams": json.loads(row["hparams"]), "seed": row["seed"],
                "trial": row["trial"], "study": row["study"],
            }
        )
        return RunResult(
            spec=spec, status=RunStatus(row["status"]), metrics=metrics, curves=curves,
            reason=row["reason"], wall_time_s=row["wall_time_s"],
            started_at=row["started_at"], finished_at=row["finished_at"],
            hardware=json.loads(row["hardware"]),
            dataset_fingerprints=json.loads(row["dataset_fingerprints"]),
            harness_version=row["harness_version"],
        )

    @_guarded
    def iter_runs(self) -> Iterator[RunResult]:
        rows = self._db.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs ORDER BY run_key"
        ).fetchall()
        for row in rows:
            yield self._result_from_row(dict(zip(_RUN_COLUMNS, row, strict=True)))

    @_guarded
    def runs_frame(self) -> pd.DataFrame:
        """One row per run: the `runs` columns plus one ``metric.<name>`` column per metric.

        `hparams`, `hardware` and `dataset_fingerprints` stay JSON strings.
        """
        runs = pd.read_sql_query(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs", self._db)
        # The class by today's rule (`hardware_class`), not the one stored when the run was
        # written: rows of one machine written before and after a change of the rule agree.
        classes = {raw: hardware_class(json.loads(raw)) for raw in runs["hardware"].unique()}
        runs["hardware_class"] = runs["hardware"].map(classes)
        metrics = pd.read_sql_query("SELECT run_key, name, value FROM metrics", self._db)
        if not metrics.empty:
            wide = metrics.pivot(index="run_key", columns="name", values="value")
            wide.columns = [f"metric.{c}" for c in wide.columns]
            runs = runs.merge(wide, left_on="run_key", right_index=True, how="left")
        return runs.sort_values(["suite", "scenario", "phase", "submission", "seed", "trial"])

    @_guarded
    def curves_for(self, name: str) -> dict[str, Any]:
        """Curve `name` of every run that has it, by run key."""
        rows = self._db.execute("SELECT run_key, value FROM curves WHERE name = ?", (name,))
        return {key: json.loads(value) for key, value in rows}

    @_guarded
    def decisions(self) -> list[Decision]:
        rows = self._db.execute(
            "SELECT suite, suite_version, scenario, submission, submission_hash, chosen_hparams,"
            " chosen_run_key, metric_name, metric_value, trial_keys, decided_at, phase"
            " FROM decisions ORDER BY suite, scenario, submission, phase"
        ).fetchall()
        return [
            Decision(
                suite=r[0], suite_version=r[1], scenario=r[2], submission=r[3],
                submission_hash=r[4], chosen_hparams=json.loads(r[5]), chosen_run_key=r[6],
                metric_name=r[7], metric_value=r[8], trial_keys=tuple(json.loads(r[9])),
                decided_at=r[10], phase=r[11],
            )
            for r in rows
        ]

    @_guarded
    def import_results(
        self, results: Iterable[RunResult], *, decisions: Iterable[Decision] = (),
        submissions: Iterable[tuple[str, str, dict[str, Any], str]] = (),
    ) -> int:
        """Insert runs whose keys are not stored yet, in one transaction with the tuning
        decisions (the later of two for one protocol step wins) and the submission versions
        (name, hash, metadata, first seen; kept once per hash). Idempotent; returns how many
        runs were new."""
        with self._transaction() as db:
            new = sum(self._insert_run(db, r, replace=False) for r in results)
            for decision in decisions:
                self._import_decision(db, decision)
            db.executemany(
                "INSERT OR IGNORE INTO submissions VALUES (?, ?, ?, ?)",
                [(digest, name, canonical_json(meta), seen)
                 for name, digest, meta, seen in submissions],
            )
            return new

    @_guarded
    def submission_records(self) -> list[tuple[str, str, dict[str, Any], str]]:
        """Every submission version as (name, hash, metadata, first seen), for export."""
        rows = self._db.execute("SELECT name, submission_hash, metadata, first_seen FROM "
                                "submissions ORDER BY submission_hash").fetchall()
        return [(name, digest, json.loads(meta), seen) for name, digest, meta, seen in rows]
