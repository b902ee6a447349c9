"""Parent side of a time-to-result run: score the validation predictions of every evaluation.

The worker returns predicted labels at each evaluation and the submission time it was taken
at; here they become accuracies against the labels only the parent holds, and the run's
time-to-target (`inf` if the target was not met within the workload's max runtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.metrics.time_to_result import time_to_target
from harness.runner.result import RunStatus


@dataclass(frozen=True)
class TTRPlan:
    """What the parent needs to score a time-to-result run."""

    eval_labels: np.ndarray
    target: float
    max_runtime_s: float


def score_ttr(plan: TTRPlan, scratch: Path, worker: dict[str, Any]):
    predictions = np.load(scratch / "eval_predictions.npy").astype(np.int64)
    times = np.asarray(worker["eval_submission_times_s"], dtype=float)
    if predictions.shape != (len(times), len(plan.eval_labels)):
        return (RunStatus.FAILED, f"worker wrote predictions of shape {predictions.shape}, "
                f"not {(len(times), len(plan.eval_labels))}", {}, {})
    accuracy = (predictions == plan.eval_labels[None, :]).mean(axis=1)
    reached = time_to_target(times, accuracy, plan.target, higher_is_better=True,
                             max_runtime_s=plan.max_runtime_s)
    total = worker["submission_time_s"] + worker["eval_time_s"]
    metrics = {
        "time_to_target_s": reached,
        "reached_target": float(np.isfinite(reached)),
        "best_accuracy": float(accuracy.max()),
        "submission_time_s": float(worker["submission_time_s"]),
        "eval_time_s": float(worker["eval_time_s"]),
        "eval_share": float(worker["eval_time_s"] / total) if total else 0.0,
        "num_steps": float(worker["num_steps"]),
        "step_time_median_s": float(worker["step_time_median_s"]),
        "timing_noise": float(worker["timing_noise"]),
    }
    curves = {"eval_trace": {"time_s": times.round(6).tolist(), "step": worker["eval_steps"],
                             "accuracy": accuracy.round(6).tolist()}}
    return RunStatus.OK, "", metrics, curves
