"""The downloadable tables: each leaderboard table, its compute, effect-size and protocol-gap
tables as CSV/JSON, and every run in long format (``data/runs.csv``).

Numbers are written at full precision (the site rounds for reading; downloads are for
re-analysis). Missing values are empty in CSV and ``null`` in JSON.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pandas as pd

from harness.runner.spec import canonical_json
from leaderboard.compute_view import ComputeView
from leaderboard.effects import EffectRow, EffectsView
from leaderboard.numbers import Estimate
from leaderboard.protocol_gap import ProtocolGapView
from leaderboard.settings import StatSettings
from leaderboard.view import BenchmarkView

# Columns of data/runs.csv before the (metric, value) pair, in order.
RUN_ID_COLUMNS = (
    "run_key", "suite", "suite_version", "scenario", "phase", "submission", "submission_hash",
    "current", "hparams", "seed", "trial", "study", "status", "reason", "wall_time_s",
    "finished_at", "hardware_class",
)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _estimate_fields(metric: str, estimate: Estimate | None) -> dict[str, Any]:
    if estimate is None:
        return {f"{metric}_mean": None, f"{metric}_ci_low": None, f"{metric}_ci_high": None,
                f"{metric}_n": 0}
    return {
        f"{metric}_mean": _finite(estimate.mean),
        f"{metric}_ci_low": _finite(estimate.ci_low),
        f"{metric}_ci_high": _finite(estimate.ci_high),
        f"{metric}_n": estimate.n,
    }


def leaderboard_records(bench: BenchmarkView, settings: StatSettings) -> list[dict[str, Any]]:
    """One record per row of the benchmark's table, in table order."""
    records = []
    for row in bench.rows:
        record: dict[str, Any] = {
            "rank": row.rank, "method": row.method, "continual": row.continual,
            "submission_hash": row.submission_hash,
        }
        record.update(_estimate_fields(settings.primary_metric, row.primary))
        comparison = row.comparison
        record.update(
            versus_best=row.versus_best.value,
            p_value=_finite(comparison.p_value) if comparison else None,
            p_adjusted=_finite(comparison.p_adjusted) if comparison else None,
            cliffs_delta=_finite(comparison.cliffs_delta) if comparison else None,
        )
        for metric, estimate in zip(bench.secondary_metrics, row.secondary, strict=True):
            record.update(_estimate_fields(metric, estimate))
        record.update(
            failed_runs=row.failed_runs, tuning_trials=row.tuning_trials,
            tuning_failed=row.tuning_failed, tuning_time_s=row.tuning_time_s,
            hparams=canonical_json(row.hparams),
        )
        records.append(record)
    return records


def leaderboard_csv(bench: BenchmarkView, settings: StatSettings) -> str:
    frame = pd.DataFrame.from_records(leaderboard_records(bench, settings))
    frame["rank"] = frame["rank"].astype("Int64")  # integers with gaps, not floats
    return frame.to_csv(index=False, lineterminator="\n")


