"""Target calibration for time-to-result suites (`harness calibrate`).

AlgoPerf sets each workload's validation target from what well-tuned reference algorithms
reach within the budget. Here: every reference runs on every workload (held-out variants
included) with one fixed setting over `num_seeds` seeds, for the workload's full
`max_runtime_s`; per reference the **median over seeds of the best validation metric** reached
within the budget; the target is the best of those medians (in the metric's direction), so at
least one reference reaches it in about half of its seeds. It is rounded to 4 significant
digits towards the easier side, so a printed target is never harder than the measured one.

The fixed setting of a reference is, in this order: the one given for it in `hparams` (its
tuned setting, e.g. from an earlier evaluation), else its search space's *centre* —
`Param.value_at(0.5)`: the geometric midpoint of a log range, the midpoint of a linear range,
the middle feasible point — else nothing (a self-tuning reference).

The targets are written into the suite file in place (tomlkit keeps every comment and the
layout); each calibrated workload gets a `[workload.calibration]` table recording the
provenance: date, harness version, hardware class and torch version, seeds, references with
their settings and medians, and the per-seed best values. All runs must share one hardware
class. Calibration runs are stored (for resuming) in their own store, not the results store,
so they never count as a submission's evaluation.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit

from harness import __version__
from harness.data.cache import DatasetCache
from harness.errors import UserError
from harness.evaluation import EvaluateOptions, EvaluationReport, Reporter
from harness.metrics.time_to_result import check_same_hardware
from harness.runner.result import RunResult
from harness.runner.serial import one_at_a_time
from harness.runner.spec import Phase, RunSpec
from harness.store import Store, hardware_class
from harness.submission import Submission
from harness.ttr_data import prepare, whole_budget
from harness.ttr_evaluation import _TTRRunner
from harness.ttr_kinds import higher_is_better
from harness.ttr_suite import TTRSuite, Workload

CALIBRATION_SEED_BASE = 50_000  # seeds no evaluation study uses (those are 1000·study + trial)


@dataclass(frozen=True)
class WorkloadCalibration:
    workload: str
    target: float
    medians: dict[str, float]                 # reference -> median best metric over seeds
    per_seed: dict[str, list[float | None]]   # reference -> best metric per seed (None: failed)


@dataclass
class CalibrationReport:
    calibrations: list[WorkloadCalibration] = field(default_factory=list)
    failed: list[RunResult] = field(default_factory=list)
    hardware: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)


def reference_setting(sub: Submission, tuned: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The fixed hyperparameters a reference runs with (see the module docstring)."""
    if sub.meta.name in tuned:
        return dict(tuned[sub.meta.name])
    if sub.search_space is None:
        return {}
    return {p.name: p.value_at(0.5) for p in sub.search_space.params}


