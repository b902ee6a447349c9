"""Figures of time-to-result suites: pure functions, data in, a `leaderboard.svg.Canvas` out.

Performance profiles (step lines over their bootstrap bands), validation curves against
submission time, and times to target per workload. Colours are Okabe–Ito, and every method
also has its own line style and marker, so nothing is carried by colour alone. A missed target
is never drawn as a time: in the time-to-target panels it is an "×" at the right edge, labelled
"not reached".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from leaderboard.interval_plots import WIDTH, label_column
from leaderboard.plot_style import OKABE_ITO
from leaderboard.svg import FONT_SIZE, Canvas
from leaderboard.svg_axes import (
    GRID,
    SMALL,
    LegendEntry,
    Scale,
    finite_runs,
    legend_below,
    nice_ticks,
    padded_range,
    post_steps,
    x_axis,
    xy_plot,
)

# Black last: it is kept for reference lines (targets, budgets).
_COLOURS = [OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "vermillion",
                                   "reddish_purple", "sky_blue", "yellow")]
_STYLES = ["-", "--", "-.", ":"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
_BLACK = OKABE_ITO["black"]


def method_style(index: int) -> tuple[str, str, str]:
    """(colour, line style, marker) of the `index`-th method; distinct for 28 methods."""
    return (_COLOURS[index % len(_COLOURS)], _STYLES[(index // len(_COLOURS)) % len(_STYLES)],
            _MARKERS[index % len(_MARKERS)])


def _legend_entry(label: str, index: int) -> LegendEntry:
    colour, style, marker = method_style(index)
    return LegendEntry(label, colour, marker, style=style)


def _steps(x: Scale, y: Scale, taus: Sequence[float],
           values: Sequence[float]) -> list[list[tuple[float, float]]]:
    """The pixel vertices of ρ(τ) as post-steps, one list per stretch of finite values."""
    return [post_steps([(x(taus[k]), y(values[k])) for k in run]) for run in finite_runs(values)]


def plot_performance_profile(
    labels: Sequence[str], taus: Sequence[float], profile: Sequence[Sequence[float]],
    ci_lows: Sequence[Sequence[float]], ci_highs: Sequence[Sequence[float]], *,
    width: float = WIDTH,
) -> Canvas:
    """ρ_s(τ) per method as a step line (each value held until the next τ) over its shaded
    bootstrap band; τ on [1, max τ], markers on about six τ per line.

    `profile`, `ci_lows`, `ci_highs`: shape (num_methods, num_taus) fractions of workloads.
    """
    canvas = Canvas(width)
    tau_range = (taus[0], taus[-1]) if taus[-1] > taus[0] else padded_range(taus)
    x, y = xy_plot(canvas, tau_range, (-0.02, 1.02), top=12, height=260,
                   y_label="fraction of workloads ρ(τ)", y_count=5)
    bottom = x_axis(canvas, x, y.start, grid_top=y.end,
                    label="τ: time within a factor τ of the fastest submission")
    # All bands first: a band drawn over another method's line would hide it.
    for i, label in enumerate(labels):
        colour = method_style(i)[0]
        highs = _steps(x, y, taus, ci_highs[i])
        lows = _steps(x, y, taus, ci_lows[i])
        with canvas.group("band", method=label):
            for high, low in zip(highs, lows, strict=False):
                canvas.polygon([*high, *low[::-1]], colour, opacity=0.18, cls="band")
    every = max(1, len(taus) // 6)
    for i, label in enumerate(labels):
        colour, style, marker = method_style(i)
        with canvas.group("method", method=label):
            for vertices in _steps(x, y, taus, profile[i]):
                canvas.polyline(vertices, colour, width=2.0, style=style, cls="profile")
            for k in range(0, len(taus), every):
                canvas.marker(marker, x(taus[k]), y(profile[i][k]), colour, size=7,
                              cls="marker")
    legend_below(canvas, [_legend_entry(label, i) for i, label in enumerate(labels)], bottom)
    return canvas


def plot_eval_curves(
    labels: Sequence[str], trials: Sequence[Sequence[tuple[Sequence[float], Sequence[float]]]],
    *, target: float | None, max_runtime_s: float | None, title: str,
    metric_label: str = "validation accuracy", width: float = WIDTH,
) -> Canvas:
    """A validation metric against submission time, one line per trial, one colour and line
    style per method (`trials[i]` holds method i's (times_s, values) pairs); a nan or infinite
    value leaves a gap in its line.

    The target, when known, is a dashed black line; the runtime budget a dotted one.
    """
    canvas = Canvas(width)
    canvas.text(width / 2, 6, title, anchor="middle", valign="top", cls="title")
    curves = [[(_number(ts), _number(vs)) for ts, vs in runs] for runs in trials]
    times = [t for runs in curves for ts, _ in runs for t in ts]
    values = [v for runs in curves for _, vs in runs for v in vs]
    # the target and the budget always lie inside the axes: the curves are read against them
    x, y = xy_plot(canvas, padded_range([*times, *_given(max_runtime_s)]),
                   padded_range([*values, *_given(target)]),
                   top=30, height=230, y_label=metric_label)
    bottom = x_axis(canvas, x, y.start, grid_top=y.end, label="submission time (s)")
    entries = []
    for i, label in enumerate(labels):
        colour, style, marker = method_style(i)
        for number, (ts, vs) in enumerate(curves[i], start=1):
            points = [(x(t), y(v)) for t, v in zip(ts, vs, strict=True)]
            finite = [t + v for t, v in zip(ts, vs, strict=True)]  # nan or inf if either is
            with canvas.group("trial", method=label, trial=number):
                for run in finite_runs(finite):
                    canvas.polyline([points[k] for k in run], colour, width=1.4, style=style,
                                    opacity=0.85, cls="curve")
                for k in range(0, len(points), max(1, len(points) // 5)):
                    if math.isfinite(finite[k]):
                        canvas.marker(marker, *points[k], colour, size=4.5, cls="marker")
        entries.append(_legend_entry(f"{label} ({len(trials[i])} trials)", i))
    if target is not None:
        canvas.line(x.start, y(target), x.end, y(target), _BLACK, style="--", cls="target")
        entries.append(LegendEntry(f"target {target:g}", _BLACK, style="--"))
    if max_runtime_s is not None:
        canvas.line(x(max_runtime_s), y.start, x(max_runtime_s), y.end, _BLACK, style=":",
                    cls="budget")
        entries.append(LegendEntry(f"budget {max_runtime_s:g} s", _BLACK, style=":"))
    legend_below(canvas, entries, bottom)
    return canvas


def _number(values: Sequence[float | None]) -> list[float]:
    """`values` as floats, a missing one (None, as JSON writes nan) as nan."""
    return [math.nan if v is None else float(v) for v in values]


def _given(value: float | None) -> list[float]:
    return [] if value is None else [value]


def _known(value: float | str | None) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


UNBOUNDED = "inf"
"""An interval's upper end where some studies missed the target (JSON has no infinity)."""


def plot_time_to_target(
    workloads: Sequence[str], labels: Sequence[str], medians: Sequence[Sequence[float | None]],
    ci_lows: Sequence[Sequence[float | None]], ci_highs: Sequence[Sequence[float | str | None]],
    *, width: float = WIDTH,
) -> Canvas:
    """Time to target per workload (one panel each, stacked, on one time axis): per method the
    median over studies with its interval; a missed target (None or inf) is an "×" at the right
    edge, labelled, so a miss never reads as a fast time. An interval whose upper end is
    `UNBOUNDED` runs to the right edge and ends in "∞" (the least certain cells must not look
    the most certain); one without known ends (a single study) is not drawn. Arrays:
    (num_methods, num_workloads)."""
    canvas = Canvas(width)
    finite = [float(v) for row in (*medians, *ci_highs) for v in row if _known(v)]
    right = 1.15 * max(finite, default=1.0)
    x = Scale(0.0, right * 1.02, label_column(labels), width - 20)
    ticks = nice_ticks(x.low, x.high)
    row_height, top, bottom = 28.0, 8.0, 0.0
    for w, workload in enumerate(workloads):
        canvas.text(x.start, top, workload, size=SMALL, valign="top", cls="workload")
        top += SMALL + 6
        panel_bottom = top + row_height * len(labels)
        if w == len(workloads) - 1:
            bottom = x_axis(canvas, x, panel_bottom, grid_top=top,
                            label="time to target (s of submission time): median over studies")
        else:
            for tick in ticks:
                canvas.line(x(tick), top, x(tick), panel_bottom, GRID, width=0.8)
            canvas.line(x.start, panel_bottom, x.end, panel_bottom, "#000000", width=0.8)
        canvas.line(x.start, top, x.start, panel_bottom, "#000000", width=0.8)
        for i, label in enumerate(labels):
            middle = top + (i + 0.5) * row_height
            canvas.text(x.start - 8, middle, label, size=SMALL, anchor="end", cls="row-label")
            with canvas.group("method", method=label, workload=workload):
                _time_row(canvas, x, middle, i, right,
                          (medians[i][w], ci_lows[i][w], ci_highs[i][w]))
        top = panel_bottom + 14
    canvas.height = bottom + 8
    return canvas


def _time_row(canvas: Canvas, x: Scale, middle: float, index: int, right: float,
              cell: tuple[float | None, float | None, float | None]) -> None:
    colour, _, marker = method_style(index)
    median, low, high = cell
    if not _known(median):
        canvas.marker("x", x(right), middle, colour, size=9, cls="miss")
        canvas.text(x(right) - 9, middle, "not reached", size=0.7 * FONT_SIZE, anchor="end",
                    colour=colour, cls="miss")
        return
    if _known(low) and high == UNBOUNDED:
        canvas.line(x(low), middle, x(right), middle, colour, width=2.5, cls="interval open")
        canvas.text(x(right) + 3, middle, "∞", size=0.8 * FONT_SIZE, colour=colour,
                    cls="interval open")
    elif _known(low) and _known(high):
        canvas.line(x(low), middle, x(min(high, right)), middle, colour, width=2.5,
                    cls="interval")
    canvas.marker(marker, x(median), middle, colour, size=9, cls="median")
