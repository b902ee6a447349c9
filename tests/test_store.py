import dataclasses
import sqlite3

import pytest

from harness.errors import StoreError
from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec
from harness.store import SCHEMA_VERSION, Decision, Store


def make_spec(seed=0, **overrides):
    fields = dict(suite="s", suite_version="v1", scenario="class", phase=Phase.EVALUATE,
                  submission="naive", submission_hash="h1", hparams={"lr": 0.01}, seed=seed)
    fields.update(overrides)
    return RunSpec(**fields)


def make_result(seed=0, acc=0.5, status=RunStatus.OK, **overrides):
    return RunResult(spec=make_spec(seed, **overrides), status=status,
                     metrics={"final_avg_acc": acc} if status is RunStatus.OK else {},
                     curves={"accuracy_matrix": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]},
                     reason="" if status is RunStatus.OK else "boom",
                     hardware={"cpu_model": "x", "gpu_count": 0})


def test_run_key_is_deterministic_and_sensitive_to_every_identity_field():
    base = make_spec()
    assert base.key == make_spec().key
    variants = [make_spec(seed=1), make_spec(hparams={"lr": 0.02}), make_spec(scenario="task"),
                make_spec(submission_hash="h2"), make_spec(suite_version="v2"),
                make_spec(phase=Phase.TUNE), make_spec(trial=3)]
    assert len({v.key for v in variants} | {base.key}) == len(variants) + 1
    # Key does not depend on dict insertion order.
    assert make_spec(hparams={"a": 1, "b": 2}).key == make_spec(hparams={"b": 2, "a": 1}).key


def test_write_and_read_back_a_run_with_metrics_and_curves(tmp_path):
    with Store(tmp_path / "r.db") as store:
        result = make_result(acc=0.75)
        store.write_run(result)
        back = store.get_run(result.spec.key)
    assert back.spec == result.spec
    assert back.metrics == {"final_avg_acc": 0.75}
    assert back.curves["accuracy_matrix"][2] == [0.5, 0.9]
    assert back.hardware["cpu_model"] == "x"


def test_rewriting_a_key_replaces_it_without_duplicates(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store.write_run(make_result(acc=0.1))
        store.write_run(make_result(acc=0.2))
        frame = store.runs_frame()
    assert len(frame) == 1
    assert frame["metric.final_avg_acc"].iloc[0] == 0.2


def test_store_uses_wal_and_records_schema_version(tmp_path):
    with Store(tmp_path / "r.db") as store:
        assert store.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "r.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    Store(tmp_path / "r.db").close()
    db = sqlite3.connect(tmp_path / "r.db")
    db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this harness"):
        Store(tmp_path / "r.db")


def test_corrupted_file_gives_store_error_with_recovery_hint(tmp_path):
    path = tmp_path / "r.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="harness results import"):
        Store(path)


def test_failed_write_leaves_no_partial_run(tmp_path):
    class Unserializable:
        pass

    bad = RunResult(spec=make_spec(), status=RunStatus.OK, metrics={"a": 1.0},
                    curves={"c": Unserializable()})
    with Store(tmp_path / "r.db") as store:
        with pytest.raises(TypeError):
            store.write_run(bad)
        assert store.statuses() == {}
        assert store.runs_frame().empty


def test_statuses_import_and_decisions(tmp_path):
    with Store(tmp_path / "r.db") as store:
        ok, failed = make_result(seed=0), make_result(seed=1, status=RunStatus.FAILED)
        store.write_run(ok)
        assert store.import_results([ok, failed]) == 1  # ok already stored: idempotent
        assert store.statuses() == {ok.spec.key: RunStatus.OK, failed.spec.key: RunStatus.FAILED}
        assert store.get_run(failed.spec.key).reason == "boom"
        store.write_decision(Decision("s", "v1", "class", "naive", "h1", {"lr": 0.01},
                                      ok.spec.key, "final_avg_acc", 0.5, (ok.spec.key,)))
        [decision] = store.decisions()
    assert decision.chosen_hparams == {"lr": 0.01}
    assert decision.trial_keys == (ok.spec.key,)


def test_two_connections_write_concurrently(tmp_path):
    a, b = Store(tmp_path / "r.db"), Store(tmp_path / "r.db")
    for seed in range(10):
        (a if seed % 2 else b).write_run(make_result(seed=seed))
    assert len(a.statuses()) == 10
    a.close()
    b.close()


V1_DECISIONS = """
CREATE TABLE decisions (
    suite TEXT NOT NULL, suite_version TEXT NOT NULL, scenario TEXT NOT NULL,
    submission TEXT NOT NULL, submission_hash TEXT NOT NULL,
    chosen_hparams TEXT NOT NULL, chosen_run_key TEXT NOT NULL,
    metric_name TEXT NOT NULL, metric_value REAL NOT NULL,
    trial_keys TEXT NOT NULL, decided_at TEXT NOT NULL,
    PRIMARY KEY (suite, suite_version, scenario, submission_hash)
)"""


def test_a_version_1_store_is_migrated_in_place_keeping_its_decisions(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute(V1_DECISIONS)
    db.execute("INSERT INTO decisions VALUES ('s', 'v1', 'class', 'naive', 'h1', '{\"lr\":0.1}',"
               " 'k', 'final_avg_acc', 0.5, '[\"k\"]', '2026-01-01')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        [decision] = store.decisions()
        assert decision.phase == "tune" and decision.chosen_hparams == {"lr": 0.1}
        # The new key admits a legacy decision beside the fair one.
        store.write_decision(Decision("s", "v1", "class", "naive", "h1", {"lr": 0.2}, "k2",
                                      "final_avg_acc", 0.6, ("k2",), phase="legacy-tune"))
        assert sorted(d.phase for d in store.decisions()) == ["legacy-tune", "tune"]


def test_an_undefined_metric_is_left_out_instead_of_failing_the_write(tmp_path):
    """SQLite stores NaN as NULL, which the metrics table refuses: the whole run (and the
    campaign writing it) would fail with a misleading 'store damaged' message."""
    import math

    result = make_result(seed=0, acc=0.5)
    result = dataclasses.replace(result, metrics={**result.metrics, "fwt": math.nan,
                                                  "time_to_target_s": math.inf})
    with Store(tmp_path / "r.db") as store:
        store.write_run(result)
        back = store.get_run(result.spec.key)
    assert "fwt" not in back.metrics and back.metrics["time_to_target_s"] == math.inf
    assert back.metrics["final_avg_acc"] == 0.5


def test_the_runs_frame_classes_hardware_by_the_current_rule(tmp_path):
    """A run's class was stored when it was written; after the rule changed (a CPU run's GPUs
    left out), old and new rows of one machine must still share a class on the site."""
    machine = {"cpu_model": "Xeon", "gpu_model": "H100", "gpu_count": 1, "device": "cpu"}
    with Store(tmp_path / "r.db") as store:
        store.write_run(dataclasses.replace(make_result(seed=0), hardware=machine))
        store.write_run(dataclasses.replace(make_result(seed=1), hardware={
            **machine, "gpu_model": None, "gpu_count": 0}))
        store._db.execute("UPDATE runs SET hardware_class = 'old rule' WHERE seed = 0")
        frame = store.runs_frame()
    assert frame["hardware_class"].nunique() == 1
