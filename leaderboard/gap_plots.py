"""Figures of the two gaps the site shows: the protocol gap (fair vs legacy test-set tuning, a
dumbbell chart) and the stability gap (accuracy on early tasks across continual evaluations).

Pure functions: data in, a `leaderboard.svg.Canvas` out. No information is carried by colour
alone: the two protocols have their own marker shapes, and each method's curve its own line
style and marker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from leaderboard.interval_plots import WIDTH, label_column, rows_panel
from leaderboard.plot_style import OKABE_ITO
from leaderboard.svg import Canvas
from leaderboard.svg_axes import (
    SMALL,
    LegendEntry,
    Scale,
    finite_runs,
    legend,
    x_axis,
    y_axis,
)

_FAIR = OKABE_ITO["blue"]
_LEGACY = OKABE_ITO["vermillion"]
_ARROW = "#666666"
# Curve colours (yellow left out: too light on white), then line styles, cycled together.
_CURVE_COLOURS = tuple(OKABE_ITO[c] for c in (
    "blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black"))
_CURVE_STYLES = ("-", "--", "-.", ":")
_CURVE_MARKERS = ("o", "s", "^", "D", "v")


def _interval(canvas: Canvas, scale: Scale, y: float, low: float, high: float,
              colour: str) -> None:
    if math.isfinite(low) and math.isfinite(high):
        canvas.line(scale(low), y, scale(high), y, colour, width=2.0, opacity=0.6,
                    cls="interval")


def _arrow(canvas: Canvas, start: float, end: float, y: float) -> None:
    """A grey arrow from x = `start` to x = `end`, kept 6 px clear of the markers."""
    direction = 1.0 if end > start else -1.0
    if abs(end - start) <= 14:
        return
    tip = end - 6 * direction
    canvas.line(start + 6 * direction, y, tip - 5 * direction, y, _ARROW, width=1.2,
                cls="arrow")
    canvas.polygon([(tip, y), (tip - 7 * direction, y - 3.5), (tip - 7 * direction, y + 3.5)],
                   _ARROW, cls="arrow")


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
    width: float = WIDTH,
) -> Canvas:
    """Dumbbell chart, one row per method (first label on top): the fair score (filled circle)
    joined by an arrow to the legacy score (hollow square), each with its interval (nan bounds:
    none). All sequences have one entry per method."""
    canvas = Canvas(width)
    values = [*fair_means, *fair_lows, *fair_highs, *legacy_means, *legacy_lows, *legacy_highs]
    panel, bottom = rows_panel(canvas, labels, values, left=label_column(labels),
                               right=width - 20, top=10, row_height=36.0,
                               axis_label=metric_label)
    scale = panel.scale
    rows = zip(labels, fair_means, fair_lows, fair_highs, legacy_means, legacy_lows,
               legacy_highs, strict=True)
    for row, (label, fair, f_low, f_high, legacy, l_low, l_high) in enumerate(rows):
        y = panel.y(row)
        with canvas.group("method", method=label):
            _interval(canvas, scale, y - 5, f_low, f_high, _FAIR)
            _interval(canvas, scale, y + 5, l_low, l_high, _LEGACY)
            _arrow(canvas, scale(fair), scale(legacy), y)
            canvas.marker("o", scale(fair), y, _FAIR, size=9, cls="fair")
            # hollow, so an unchanged score still shows the fair circle inside the square
            canvas.marker("s", scale(legacy), y, _LEGACY, size=10, filled=False, cls="legacy")
    entries = [LegendEntry("fair protocol (tuned on tuning data)", _FAIR, "o"),
               LegendEntry("legacy (tuned on test data)", _LEGACY, "s", filled=False)]
    canvas.height = bottom + 8 + legend(canvas, 16, bottom + 8, entries, width=width - 32) + 6
    return canvas


def _curve_style(index: int) -> tuple[str, str, str]:
    """(colour, line style, marker) of the `index`-th curve."""
    return (_CURVE_COLOURS[index % len(_CURVE_COLOURS)],
            _CURVE_STYLES[index % len(_CURVE_STYLES)],
            _CURVE_MARKERS[index % len(_CURVE_MARKERS)])


def _task_marks(canvas: Canvas, x: Scale, top: float, bottom: float,
                task_of_eval: Sequence[int], label: bool) -> None:
    """Dotted lines between tasks; the task names (1-based) over their stretch when few."""
    changes = [r for r in range(1, len(task_of_eval)) if task_of_eval[r] != task_of_eval[r - 1]]
    for r in changes:
        canvas.line(x(r + 0.5), top, x(r + 0.5), bottom, "#888888", style=":",
                    cls="task-boundary")
    if not label or len(changes) >= 12:
        return
    for start, end in zip([0, *changes], [*changes, len(task_of_eval)], strict=True):
        canvas.text(x((start + end + 1) / 2), top - 4, f"task {task_of_eval[start] + 1}",
                    size=SMALL, anchor="middle", valign="baseline", colour="#444444",
                    cls="task-label")


def plot_stability_gap(
    curves: Mapping[str, Sequence[Sequence[float]]],
    tasks: Sequence[int],
    task_of_eval: Sequence[int],
    *,
    width: float = WIDTH,
) -> Canvas:
    """Accuracy on early tasks across continual evaluations, one panel per tracked task.

    `curves[method][j][r]`: the method's mean accuracy on task `tasks[j]` (0-based) at
    evaluation r (nan: not drawn, e.g. before the task is learned); `task_of_eval[r]`: the task
    being learned at evaluation r. x is the evaluation index (1-based); dotted lines mark the
    task boundaries.
    """
    num_evals = len(task_of_eval)
    left, right, height = 70.0, width - 16.0, 140.0
    x = Scale(0.5, num_evals + 0.5, left, right)
    every = max(1, num_evals // 12)
    canvas = Canvas(width)
    top = 26.0
    for j, task in enumerate(tasks):
        y = Scale(0.0, 1.02, top + height, top)
        y_axis(canvas, y, left, label=f"accuracy on task {task + 1}", grid_right=right)
        _task_marks(canvas, x, top, top + height, task_of_eval, label=j == 0)
        for index, (method, series) in enumerate(curves.items()):
            colour, style, shape = _curve_style(index)
            values = np.asarray(series[j], dtype=float)
            with canvas.group("curve", method=method, task=task + 1):
                for run in finite_runs(values):
                    canvas.polyline([(x(r + 1), y(values[r])) for r in run], colour, width=1.6,
                                    style=style)
                for r in range(0, num_evals, every):
                    if math.isfinite(values[r]):
                        canvas.marker(shape, x(r + 1), y(values[r]), colour, size=6)
        top += height + 18.0
    bottom_axis = top - 18.0
    step = max(1, math.ceil(num_evals / 10))
    ticks = [(float(t), str(t)) for t in range(1, num_evals + 1, step)]
    bottom = x_axis(canvas, x, bottom_axis, label="continual evaluation (index)", ticks=ticks)
    entries = []
    for index, method in enumerate(curves):
        colour, style, shape = _curve_style(index)
        entries.append(LegendEntry(method, colour, shape, style=style))
    canvas.height = bottom + 8 + legend(canvas, 16, bottom + 8, entries, width=width - 32) + 6
    return canvas
