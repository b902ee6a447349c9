"""Figures of NEVIS-like stream pages: pure functions, data in, a `leaderboard.svg.Canvas` out.

The error-vs-compute plot marks the Pareto front (methods no other beats on both axes) with a
staircase; per-task error curves show each method's error on every test-stream task right
after learning it; the knowledge-accumulation plot shows each method's error minus the
independent learner's on the same task (below zero: earlier tasks helped). Every method has its
own marker as well as its colour, so nothing is carried by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from leaderboard.interval_plots import WIDTH
from leaderboard.plot_style import OKABE_ITO
from leaderboard.svg import FONT_SIZE, Canvas
from leaderboard.svg_axes import (
    LegendEntry,
    finite_runs,
    legend_below,
    log_ticks,
    padded_log_range,
    padded_range,
    post_steps,
    x_axis,
    xy_plot,
)

_COLOURS = [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "orange",
                                   "reddish_purple", "sky_blue", "black", "yellow")]
_MARKERS = ["o", "s", "D", "^", "v", "P", "X", "*"]
_BLACK = OKABE_ITO["black"]


def _style(i: int) -> tuple[str, str]:
    """(colour, marker) of the `i`-th method."""
    return _COLOURS[i % len(_COLOURS)], _MARKERS[i % len(_MARKERS)]


def plot_nevis_pareto(methods: Sequence[str], errors: Sequence[float], flops: Sequence[float],
                      front: Sequence[str], *, width: float = WIDTH) -> Canvas:
    """Average test error against cumulative training FLOPs (log scale), the front as a dashed
    staircase through its methods. A method without a finite error or positive FLOPs has no
    place on the axes: it is listed in the legend only."""
    canvas = Canvas(width)
    x, y = xy_plot(canvas, padded_log_range(flops), padded_range(errors), top=12, height=260,
                   y_label="average test error (lower is better)", log_x=True)
    bottom = x_axis(canvas, x, y.start, grid_top=y.end, ticks=log_ticks(x.low, x.high),
                    label="cumulative training FLOPs (all tasks, all in-task search trials)")
    position = {name: (x(f), y(e)) for name, e, f in zip(methods, errors, flops, strict=True)}
    on_axes = [position[n] for n in front if all(map(math.isfinite, position[n]))]
    if on_axes:
        canvas.polyline(post_steps(sorted(on_axes)), _BLACK, style="--", cls="front")
    entries = []
    for i, name in enumerate(methods):
        colour, marker = _style(i)
        with canvas.group("method", method=name):
            canvas.marker(marker, *position[name], colour, size=10, cls="point")
        entries.append(LegendEntry(name + (" (front)" if name in front else ""), colour, marker))
    if front:
        entries.append(LegendEntry("Pareto front", _BLACK, style="--"))
    legend_below(canvas, entries, bottom)
    return canvas


def plot_nevis_task_errors(tasks: Sequence[str], series: Mapping[str, Sequence[float]], *,
                           ylabel: str = "test error right after learning the task",
                           zero_line: bool = False, width: float = 800.0) -> Canvas:
    """One line per method over the tasks of the stream, in chronological order (a nan value
    leaves a gap); with `zero_line`, a black line at zero."""
    canvas = Canvas(width)
    values = [v for line in series.values() for v in line]
    x, y = xy_plot(canvas, padded_range(range(len(tasks))),
                   padded_range([*values, *([0.0] if zero_line else [])]),
                   top=12, height=260, y_label=ylabel)
    bottom = x_axis(canvas, x, y.start, ticks=list(enumerate(tasks)), tilt=60,
                    tick_size=0.7 * FONT_SIZE)
    if zero_line:
        canvas.line(x.start, y(0.0), x.end, y(0.0), _BLACK, width=0.8, cls="zero")
    entries = []
    for i, (name, line) in enumerate(series.items()):
        colour, marker = _style(i)
        points = [(x(k), y(v)) for k, v in enumerate(line)]
        with canvas.group("method", method=name):
            for run in finite_runs(line):
                canvas.polyline([points[k] for k in run], colour, width=1.2, cls="curve")
            for point in points:
                canvas.marker(marker, *point, colour, size=6.5, cls="marker")
        entries.append(LegendEntry(name, colour, marker, style="-"))
    legend_below(canvas, entries, bottom)
    return canvas


NEVIS_PLOTTERS = {
    "nevis_pareto": plot_nevis_pareto,
    "nevis_task_errors": plot_nevis_task_errors,
}
