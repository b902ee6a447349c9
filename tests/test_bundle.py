import dataclasses
import json
import math

import pytest

from harness.bundle import export_bundle, import_bundle, read_bundle
from harness.cli import main
from harness.errors import UserError
from harness.runner.result import RunStatus
from harness.store import Decision, Store
from tests.test_store import make_result


@pytest.fixture
def source(tmp_path):
    store = Store(tmp_path / "source.db")
    store.write_run(make_result(seed=0, acc=0.25))
    store.write_run(make_result(seed=1, acc=0.75))
    store.write_run(make_result(seed=2, status=RunStatus.FAILED))
    yield store
    store.close()


def test_export_then_import_round_trips_every_run(tmp_path, source):
    bundle = tmp_path / "b.jsonl"
    assert export_bundle(source, bundle) == 3
    with Store(tmp_path / "target.db") as target:
        assert import_bundle(target, bundle) == (3, 0)
        assert import_bundle(target, bundle) == (0, 3)  # idempotent
        for result in source.iter_runs():
            assert target.get_run(result.spec.key) == result


def test_tampered_bundle_is_refused_before_anything_is_written(tmp_path, source):
    bundle = tmp_path / "b.jsonl"
    export_bundle(source, bundle)
    lines = bundle.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["run"]["metrics"]["final_avg_acc"] = 0.99  # a better score, checksum unchanged
    lines[2] = json.dumps(entry)
    bundle.write_text("\n".join(lines) + "\n")
    with Store(tmp_path / "target.db") as target:
        with pytest.raises(UserError, match=r"b\.jsonl:3: checksum mismatch"):
            import_bundle(target, bundle)
        assert target.statuses() == {}


def test_truncated_bundle_is_refused(tmp_path, source):
    bundle = tmp_path / "b.jsonl"
    export_bundle(source, bundle)
    lines = bundle.read_text().splitlines()
    bundle.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(UserError, match="truncated: header says 3 runs, found 2"):
        read_bundle(bundle)
    bundle.write_text("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])
    with pytest.raises(UserError, match=r":3: invalid JSON"):
        read_bundle(bundle)


def test_results_cli_lists_exports_and_imports(tmp_path, source, capsys):
    db = str(tmp_path / "source.db")
    assert main(["results", "list", "--store", db, "--status", "failed"]) == 0
    out = capsys.readouterr().out
    assert "1 run(s)" in out and "boom" in out
    bundle = tmp_path / "out.jsonl"
    assert main(["results", "export", "--store", db, "--out", str(bundle)]) == 0
    target = str(tmp_path / "t.db")
    assert main(["results", "import", str(bundle), "--store", target]) == 0
    assert "imported 3 new run(s)" in capsys.readouterr().out
    assert main(["results", "list", "--store", str(tmp_path / "missing.db")]) == 2
    assert "run `harness evaluate` first" in capsys.readouterr().err


def test_a_missed_target_exports_and_imports_as_infinity(tmp_path, source):
    """A time-to-result run that misses its target stores time_to_target_s = inf, which JSON
    cannot write: the export used to fail with a traceback."""
    missed = make_result(seed=3, acc=0.5)
    missed = dataclasses.replace(missed, metrics={**missed.metrics, "time_to_target_s": math.inf,
                                                  "perplexity": -math.inf})
    source.write_run(missed)
    bundle = tmp_path / "b.jsonl"
    assert export_bundle(source, bundle) == 4
    assert "Infinity" not in bundle.read_text() and "NaN" not in bundle.read_text()
    with Store(tmp_path / "target.db") as target:
        assert import_bundle(target, bundle) == (4, 0)
        back = target.get_run(missed.spec.key)
    assert back.metrics["time_to_target_s"] == math.inf
    assert back.metrics["perplexity"] == -math.inf


def test_decisions_and_submissions_travel_with_the_runs(tmp_path, source):
    """A restored store must show the same leaderboard: which configuration tuning chose, and
    which methods are references ("not continual"), live outside the runs."""
    chosen = make_result(seed=0, acc=0.25)
    decision = Decision(
        suite=chosen.spec.suite, suite_version=chosen.spec.suite_version,
        scenario=chosen.spec.scenario, submission=chosen.spec.submission,
        submission_hash=chosen.spec.submission_hash, chosen_hparams={"lr": 0.1},
        chosen_run_key=chosen.spec.key, metric_name="final_avg_acc", metric_value=0.25,
        trial_keys=(chosen.spec.key,), decided_at="2025-01-02T00:00:00+00:00")
    source.write_decision(decision)
    source.write_submission(chosen.spec.submission, chosen.spec.submission_hash,
                            {"name": chosen.spec.submission, "continual": False})
    bundle = tmp_path / "b.jsonl"
    export_bundle(source, bundle)
    assert json.loads(bundle.read_text().splitlines()[0])["decisions"] == 1
    with Store(tmp_path / "target.db") as target:
        older = dataclasses.replace(decision, chosen_hparams={"lr": 9.0},
                                    decided_at="2025-01-01T00:00:00+00:00")
        target.write_decision(older)  # the bundle's decision is later: it wins
        import_bundle(target, bundle)
        import_bundle(target, bundle)  # idempotent
        assert target.decisions() == [decision]
        assert target.submissions() == source.submissions()
        newer = dataclasses.replace(decision, chosen_hparams={"lr": 0.2},
                                    decided_at="2025-01-03T00:00:00+00:00")
        target.write_decision(newer)
        import_bundle(target, bundle)  # an older decision never replaces a newer one
        assert target.decisions() == [newer]


def test_a_bundle_of_runs_only_still_imports(tmp_path, source):
    """Bundles exported before decisions and submissions were: a header with only `runs`."""
    bundle = tmp_path / "b.jsonl"
    export_bundle(source, bundle)
    lines = bundle.read_text().splitlines()
    header = json.loads(lines[0])
    del header["decisions"], header["submissions"]
    bundle.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    assert len(read_bundle(bundle).runs) == 3


def test_cli_mistakes_with_paths_are_one_line_errors(tmp_path, source, capsys):
    db = str(tmp_path / "source.db")
    (tmp_path / "file").write_text("")
    assert main(["results", "export", "--store", db, "--out", str(tmp_path)]) == 2
    assert f"{tmp_path} is a folder; pass --out FILE" in capsys.readouterr().err
    assert main(["results", "export", "--store", db,
                 "--out", str(tmp_path / "file" / "b.jsonl")]) == 2
    assert "cannot create the folder of" in capsys.readouterr().err
    assert main(["results", "import", str(tmp_path / "none.jsonl"),
                 "--store", str(tmp_path / "new.db")]) == 2
    assert "no results bundle at" in capsys.readouterr().err
    assert not (tmp_path / "new.db").exists()  # nothing created for a mistake
    assert main(["results", "list", "--store", str(tmp_path / "file" / "x.db")]) == 2
    assert main(["results", "import", str(tmp_path / "file"),
                 "--store", str(tmp_path / "file" / "x.db")]) == 2
    assert "cannot create the folder of results store" in capsys.readouterr().err
    bundle = tmp_path / "b.jsonl"
    export_bundle(source, bundle)
    lines = bundle.read_text().splitlines()
    lines[0] = lines[0].replace('"schema_version":', '"schema_version":"2",  "x":')
    bundle.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match="schema_version must be a whole number"):
        read_bundle(bundle)


