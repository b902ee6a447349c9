"""Figures of the two gaps the site shows: the protocol gap (fair vs legacy test-set tuning, a
dumbbell chart) and the stability gap (accuracy on early tasks across continual evaluations).

Pure functions like those of `leaderboard.plots` (data in, `Figure` out, no pyplot, no global
state); `leaderboard.plots.PLOTTERS` names them for `leaderboard.build`. No information is
carried by colour alone: the two protocols have their own marker shapes, and each method's
curve its own line style and marker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from leaderboard.plot_style import OKABE_ITO, new_figure

_FAIR = OKABE_ITO["blue"]
_LEGACY = OKABE_ITO["vermillion"]
# Curve colours (yellow left out: too light on white), then line styles, cycled together.
_CURVE_COLOURS = tuple(OKABE_ITO[c] for c in (
    "blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black"))
_CURVE_STYLES = ("-", "--", "-.", ":")
_CURVE_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _interval(axes, y: float, low: float, high: float, colour: str) -> None:
    if math.isfinite(low) and math.isfinite(high):
        axes.hlines(y, low, high, colors=colour, linewidth=2.0, alpha=0.6)


def plot_protocol_gap(
    labels: Sequence[str],
    fair_means: Sequence[float],
    fair_lows: Sequence[float],
    fair_highs: Sequence[float],
    legacy_means: Sequence[float],
    legacy_lows: Sequence[float],
    legacy_highs: Sequence[float],
    *,
    metric_label: str,
    width_in: float = 6.4,
) -> Figure:
    """Dumbbell chart, one row per method (first label on top): the fair score (filled circle)
    joined by an arrow to the legacy score (hollow square), each with its interval (nan bounds:
    none). All sequences have one entry per method."""
    count = len(labels)
    figure = new_figure(width_in, 0.5 * count + 1.4)
    axes = figure.add_subplot()
    rows = zip(np.arange(count)[::-1], fair_means, fair_lows, fair_highs, legacy_means,
               legacy_lows, legacy_highs, strict=True)
    for y, fair, f_low, f_high, legacy, l_low, l_high in rows:
        _interval(axes, y + 0.12, f_low, f_high, _FAIR)
        _interval(axes, y - 0.12, l_low, l_high, _LEGACY)
        if fair != legacy:
            axes.annotate("", xy=(legacy, y), xytext=(fair, y),
                          arrowprops={"arrowstyle": "->", "color": "#666666", "linewidth": 1.2,
                                      "shrinkA": 5, "shrinkB": 5})
        axes.plot([fair], [y], marker="o", markersize=8, linestyle="none", color=_FAIR)
        # hollow, so an unchanged score still shows the fair circle inside the square
        axes.plot([legacy], [y], marker="s", markersize=9, linestyle="none", color=_LEGACY,
                  markerfacecolor="none", markeredgewidth=1.8)
    axes.set_yticks(np.arange(count)[::-1], labels=list(labels))
    axes.set_ylim(-0.7, count - 0.3)
    axes.set_xlabel(metric_label)
    axes.grid(axis="x", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    handles = [
        Line2D([], [], marker="o", linestyle="none", color=_FAIR, markersize=7,
               label="fair protocol (tuned on tuning data)"),
        Line2D([], [], marker="s", linestyle="none", color=_LEGACY, markersize=7,
               markerfacecolor="none", markeredgewidth=1.5,
               label="legacy (tuned on test data)"),
    ]
    # a figure legend "outside": constrained layout makes room for it, nothing is clipped
    figure.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False,
                  fontsize="small")
    return figure


def _curve_style(index: int) -> dict:
    colours = len(_CURVE_COLOURS)
    return {
        "color": _CURVE_COLOURS[index % colours],
        "linestyle": _CURVE_STYLES[index % len(_CURVE_STYLES)],
        "marker": _CURVE_MARKERS[index % len(_CURVE_MARKERS)],
    }


def _task_marks(axes, task_of_eval: Sequence[int], label: bool) -> None:
    """Dotted lines between tasks; the task names (1-based) over their stretch when few."""
    changes = [r for r in range(1, len(task_of_eval)) if task_of_eval[r] != task_of_eval[r - 1]]
    for r in changes:
        axes.axvline(r + 0.5, color="#888888", linestyle=":", linewidth=1.0)
    if not label or len(changes) >= 12:
        return
    starts = [0, *changes]
    ends = [*changes, len(task_of_eval)]
    for start, end in zip(starts, ends, strict=True):
        axes.text((start + end + 1) / 2, 1.04, f"task {task_of_eval[start] + 1}",
                  ha="center", va="bottom", fontsize="x-small", color="#444444")


def plot_stability_gap(
    curves: Mapping[str, Sequence[Sequence[float]]],
    tasks: Sequence[int],
    task_of_eval: Sequence[int],
    *,
    width_in: float = 6.4,
) -> Figure:
    """Accuracy on early tasks across continual evaluations, one panel per tracked task.

    `curves[method][j][r]`: the method's mean accuracy on task `tasks[j]` (0-based) at
    evaluation r (nan: not drawn, e.g. before the task is learned); `task_of_eval[r]`: the task
    being learned at evaluation r. x is the evaluation index (1-based); dotted lines mark the
    task boundaries.
    """
    num_evals = len(task_of_eval)
    x = np.arange(1, num_evals + 1)
    figure = new_figure(width_in, 2.3 * len(tasks) + 1.4)
    panels = figure.subplots(len(tasks), 1, sharex=True, squeeze=False)[:, 0]
    every = max(1, num_evals // 12)
    for j, (axes, task) in enumerate(zip(panels, tasks, strict=True)):
        for index, (method, series) in enumerate(curves.items()):
            axes.plot(x, np.asarray(series[j], dtype=float), label=method, linewidth=1.6,
                      markersize=4, markevery=every, **_curve_style(index))
        _task_marks(axes, task_of_eval, label=j == 0)
        axes.set_ylim(0.0, 1.02)
        axes.set_ylabel(f"accuracy on task {task + 1}")
        axes.grid(axis="y", color="#dddddd", linewidth=0.8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    panels[-1].set_xlabel("continual evaluation (index)")
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", frameon=False,
                  ncols=min(4, max(1, len(curves))), fontsize="small")
    return figure
