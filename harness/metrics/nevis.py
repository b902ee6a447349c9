"""NEVIS-like stream metrics (*NEVIS'22*): error rate and compute, and the two views on them.

- `task_errors`: each task's test error right after learning it, from the predictions on its
  scored inputs;
- `stream_summary`: the stream average error (every task weighs the same: NEVIS'22's headline
  number), the sample-weighted average error (all scored samples weigh the same: the error
  rate of the pooled test sets), cumulative training FLOPs over every task and every in-task
  search trial, and the share of them spent on search;
- `pareto_front`: the methods no other method beats on both error and compute;
- `knowledge_accumulation`: per task, a method's error minus an independent learner's error
  on the same task (negative: what was learned earlier helps), and its mean over the stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

NEVIS_METRIC_DIRECTIONS: dict[str, str] = {
    "avg_error": "lower",
    "weighted_error": "lower",
    "train_flops": "lower",
    "search_flops": "lower",
    "train_time_s": "lower",
    "accumulation_gain": "lower",
}


def task_errors(predictions: np.ndarray, labels: np.ndarray, task_ids: np.ndarray,
                num_tasks: int) -> np.ndarray:
    """Error rate of each task (float array of length `num_tasks`)."""
    wrong = np.asarray(predictions) != np.asarray(labels)
    return np.array([wrong[task_ids == t].mean() for t in range(num_tasks)], dtype=float)


def stream_summary(errors: Sequence[float], num_eval: Sequence[int],
                   flops: Sequence[float], search_flops: Sequence[float]) -> dict[str, float]:
    errors, weights = np.asarray(errors, float), np.asarray(num_eval, float)
    total_flops = float(np.sum(flops))
    return {
        "avg_error": float(errors.mean()),
        "weighted_error": float((errors * weights).sum() / weights.sum()),
        "train_flops": total_flops,
        "search_flops": float(np.sum(search_flops)),
        "search_share": float(np.sum(search_flops) / total_flops) if total_flops else 0.0,
    }


def pareto_front(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """Names whose (error, compute) no other point weakly dominates with one strict
    improvement; sorted by compute. Both coordinates are lower-is-better."""
    front = []
    for name, (error, compute) in points.items():
        dominated = any(e <= error and c <= compute and (e < error or c < compute)
                        for other, (e, c) in points.items() if other != name)
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: (points[n][1], points[n][0]))


def knowledge_accumulation(errors: Sequence[float],
                           reference_errors: Sequence[float]) -> np.ndarray:
    """Per task: error minus the independent learner's error (negative = transfer helps)."""
    a, b = np.asarray(errors, float), np.asarray(reference_errors, float)
    if a.shape != b.shape:
        raise ValueError(f"streams differ in length: {a.shape} vs {b.shape}")
    return a - b