def test_a_bundle_says_which_format_it_is_and_a_newer_one_is_refused_clearly(tmp_path, source):
    """Bundles with suite-file lines are format 4 (3 added decisions and encoded infinities): a
    harness that reads only older formats says 'written by a newer harness', not 'damaged'."""
    bundle = tmp_path / "b.jsonl"
    export_bundle(source, bundle)
    lines = bundle.read_text().splitlines()
    assert json.loads(lines[0])["schema_version"] == 4
    lines[0] = lines[0].replace('"schema_version":4', '"schema_version":5')
    bundle.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match="written by a newer harness"):
        read_bundle(bundle)


def test_results_list_shows_each_kind_of_runs_headline():
    """`harness results list` showed final_avg_acc only: empty for time-to-result runs."""
    from harness.cli.results import result_text

    assert result_text({"metric.final_avg_acc": 0.8123}) == "final_avg_acc 0.812"
    assert result_text({"metric.time_to_target_s": 2.034, "metric.best_metric": 0.9712}) == \
        "target at 2.03 s, best 0.9712"
    assert result_text({"metric.time_to_target_s": math.inf,
                        "metric.best_metric": float("nan")}) == "target not reached"
    assert result_text({"metric.avg_error": 0.7187}) == "avg_error 0.719"
    assert result_text({}) == ""


def test_the_suite_files_a_campaign_ran_travel_with_the_bundle(tmp_path, source):
    """The site scores a time-to-result suite given by path from the suite text the store
    kept; a restored store lost it and scored variants as base workloads."""
    source.write_suite_file("team:my-ttr", "abc123", 'name = "team:my-ttr"\n')
    bundle = tmp_path / "b.jsonl"
    export_bundle(source, bundle)
    with Store(tmp_path / "target.db") as target:
        import_bundle(target, bundle)
        import_bundle(target, bundle)  # idempotent
        # a name with a colon keeps it (the key is split at the last one)
        assert target.suite_files() == {("team:my-ttr", "abc123"): 'name = "team:my-ttr"\n'}
