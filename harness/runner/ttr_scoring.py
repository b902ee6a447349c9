"""Parent side of a time-to-result run: score the validation outputs of every evaluation.

The worker returns, at each evaluation, one output per validation example (a predicted class,
a click probability, a sequence's loss, an image's SSIM: `harness.metrics.validation`) and the
submission time it was taken at; here they become the workload's metric against the labels only
the parent holds, and the run's time-to-target (`inf` if the target was not met within the
workload's max runtime), in the metric's direction (lower is better for losses).

`TargetWatcher` scores a running worker's evaluations as they are published and asks it to stop
once one meets the target (`harness.runner.ttr_worker`): the run's score is unchanged, and the
rest of its budget is not spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.metrics.time_to_result import time_to_target
from harness.metrics.validation import metric_series
from harness.runner.result import RunStatus
from harness.runner.ttr_exchange import STOP_FILE, published
from harness.ttr_kinds import WorkloadKind, higher_is_better


@dataclass(frozen=True)
class TTRPlan:
    """What the parent needs to score a time-to-result run."""

    eval_labels: np.ndarray
    target: float
    max_runtime_s: float
    kind: WorkloadKind = WorkloadKind.CLASSIFICATION
    metric: str = "accuracy"
    # Stop the run at the first evaluation meeting the target (AlgoPerf). Off for calibration,
    # whose target is the best metric reached within the whole budget.
    stop_at_target: bool = True

    def meets_target(self, outputs: np.ndarray) -> bool:
        """Whether one evaluation's outputs meet the target (NaN never does)."""
        if outputs.shape != self.eval_labels.shape or not np.isfinite(outputs).all():
            return False  # the final scoring names what is wrong
        value = metric_series(self.kind, self.metric, outputs[None], self.eval_labels)[0]
        if higher_is_better(self.kind, self.metric):
            return bool(value >= self.target)
        return bool(value <= self.target)


class TargetWatcher:
    """Called by the parent while the worker runs (`harness.runner.process.wait_worker`):
    scores the evaluations published since the last call and creates the stop file at the first
    that meets the target. Files are read once each, in order; cheap enough for a 0.1 s poll."""

    def __init__(self, plan: TTRPlan, scratch: Path):
        self.plan, self.scratch = plan, scratch
        self.read = 0
        self.stopped = False

    def __call__(self) -> None:
        if self.stopped:
            return
        while (path := published(self.scratch, self.read)).exists():
            self.read += 1
            if self.plan.meets_target(np.load(path)):
                (self.scratch / STOP_FILE).touch()
                self.stopped = True
                return


def score_ttr(plan: TTRPlan, scratch: Path, worker: dict[str, Any]):
    outputs = np.load(scratch / "eval_predictions.npy")
    times = np.asarray(worker["eval_submission_times_s"], dtype=float)
    expected = (len(times), len(plan.eval_labels))
    if outputs.shape != expected:
        return (RunStatus.FAILED, f"worker wrote predictions of shape {outputs.shape}, "
                f"not {expected}", {}, {})
    # An evaluation with non-finite outputs (the algorithm diverged) has no metric: it never
    # meets the target, but the evaluations before it still count, as in AlgoPerf, so a run
    # that met the target and diverged afterwards keeps its time to target.
    finite = np.isfinite(outputs.reshape(len(times), -1)).all(axis=1)
    values = metric_series(plan.kind, plan.metric, np.where(finite.reshape(
        (-1,) + (1,) * (outputs.ndim - 1)), outputs, 0), plan.eval_labels)
    values = np.where(finite, values, np.nan)
    higher = higher_is_better(plan.kind, plan.metric)
    reached = time_to_target(times, values, plan.target, higher_is_better=higher,
                             max_runtime_s=plan.max_runtime_s)
    diverged = worker.get("diverged") or ("" if finite.all() else "the validation metric "
                                          "became non-finite; the training algorithm diverged")
    if diverged and not np.isfinite(reached):
        return RunStatus.FAILED, diverged, {}, {}
    # The best within the budget: the evaluation of the state after the last step is taken
    # once the clock is past max_runtime_s, and no run can count it (calibration's target is
    # the median of this best, so it must be reachable in time).
    in_budget = np.where(times <= plan.max_runtime_s, values, np.nan)
    if np.isnan(in_budget).all():
        in_budget = values[:1]  # only the initial evaluation (a budget shorter than a step)
    best = float(np.nanmax(in_budget) if higher else np.nanmin(in_budget))
    total = worker["submission_time_s"] + worker["eval_time_s"]
    metrics = {
        "time_to_target_s": reached,
        "reached_target": float(np.isfinite(reached)),
        "best_metric": best,
        "submission_time_s": float(worker["submission_time_s"]),
        "eval_time_s": float(worker["eval_time_s"]),
        "eval_share": float(worker["eval_time_s"] / total) if total else 0.0,
        "num_steps": float(worker["num_steps"]),
        "step_time_median_s": float(worker["step_time_median_s"]),
        "timing_noise": float(worker["timing_noise"]),
    }
    if worker.get("compile_time_s"):  # a compiled model: its compilation, never in the score
        metrics["compile_time_s"] = float(worker["compile_time_s"])
    if plan.kind is WorkloadKind.CLASSIFICATION:
        metrics["best_accuracy"] = best
    shown = int(np.argmin(finite)) if not finite.all() else len(times)  # up to divergence
    trace = {"time_s": times[:shown].round(6).tolist(), "step": worker["eval_steps"][:shown],
             "metric": plan.metric, "higher_is_better": higher,
             "value": values[:shown].round(6).tolist()}
    if plan.kind is WorkloadKind.CLASSIFICATION:
        trace["accuracy"] = trace["value"]
    curves = {"eval_trace": trace}
    return RunStatus.OK, "", metrics, curves