def leaderboard_json(bench: BenchmarkView, settings: StatSettings) -> str:
    document = {
        "suite": bench.suite,
        "suite_version": bench.suite_version,
        "scenario": bench.scenario,
        "primary_metric": settings.primary_metric,
        "confidence": settings.confidence,
        "test": settings.test,
        "correction": settings.correction,
        "alpha": settings.alpha,
        "best": bench.best,
        "rows": leaderboard_records(bench, settings),
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _csv(records: list[dict[str, Any]], integer_columns: tuple[str, ...] = ()) -> str:
    frame = pd.DataFrame.from_records(records)
    for column in integer_columns:
        frame[column] = frame[column].astype("Int64")  # integers with gaps, not floats
    return frame.to_csv(index=False, lineterminator="\n")


def _document(bench: BenchmarkView, settings: StatSettings, **fields: Any) -> str:
    document = {
        "suite": bench.suite, "suite_version": bench.suite_version, "scenario": bench.scenario,
        "confidence": settings.confidence, **fields,
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def effect_records(effects: EffectsView) -> list[dict[str, Any]]:
    """One record per comparison of the effect-size section: each method against the best
    (``comparison`` "versus best", in table order), then every pair ("pair"); A is
    ``method``, B ``reference``, every number as `harness.stats.Comparison` holds it."""

    def record(kind: str, row: EffectRow, p_label: str) -> dict[str, Any]:
        c = row.comparison
        return {
            "comparison": kind, "method": c.method, "reference": c.reference,
            "mean_difference": c.mean_difference,
            "difference_ci_low": _finite(c.difference_ci_low),
            "difference_ci_high": _finite(c.difference_ci_high),
            "cliffs_delta": c.cliffs_delta, "cliffs_delta_label": row.cliffs_delta_label,
            "cohens_d": _finite(c.cohens_d), "cohens_d_label": row.cohens_d_label or None,
            "prob_improvement": c.prob_improvement,
            "prob_improvement_ci_low": c.prob_improvement_ci_low,
            "prob_improvement_ci_high": c.prob_improvement_ci_high,
            "test": c.test, "p_value": _finite(c.p_value), "p_adjusted": _finite(c.p_adjusted),
            "p_label": p_label, "significant": c.significant,
            "can_reach_significance": c.can_reach_significance,
            "min_attainable_p": c.min_attainable_p,
        }

    return ([record("versus best", row, effects.p_label) for row in effects.versus_best]
            + [record("pair", row, effects.pairs_p_label) for row in effects.pairs])


def effects_csv(effects: EffectsView) -> str:
    return _csv(effect_records(effects))


def effects_json(bench: BenchmarkView, effects: EffectsView, settings: StatSettings) -> str:
    return _document(bench, settings, best=effects.best, signs="method - reference",
                     difference_interval="welch-t", prob_improvement_interval="newcombe-score",
                     rows=effect_records(effects))


def gap_records(gap: ProtocolGapView) -> list[dict[str, Any]]:
    """One record per method of the protocol-gap table, in its order; the gap is legacy −
    fair with its Welch interval, rank_change = fair rank − legacy rank."""
    records = []
    for row in gap.rows:
        record: dict[str, Any] = {"method": row.method, "continual": row.continual}
        record.update(_estimate_fields(f"fair_{gap.metric}", row.fair))
        record.update(_estimate_fields(f"legacy_{gap.metric}", row.legacy))
        record.update(
            gap=_finite(row.gap.value) if row.gap else None,
            gap_ci_low=_finite(row.gap.ci_low) if row.gap else None,
            gap_ci_high=_finite(row.gap.ci_high) if row.gap else None,
            fair_rank=row.fair_rank, legacy_rank=row.legacy_rank, rank_change=row.rank_change,
            fair_hparams=canonical_json(row.fair_hparams),
            legacy_hparams=canonical_json(row.legacy_hparams),
        )
        records.append(record)
    return records


def gap_csv(gap: ProtocolGapView) -> str:
    return _csv(gap_records(gap), ("fair_rank", "legacy_rank", "rank_change"))


def gap_json(bench: BenchmarkView, gap: ProtocolGapView, settings: StatSettings) -> str:
    return _document(bench, settings, metric=gap.metric, gap="legacy - fair",
                     interval="welch-t", rows=gap_records(gap))


def compute_records(compute: ComputeView) -> list[dict[str, Any]]:
    """One record per method: each compute column's mean, interval and n in its base unit
    (FLOPs, seconds, bytes), and the FLOPs of all tuning trials."""
    records = []
    for row in compute.rows:
        record: dict[str, Any] = {"method": row.method, "continual": row.continual}
        for column, cell in zip(compute.columns, row.cells, strict=True):
            record.update(_estimate_fields(column.key, cell.estimate))
        record["tuning_flops"] = row.tuning_flops
        # training FLOPs are a lower bound where much training ran outside the counted batches
        record["uncounted_train_time_share"] = row.uncounted_share
        record["train_flops_lower_bound"] = row.flops_lower_bound
        records.append(record)
    return records


def compute_csv(compute: ComputeView) -> str:
    return _csv(compute_records(compute))


def compute_json(bench: BenchmarkView, compute: ComputeView, settings: StatSettings) -> str:
    return _document(bench, settings, units={"flops": "FLOPs", "time": "s", "memory": "bytes"},
                     rows=compute_records(compute))


def _field(value: Any) -> str:
    """A value of data/runs.csv as pandas writes it: missing empty, floats by `repr`."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def runs_csv(all_runs: pd.DataFrame) -> str:
    """Every stored run in tidy long format: one row per (run, metric), runs ordered by suite,
    scenario, submission, phase and run key, each run's metrics by name.

    `all_runs` is `CurrentResults.all_runs` (store columns plus `current`). A run without
    metrics (a failed run) keeps one row with an empty metric, so every run appears. A run's
    identifying columns are formatted once and repeated before each of its metrics: formatting
    them per (run, metric) row, as a long data frame does, took seconds at 10,000 runs.
    """
    ids = [c for c in RUN_ID_COLUMNS if c in all_runs.columns]
    columns = sorted(c for c in all_runs.columns if c.startswith("metric."))
    runs = all_runs.sort_values(["suite", "scenario", "submission", "phase", "run_key"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")

    def line(fields: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(fields)
        return buffer.getvalue()

    names = [line([c.removeprefix("metric.")]) for c in columns]
    values = runs[columns].to_numpy(dtype=float)
    out = [line([*ids, "metric", "value"]) + "\n"]
    for fields, row in zip(runs[ids].itertuples(index=False, name=None), values, strict=True):
        prefix = line([_field(v) for v in fields])
        present = [f"{prefix},{name},{value!r}\n" for name, value in zip(names, row.tolist(),
                                                                          strict=True)
                   if not math.isnan(value)]
        out += present or [f"{prefix},,\n"]
    return "".join(out)
