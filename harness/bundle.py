"""Results bundles: moving results between machines as JSONL with checksums (DESIGN §8).

Line 1 is a header (`format`, `schema_version`, `harness_version` and the counts `runs`,
`decisions`, `submissions`, `suite_files`); each further line is one record with the sha256 of
its canonical JSON: a run (identity, status, metrics, curves, timing, hardware), a tuning
decision (which configuration the protocol chose, so a restored store evaluates and shows the
same one), a submission version (name, hash, submission.toml metadata: "not continual"
reference methods stay references), or a suite file a time-to-result campaign ran (its
targets and held-out variants, for scoring on the site). Importing verifies every checksum
and count before writing anything, then inserts what is new, so importing the same bundle
twice changes nothing. Bundles written
before decisions and submissions were exported (no counts in the header) import their runs.

JSON has no infinity, and a time-to-result run that misses its target stores `inf`: a
non-finite number is written as ``{"nonfinite": "inf"}`` (or "-inf", "nan") and read back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import UserError
from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import RunSpec, canonical_json
from harness.store import Decision, Store

FORMAT = "harness-results"
# The bundle's format version, in the header's `schema_version` field (which held the store's
# schema version, 1 and 2, before): 3 adds decision and submission lines and encoded
# non-finite numbers, so a harness that cannot read them says "written by a newer harness";
# 4 adds suite_file lines.
BUNDLE_VERSION = 4


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


_KINDS = ("run", "decision", "submission", "suite_file")
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _encode(value: Any) -> Any:
    """`value` with every non-finite float replaced by ``{"nonfinite": "inf"}`` etc."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"nonfinite": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and value.get("nonfinite") in _NONFINITE:
            return _NONFINITE[value["nonfinite"]]
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def export_bundle(store: Store, path: Path) -> int:
    """Write every stored run, decision and submission version to `path` (atomically);
    return the number of runs."""
    records = {
        "run": [run_to_record(r) for r in store.iter_runs()],
        "decision": [dataclasses.asdict(d) for d in store.decisions()],
        "submission": [dict(zip(("name", "submission_hash", "metadata", "first_seen"), row,
                                strict=True)) for row in store.submission_records()],
        "suite_file": [{"suite": suite, "version": version, "text": text}
                       for (suite, version), text in sorted(store.suite_files().items())],
    }
    header = {"format": FORMAT, "schema_version": BUNDLE_VERSION,
              "harness_version": __version__}
    lines = [canonical_json(header | {f"{kind}s": len(records[kind]) for kind in _KINDS})]
    for kind in _KINDS:
        for record in records[kind]:
            encoded = _encode(record)
            digest = hashlib.sha256(canonical_json(encoded).encode()).hexdigest()
            lines.append(canonical_json({kind: encoded, "sha256": digest}))
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except IsADirectoryError:
        raise UserError(f"cannot write the bundle: {tmp} is a folder; pass --out FILE") from None
    except FileNotFoundError:
        raise UserError(f"cannot write the bundle: the folder {path.parent} does not "
                        "exist") from None
    if path.is_dir():
        tmp.unlink()
        raise UserError(f"cannot write the bundle: {path} is a folder; pass --out FILE")
    tmp.replace(path)
    return len(records["run"])


def read_bundle(path: Path) -> Bundle:
    """Parse and verify a bundle; any damage raises UserError naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read results bundle {path}: {exc}") from exc
    header = _parse_line(path, 1, lines[0] if lines else "")
    if header.get("format") != FORMAT:
        raise UserError(f"{path}: not a harness results bundle (no '{FORMAT}' header)")
    version = header.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise UserError(f"{path}:1: the header's schema_version must be a whole number")
    if version > BUNDLE_VERSION:
        raise UserError(f"{path}: written by a newer harness (schema {version}); upgrade "
                        "harness to import it")
    found: dict[str, list] = {kind: [] for kind in _KINDS}
    for number, line in enumerate(lines[1:], start=2):
        entry = _parse_line(path, number, line)
        kind = next((k for k in _KINDS if k in entry), "run")
        record = entry.get(kind)
        try:
            digest = hashlib.sha256(canonical_json(record).encode()).hexdigest()
        except ValueError:  # a raw NaN or infinity: the harness writes them encoded
            digest = None
        if digest is None or digest != entry.get("sha256"):
            raise UserError(f"{path}:{number}: checksum mismatch: the bundle was modified or "
                            "damaged; re-export it from the source store")
        try:
            found[kind].append(_READERS[kind](_decode(record)))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise UserError(f"{path}:{number}: malformed {kind} record: {exc}") from exc
    for kind in _KINDS:
        expected = header.get(f"{kind}s", 0 if kind != "run" else None)
        if len(found[kind]) != expected:
            raise UserError(f"{path}: bundle is truncated: header says {expected} {kind}s, "
                            f"found {len(found[kind])}; re-export it")
    return Bundle(found["run"], found["decision"], found["submission"], found["suite_file"])


@dataclasses.dataclass(frozen=True)
class Bundle:
    """What a verified bundle holds (see the module docstring)."""

    runs: list[RunResult]
    decisions: list[Decision]
    submissions: list[tuple[str, str, dict[str, Any], str]]
    suite_files: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)


def _record_to_decision(record: dict[str, Any]) -> Decision:
    texts = ("suite", "suite_version", "scenario", "submission", "submission_hash",
             "chosen_run_key", "metric_name", "decided_at", "phase")
    if not isinstance(record, dict) or not all(isinstance(record[k], str) for k in texts):
        raise TypeError(f"fields {', '.join(texts)} must be strings")
    if not isinstance(record["chosen_hparams"], dict):
        raise TypeError("chosen_hparams must be an object")
    value = record["metric_value"]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError("metric_value must be a number")
    keys = record["trial_keys"]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise TypeError("trial_keys must be a list of strings")
    return Decision(**{k: record[k] for k in texts}, chosen_hparams=record["chosen_hparams"],
                    metric_value=float(value), trial_keys=tuple(keys))


def _record_to_submission(record: dict[str, Any]) -> tuple[str, str, dict[str, Any], str]:
    fields = ("name", "submission_hash", "metadata", "first_seen")
    row = tuple(record[k] for k in fields)
    if not (isinstance(row[0], str) and isinstance(row[1], str) and isinstance(row[2], dict)
            and isinstance(row[3], str)):
        raise TypeError("name, submission_hash and first_seen must be strings, metadata an "
                        "object")
    return row  # type: ignore[return-value]


def _record_to_suite_file(record: dict[str, Any]) -> tuple[str, str, str]:
    row = tuple(record[k] for k in ("suite", "version", "text"))
    if not all(isinstance(v, str) for v in row):
        raise TypeError("suite, version and text must be strings")
    return row  # type: ignore[return-value]


_READERS = {"run": record_to_run, "decision": _record_to_decision,
            "submission": _record_to_submission, "suite_file": _record_to_suite_file}


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
    """Verify the bundle, then insert what is new; return runs (new, already present)."""
    bundle = read_bundle(path)
    new = store.import_results(bundle.runs, decisions=bundle.decisions,
                               submissions=bundle.submissions)
    for suite, version, text in bundle.suite_files:
        store.write_suite_file(suite, version, text)
    return new, len(bundle.runs) - new
