import json

import pytest

from harness.bundle import export_bundle, import_bundle, read_bundle
from harness.cli import main
from harness.errors import UserError
from harness.runner.result import RunStatus
from harness.store import Store
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