def round_target(value: float, higher: bool, digits: int = 4) -> float:
    """`value` to `digits` significant digits, rounded towards the easier side."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(value))))
    rounded = (math.floor if higher else math.ceil)(value * scale) / scale
    return float(f"{rounded:.{digits}g}")


def calibration_specs(suite: TTRSuite, sub: Submission, setting: dict[str, Any],
                      num_seeds: int, workloads: list[Workload]) -> list[RunSpec]:
    return [RunSpec(suite=suite.name, suite_version=suite.version, scenario=w.name,
                    phase=Phase.EVALUATE, submission=sub.meta.name,
                    submission_hash=sub.content_hash, hparams=setting,
                    seed=CALIBRATION_SEED_BASE + s, trial=0, study=s)
            for s in range(num_seeds) for w in workloads]


def run_calibration(suite: TTRSuite, references: list[Submission], store: Store, *,
                    num_seeds: int = 3, tuned: dict[str, dict[str, Any]] | None = None,
                    only: list[str] | None = None, options: EvaluateOptions | None = None,
                    cache: DatasetCache | None = None,
                    reporter: Reporter | None = None) -> CalibrationReport:
    """Run the references and compute each workload's calibrated target (nothing written)."""
    if num_seeds < 1:
        raise UserError("calibration needs at least one seed (--seeds)")
    names = [w.name for w in suite.workloads]
    unknown = [n for n in only or [] if n not in names]
    if unknown:
        raise UserError(f"suite {suite.name} has no workload {', '.join(unknown)}; "
                        f"workloads: {', '.join(names)}")
    workloads = [w for w in suite.workloads if not only or w.name in only]
    tuned = tuned or {}
    stray = sorted(set(tuned) - {s.meta.name for s in references})
    if stray:
        raise UserError(f"tuned settings given for {', '.join(stray)}, which is not a reference")
    cache = cache or DatasetCache()
    options = replace(options or EvaluateOptions(), jobs=1)
    # Calibration runs use the whole budget: the target is the best metric reached within it.
    prepared = {w.name: whole_budget(prepare(w, cache)) for w in workloads}
    runs = EvaluationReport()
    runner = _TTRRunner(suite, store, options, reporter or Reporter(), runs)
    runner.executor = one_at_a_time(runner.executor)
    runner.prepared = prepared
    report = CalibrationReport()
    items = []
    for sub in references:
        store.write_submission(sub.meta.name, sub.content_hash, sub.meta.to_json())
        report.settings[sub.meta.name] = reference_setting(sub, tuned)
        items += [(spec, sub) for spec in
                  calibration_specs(suite, sub, report.settings[sub.meta.name], num_seeds,
                                    workloads)]
    runner.run("calibration", items)
    report.failed = [r for r in runs.results if not r.ok]
    ok = [r for r in runs.results if r.ok]
    if not ok:
        raise UserError("every calibration run failed; see `harness results list --store` "
                        "for the reasons")
    check_same_hardware([hardware_class(r.hardware) for r in ok])
    report.hardware = ok[0].hardware
    report.calibrations = [_calibrate_one(w, references, runs.results, num_seeds)
                           for w in workloads]
    return report


def _calibrate_one(workload: Workload, references: list[Submission],
                   results: list[RunResult], num_seeds: int) -> WorkloadCalibration:
    higher = higher_is_better(workload.kind, workload.metric)
    per_seed: dict[str, list[float | None]] = {}
    medians: dict[str, float] = {}
    for sub in references:
        best: list[float | None] = [None] * num_seeds
        for r in results:
            if (r.spec.submission, r.spec.scenario) == (sub.meta.name, workload.name) and r.ok:
                best[r.spec.study] = r.metrics["best_metric"]
        per_seed[sub.meta.name] = best
        # A failed (or missing) seed reached nothing: it counts as the worst value, so one
        # lucky seed out of three cannot set the target alone.
        worst = -math.inf if higher else math.inf
        median = statistics.median([worst if v is None else v for v in best])
        if math.isfinite(median):
            medians[sub.meta.name] = float(median)
    if not medians:
        raise UserError(f"no reference finished most of its runs on workload {workload.name} "
                        "(see `harness results list --status failed`); cannot calibrate its "
                        "target")
    chosen = (max if higher else min)(medians.values())
    return WorkloadCalibration(workload.name, round_target(chosen, higher), medians, per_seed)


def write_targets(path: Path, report: CalibrationReport, num_seeds: int) -> None:
    """Write the calibrated targets and their provenance into the suite file at `path`."""
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    tables = {t["name"]: t for t in document.get("workload", [])}
    hardware = {k: report.hardware.get(k) for k in
                ("cpu_model", "cpu_count", "gpu_model", "gpu_count", "torch_version",
                 "cuda_version", "device")}
    for cal in report.calibrations:
        table = tables[cal.workload]
        table["target"] = cal.target
        provenance = tomlkit.table()
        provenance["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        provenance["harness_version"] = __version__
        provenance["rule"] = "best over references of the median over seeds of the best " \
            "validation metric within max_runtime_s"
        provenance["seeds"] = num_seeds
        machine = tomlkit.inline_table()
        machine.update({k: v for k, v in hardware.items() if v is not None})
        provenance["hardware"] = machine
        references = tomlkit.table()
        for name in cal.per_seed:
            entry = tomlkit.table()
            entry["median"] = cal.medians.get(name, float("nan"))
            entry["per_seed"] = [float("nan") if v is None else v for v in cal.per_seed[name]]
            setting = tomlkit.inline_table()
            setting.update(report.settings[name])
            entry["hparams"] = setting
            references[name] = entry
        entry.add(tomlkit.nl())  # a blank line before the next [[workload]]
        provenance["references"] = references
        table["calibration"] = provenance
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
