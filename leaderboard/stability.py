"""Stability-gap curves (De Lange et al. 2023, *Continual evaluation for lifelong learning:
identifying the stability gap*): part of the view model (see `leaderboard.view`).

A run with continual evaluation stores the curve ``continual_eval`` = ``{"task": [...], "step":
[...], "acc": [[accuracy on each task] per evaluation]}``: evaluation r was taken while task
``task[r]`` was being learned, ``step[r]`` steps into it, or at its end (``step[r] == -1``).
Per method the curves of the successful evaluation seeds are averaged (seeds that followed
another evaluation schedule are left out, the most common schedule wins), and the accuracy on
the first `StatSettings.stability_tasks` tasks is plotted against the evaluation index, with a
line at each task boundary. A dip right after a boundary that recovers later is the stability
gap: end-of-task evaluation alone never sees it.

The x axis is the evaluation index, not the global step: the end-of-task evaluation records no
step count, and every method of a suite follows the same schedule, so the index is exact.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leaderboard.figures import PlotSpec
from leaderboard.settings import StatSettings, scenario_label

CONTINUAL_EVAL = "continual_eval"
"""Name of the curve that holds a run's continual-evaluation trace."""


@dataclass(frozen=True)
class MeanTrace:
    """The seed-mean continual-evaluation trace of one method.

    `tasks[r]`, `steps[r]`: the task being learned and the step of evaluation r (−1: its end);
    `acc`: shape (num_evaluations, num_tasks), the mean over `num_seeds` seeds.
    """

    tasks: tuple[int, ...]
    steps: tuple[int, ...]
    acc: np.ndarray
    num_seeds: int

    @property
    def schedule(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.tasks, self.steps


def _parsed(curve: Any) -> tuple[tuple[int, ...], tuple[int, ...], np.ndarray] | None:
    """(tasks, steps, acc) of one stored trace; None if it is malformed."""
    if not isinstance(curve, Mapping) or not {"task", "step", "acc"} <= set(curve):
        return None
    try:
        acc = np.asarray(curve["acc"], dtype=float)
        tasks, steps = tuple(map(int, curve["task"])), tuple(map(int, curve["step"]))
    except (TypeError, ValueError):  # ragged or non-numeric: not a trace this site can read
        return None
    if acc.ndim != 2 or not acc.size or not len(tasks) == len(steps) == acc.shape[0]:
        return None
    return tasks, steps, acc


def mean_trace_of(evaluation: pd.DataFrame, traces: Mapping[str, Any]) -> MeanTrace | None:
    """The mean trace over the successful runs of `evaluation` (store columns) that have one;
    `traces` maps run keys to stored ``continual_eval`` curves."""
    ok_keys = evaluation.loc[evaluation["status"] == "ok", "run_key"]
    parsed = [p for k in ok_keys if k in traces and (p := _parsed(traces[k])) is not None]
    if not parsed:
        return None
    schedules = Counter((tasks, steps, acc.shape) for tasks, steps, acc in parsed)
    (tasks, steps, shape), _ = max(schedules.items(), key=lambda kv: (kv[1], len(kv[0][0])))
    stack = np.stack([acc for t, s, acc in parsed if (t, s, acc.shape) == (tasks, steps, shape)])
    return MeanTrace(tasks, steps, np.mean(stack, axis=0), len(stack))


def task_boundaries(tasks: tuple[int, ...]) -> list[float]:
    """x positions (evaluation index, 1-based) half-way between the last evaluation of one task
    and the first of the next."""
    return [r + 0.5 for r in range(1, len(tasks)) if tasks[r] != tasks[r - 1]]


def _common_schedule(traces: Mapping[str, MeanTrace]) -> dict[str, MeanTrace]:
    counts = Counter(t.schedule for t in traces.values())
    schedule, _ = max(counts.items(), key=lambda kv: (kv[1], len(kv[0][0])))
    return {m: t for m, t in traces.items() if t.schedule == schedule}


def _describe(method: str, trace: MeanTrace, task: int) -> str:
    """Alt-text clause: accuracy on `task` at the end of its learning, its low point during
    later tasks (and during which), and its final value."""
    tasks = np.asarray(trace.tasks)
    acc = trace.acc[:, task]
    end = acc[np.flatnonzero(tasks == task)[-1]] if (tasks == task).any() else math.nan
    later = np.flatnonzero(tasks > task)
    if not later.size:
        return f"{method}: {end:.2f} after task {task + 1}"
    low = later[int(np.argmin(acc[later]))]
    return (f"{method}: {end:.2f} after task {task + 1}, lowest {acc[low]:.2f} while learning "
            f"task {tasks[low] + 1}, final {acc[-1]:.2f}")


def _tasks_text(tracked: list[int]) -> str:
    return "task 1" if len(tracked) == 1 else f"tasks 1–{len(tracked)}"


def stability_plot(
    suite: str, scenario: str, slug: str, traces: Mapping[str, MeanTrace],
    settings: StatSettings,
) -> PlotSpec | None:
    """The stability-gap figure of one benchmark from each continual method's mean trace;
    None without traces or with a single task (nothing comes after it)."""
    if not traces:
        return None
    shown = _common_schedule(traces)
    first = next(iter(shown.values()))
    num_tasks = first.acc.shape[1]
    tracked = list(range(min(settings.stability_tasks, num_tasks - 1)))
    if not tracked:
        return None
    tasks = np.asarray(first.tasks)
    curves = {
        # before task k is learned its accuracy is zero-shot, not something to keep
        m: [np.where(tasks >= k, t.acc[:, k], np.nan).tolist() for k in tracked]
        for m, t in sorted(shown.items())
    }
    every = sorted({s for s in first.steps if s > 0})
    how = f"every {every[0]} training steps and " if every else ""
    seeds = sorted({t.num_seeds for t in shown.values()})
    seeds_text = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}"
    described = "; ".join(_describe(m, t, 0) for m, t in sorted(shown.items()))
    return PlotSpec(
        kind="stability_gap", path=f"plots/{slug}-stability.svg",
        alt=f"Stability-gap curves on {suite}, {scenario_label(scenario).lower()}: mean "
            f"accuracy on task 1 over {len(first.tasks)} continual evaluations of "
            f"{len(shown)} continual methods ({num_tasks} tasks, a line at each task "
            f"boundary). {described}.",
        caption=f"Accuracy on {_tasks_text(tracked)} "
                f"measured {how}at the end of each task (mean of {seeds_text} seeds); dotted "
                "lines: task boundaries. A dip just after a boundary that later recovers is "
                "the stability gap, invisible to end-of-task evaluation.",
        data={"curves": curves, "tasks": tracked, "task_of_eval": list(first.tasks)},
    )
