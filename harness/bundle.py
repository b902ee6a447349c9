"""Results bundles: moving runs between machines as JSONL with checksums (DESIGN §8).

Line 1 is a header (`format`, `schema_version`, `harness_version`, `runs`); each further line is
one run (identity, status, metrics, curves, timing, hardware) with the sha256 of its canonical
JSON. Importing verifies every checksum and the run count before writing anything, then inserts
only runs whose key is not stored yet, so importing the same bundle twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import UserError
from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import RunSpec, canonical_json
from harness.store import SCHEMA_VERSION, Store

FORMAT = "harness-results"


def run_to_record(result: RunResult) -> dict[str, Any]:
    return {
        "run_key": result.spec.key, "identity": result.spec.identity(),
        "status": result.status.value, "reason": result.reason, "metrics": result.metrics,
        "curves": result.curves, "wall_time_s": result.wall_time_s,
        "started_at": result.started_at, "finished_at": result.finished_at,
        "hardware": result.hardware, "dataset_fingerprints": result.dataset_fingerprints,
        "harness_version": result.harness_version,
    }


_NUMBER = (int, float)
# The type every field of a run record must have (bool is an int to Python: refused apart).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "reason": (str,), "metrics": (dict,), "curves": (dict,), "wall_time_s": _NUMBER,
    "started_at": (str,), "finished_at": (str,), "hardware": (dict,),
    "dataset_fingerprints": (dict,), "harness_version": (str,),
}


def _check_types(record: dict[str, Any]) -> None:
    """Refuse a record whose fields have the wrong types, before anything reaches the store."""
    if not isinstance(record, dict):
        raise TypeError("a run record must be a JSON object")
    for name, types in _FIELD_TYPES.items():
        value = record[name]
        if not isinstance(value, types) or isinstance(value, bool):
            raise TypeError(f"field {name!r} must be {' or '.join(t.__name__ for t in types)}, "
                            f"not {type(value).__name__}")
    for name, value in record["metrics"].items():
        if not isinstance(value, _NUMBER) or isinstance(value, bool):
            raise TypeError(f"metric {name!r} must be a number, not {type(value).__name__}")
    for name, value in record["dataset_fingerprints"].items():
        if not isinstance(value, str):
            raise TypeError(f"dataset fingerprint {name!r} must be a string")


def record_to_run(record: dict[str, Any]) -> RunResult:
    """The run a bundle record describes; KeyError/TypeError/ValueError if it is malformed."""
    _check_types(record)
    spec = RunSpec.from_identity(record["identity"])
    if spec.key != record["run_key"]:
        raise ValueError("run_key does not match the run's identity")
    fields = {k: record[k] for k in _FIELD_TYPES}
    return RunResult(spec=spec, status=RunStatus(record["status"]), **fields)


def export_bundle(store: Store, path: Path) -> int:
    """Write every stored run to `path` (atomically); return the number of runs."""
    records = [run_to_record(r) for r in store.iter_runs()]
    lines = [canonical_json({"format": FORMAT, "schema_version": SCHEMA_VERSION,
                             "harness_version": __version__, "runs": len(records)})]
    for record in records:
        body = canonical_json(record)
        lines.append(canonical_json({"run": record,
                                     "sha256": hashlib.sha256(body.encode()).hexdigest()}))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return len(records)


def read_bundle(path: Path) -> list[RunResult]:
    """Parse and verify a bundle; any damage raises UserError naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read results bundle {path}: {exc}") from exc
    header = _parse_line(path, 1, lines[0] if lines else "")
    if header.get("format") != FORMAT:
        raise UserError(f"{path}: not a harness results bundle (no '{FORMAT}' header)")
    if header.get("schema_version", 0) > SCHEMA_VERSION:
        raise UserError(f"{path}: written by a newer harness (schema "
                        f"{header['schema_version']}); upgrade harness to import it")
    runs = []
    for number, line in enumerate(lines[1:], start=2):
        entry = _parse_line(path, number, line)
        record = entry.get("run")
        try:
            digest = hashlib.sha256(canonical_json(record).encode()).hexdigest()
        except ValueError:  # NaN or infinity: no record the harness writes holds one
            digest = None
        if digest is None or digest != entry.get("sha256"):
            raise UserError(f"{path}:{number}: checksum mismatch: the bundle was modified or "
                            "damaged; re-export it from the source store")
        try:
            runs.append(record_to_run(record))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise UserError(f"{path}:{number}: malformed run record: {exc}") from exc
    if len(runs) != header.get("runs"):
        raise UserError(f"{path}: bundle is truncated: header says {header.get('runs')} runs, "
                        f"found {len(runs)}; re-export it")
    return runs


def _parse_line(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{number}: invalid JSON ({exc.msg}); the bundle is damaged or "
                        "truncated") from exc
    if not isinstance(value, dict):
        raise UserError(f"{path}:{number}: expected a JSON object")
    return value


def import_bundle(store: Store, path: Path) -> tuple[int, int]:
    """Verify the bundle, then insert its new runs; return (new, already present)."""
    runs = read_bundle(path)
    new = store.import_results(runs)
    return new, len(runs) - new
