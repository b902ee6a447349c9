"""Figures of NEVIS-like stream pages: pure functions, data in, `Figure` out.

The error-vs-compute plot marks the Pareto front (methods no other beats on both axes) with a
staircase; per-task error curves show each method's error on every test-stream task right
after learning it; the knowledge-accumulation plot shows each method's error minus the
independent learner's on the same task (below zero: earlier tasks helped). Every method has its
own marker as well as its colour, so nothing is carried by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from leaderboard.plot_style import OKABE_ITO, new_figure

_COLOURS = [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "orange",
                                   "reddish_purple", "sky_blue", "black", "yellow")]
_MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*"]


def _style(i: int) -> dict:
    return {"color": _COLOURS[i % len(_COLOURS)], "marker": _MARKERS[i % len(_MARKERS)]}


def plot_nevis_pareto(methods: Sequence[str], errors: Sequence[float], flops: Sequence[float],
                      front: Sequence[str], *, width_in: float = 6.4) -> Figure:
    """Average test error against cumulative training FLOPs (log scale), front as a staircase."""
    figure = new_figure(width_in, 4.0)
    axes = figure.add_subplot()
    for i, (name, error, compute) in enumerate(zip(methods, errors, flops, strict=True)):
        axes.scatter([compute], [error], s=60, label=name + (" (front)" if name in front else ""),
                     **_style(i))
    if front:
        points = sorted((flops[methods.index(n)], errors[methods.index(n)]) for n in front)
        xs, ys = zip(*points, strict=True)
        axes.step(xs, ys, where="post", color=OKABE_ITO["black"], linewidth=1, linestyle="--",
                  label="Pareto front")
    axes.set_xscale("log")
    axes.set_xlabel("cumulative training FLOPs (all tasks, all in-task search trials)")
    axes.set_ylabel("average test error (lower is better)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small", loc="best")
    return figure


def plot_nevis_task_errors(tasks: Sequence[str], series: Mapping[str, Sequence[float]], *,
                           ylabel: str = "test error right after learning the task",
                           zero_line: bool = False, width_in: float = 8.0) -> Figure:
    """One line per method over the tasks of the stream, in chronological order."""
    figure = new_figure(width_in, 4.2)
    axes = figure.add_subplot()
    x = np.arange(len(tasks))
    for i, (name, values) in enumerate(series.items()):
        axes.plot(x, values, label=name, linewidth=1.2, markersize=5, **_style(i))
    if zero_line:
        axes.axhline(0.0, color=OKABE_ITO["black"], linewidth=0.8)
    axes.set_xticks(x, tasks, rotation=60, ha="right", fontsize="x-small")
    axes.set_ylabel(ylabel)
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize="small", loc="best")
    return figure


NEVIS_PLOTTERS = {
    "nevis_pareto": plot_nevis_pareto,
    "nevis_task_errors": plot_nevis_task_errors,
}
