"""Fuzzed results bundles: each imports or fails with a UserError, and a failure writes nothing.

Three kinds of damage: the text (truncated, characters changed), the lines (dropped,
duplicated, swapped, header fields changed), and the records themselves with their checksums
recomputed — what a buggy exporter or a hand edit that "fixes" the checksum produces, so the
record validation, not the checksum, has to catch it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.bundle import export_bundle, import_bundle
from harness.cli import main
from harness.errors import UserError
from harness.runner.result import RunStatus
from harness.runner.spec import canonical_json
from harness.store import Store
from tests.fuzz.strategies import VALUES, damaged_text
from tests.test_store import make_result

FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def _valid_lines() -> list[str]:
    with tempfile.TemporaryDirectory() as root, Store(Path(root) / "s.db") as store:
        store.write_run(make_result(seed=0, acc=0.25))
        store.write_run(make_result(seed=1, acc=0.75))
        store.write_run(make_result(seed=2, status=RunStatus.FAILED))
        export_bundle(store, Path(root) / "b.jsonl")
        return (Path(root) / "b.jsonl").read_text().splitlines()


VALID = _valid_lines()
# Where a record's fields sit, for mutations that keep the JSON valid.
RECORD_PATHS = [("run_key",), ("identity",), ("identity", "seed"), ("identity", "phase"),
                ("identity", "hparams"), ("identity", "suite"), ("status",), ("reason",),
                ("metrics",), ("metrics", "final_avg_acc"), ("curves",),
                ("curves", "accuracy_matrix"), ("wall_time_s",), ("hardware",),
                ("dataset_fingerprints",), ("harness_version",), ("started_at",)]


def with_checksum(record) -> str:
    body = canonical_json(record) if _json_ok(record) else json.dumps(record)
    return json.dumps({"run": record, "sha256": hashlib.sha256(body.encode()).hexdigest()})


def _json_ok(value) -> bool:
    try:
        canonical_json(value)
    except ValueError:
        return False
    return True


@st.composite
def edited_record(draw):
    """A run line whose record has one field replaced (or removed), checksum recomputed."""
    number = draw(st.integers(1, len(VALID) - 1))
    record = json.loads(VALID[number])["run"]
    path = draw(st.sampled_from(RECORD_PATHS))
    parent = record
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = draw(VALUES)
    lines = list(VALID)
    lines[number] = with_checksum(record)
    return lines


@st.composite
def edited_lines(draw):
    lines = list(VALID)
    kind = draw(st.sampled_from(["drop", "duplicate", "swap", "header", "damage"]))
    at = draw(st.integers(0, len(lines) - 1))
    if kind == "drop":
        del lines[at]
    elif kind == "duplicate":
        lines.insert(at, lines[at])
    elif kind == "swap":
        other = draw(st.integers(0, len(lines) - 1))
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == "header":
        header = json.loads(lines[0])
        header[draw(st.sampled_from(["format", "schema_version", "runs", "harness_version"]))] \
            = draw(VALUES)
        lines[0] = json.dumps(header)
    else:
        lines[at] = draw(damaged_text(lines[at]))
    return lines


BUNDLES = st.one_of(edited_lines(), edited_record(),
                    damaged_text("\n".join(VALID) + "\n").map(lambda t: t.splitlines()))




def import_or_refuse(lines: list[str]) -> None:
    """Import into a store holding one other run: all new runs land, or none and a UserError."""
    root = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        bundle = root / "b.jsonl"
        bundle.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        with Store(root / "t.db") as store:
            store.write_run(make_result(seed=99))
            before = store.statuses()
            try:
                new, _ = import_bundle(store, bundle)
            except UserError:
                assert store.statuses() == before  # nothing written
                _assert_cli_refuses(bundle, root / "t.db")
                return
            after = store.statuses()
            assert len(after) == len(before) + new
            assert [r.spec.key for r in store.iter_runs()] == sorted(after)  # all read back
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _assert_cli_refuses(bundle: Path, db: Path) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["results", "import", str(bundle), "--store", str(db)])
    assert code == 2 and "Traceback" not in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) == 1, err.getvalue()


@FUZZ
@given(st.one_of(edited_lines(),
                 damaged_text("\n".join(VALID) + "\n").map(lambda t: t.splitlines())))
def test_damaged_or_rearranged_bundles_import_or_are_refused_whole(lines):
    import_or_refuse(lines)


@FUZZ
@given(edited_record())
def test_records_with_recomputed_checksums_import_or_are_refused_whole(lines):
    import_or_refuse(lines)


def _with_field(field: str, value) -> list[str]:
    record = json.loads(VALID[1])["run"]
    record[field] = value
    return [VALID[0], with_checksum(record), *VALID[2:]]


@pytest.mark.parametrize("field, value", [("metrics", []), ("reason", []),
                                          ("metrics", {"final_avg_acc": "high"}),
                                          ("hardware", "x86")])
def test_wrongly_typed_records_are_user_errors(field, value):
    import_or_refuse(_with_field(field, value))
