"""The downloads of a NEVIS-like stream suite (`leaderboard.nevis_view`): its tables as CSV
and JSON, and every task's error in long format.

Same conventions as `leaderboard.tables`: full precision, missing values empty in CSV and
``null`` in JSON (written with `harness.stats.dumps`: sorted keys, non-finite numbers as null).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pandas as pd

from harness.runner.spec import canonical_json
from harness.stats import dumps
from harness.stats.cells import CellSummary
from leaderboard.nevis_view import NevisSuiteView


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _cell_fields(name: str, cell: CellSummary | None) -> dict[str, Any]:
    if cell is None:
        return {name: None, f"{name}_ci_low": None, f"{name}_ci_high": None, f"{name}_n": 0}
    return {name: cell.mean, f"{name}_ci_low": _finite(cell.ci_low),
            f"{name}_ci_high": _finite(cell.ci_high), f"{name}_n": cell.n}


def nevis_records(view: NevisSuiteView) -> list[dict[str, Any]]:
    """One record per (stream, method), streams and rows in page order: average and
    sample-weighted error with their Student-t intervals, the compute means, the error minus
    the reference's (mean over tasks) and whether the method is on the error-vs-FLOPs Pareto
    front."""
    records = []
    for stream in view.streams:
        for row in stream.rows:
            record: dict[str, Any] = {"stream": stream.scenario, "method": row.method,
                                      "seeds": row.seeds, "failed_runs": row.failed}
            record.update(_cell_fields("avg_error", row.avg_error_cell))
            record.update(_cell_fields("weighted_error", row.weighted_error_cell))
            record.update(
                train_flops=_finite(row.train_flops), search_share=_finite(row.search_share),
                train_time_s=_finite(row.train_time_s), wall_time_s=_finite(row.wall_time_s),
                error_minus_reference=row.accumulation, reference=stream.reference,
                pareto_front=row.on_front, hparams=canonical_json(dict(row.hparams)),
            )
            records.append(record)
    return records


def nevis_csv(view: NevisSuiteView) -> str:
    return pd.DataFrame.from_records(nevis_records(view)).to_csv(index=False,
                                                                 lineterminator="\n")


def nevis_json(view: NevisSuiteView) -> str:
    return dumps({"suite": view.name, "suite_version": view.version,
                  "confidence": view.confidence,
                  "interval": "student-t, over evaluation seeds", "flops": "FLOPs",
                  "time": "s", "rows": nevis_records(view)})


def nevis_tasks_csv(view: NevisSuiteView) -> str:
    """Long table: scenario, method, task, mean test error right after learning it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["suite", "scenario", "method", "task", "error"])
    for stream in view.streams:
        for method, errors in sorted(stream.task_errors.items()):
            for task, error in zip(stream.tasks, errors, strict=True):
                writer.writerow([view.name, stream.scenario, method, task, f"{error:.6f}"])
    return out.getvalue()
