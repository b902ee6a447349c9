"""Figures with one row per method on a value axis: interval estimates, seed strip plots and
the aggregate panels. Pure functions: data in, a `leaderboard.svg.Canvas` out.

They share one layout (`rows_panel`): method names in a column on the left, first label on
top, the value axis below with grid lines. Every status of `leaderboard.rows.VersusBest` has
its own colour (Okabe–Ito) *and* marker shape, so no information is carried by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from leaderboard.plot_style import OKABE_ITO
from leaderboard.svg import Canvas, text_width
from leaderboard.svg_axes import LegendEntry, Scale, legend, padded_range, x_axis

STATUS_STYLE = {
    "best": ("best", OKABE_ITO["blue"], "D", True),
    "tied": ("tied with best", OKABE_ITO["sky_blue"], "D", False),  # best's shape, hollow
    "worse": ("worse than best", OKABE_ITO["black"], "o", True),
    "untestable": ("cannot be tested (too few seeds)", OKABE_ITO["orange"], "^", True),
    "reference": ("upper bound, not continual", OKABE_ITO["vermillion"], "s", False),
    "incomplete": ("not ranked: seeds failed", OKABE_ITO["reddish_purple"], "v", False),
    "no-results": ("no results", OKABE_ITO["black"], "x", True),
}
"""status (`leaderboard.rows.VersusBest` value) -> (legend label, colour, marker, filled)."""

METHOD_COLOURS = tuple(OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "vermillion",
                                              "reddish_purple", "sky_blue", "black"))
"""Colours cycled over methods where a figure has no status to show."""

ROW_HEIGHT = 30.0
WIDTH = 620.0
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class RowsPanel:
    """A panel of `count` rows between `top` and `top + count * row_height` on `scale`."""

    scale: Scale
    top: float
    row_height: float
    count: int

    def y(self, row: int) -> float:
        """The middle of row `row` (0 = top)."""
        return self.top + (row + 0.5) * self.row_height

    @property
    def bottom(self) -> float:
        return self.top + self.count * self.row_height


def label_column(labels: Sequence[str]) -> float:
    """The width of a column of row labels, with their margins."""
    return max((text_width(label) for label in labels), default=0.0) + 18.0


def rows_panel(canvas: Canvas, labels: Sequence[str], values: Sequence[float], *,
               left: float, right: float, top: float, row_height: float = ROW_HEIGHT,
               axis_label: str = "", title: str = "", ticks: int = 5,
               show_labels: bool = True) -> tuple[RowsPanel, float]:
    """Draw the frame of a rows figure — `title` above, grid lines, the row labels left of
    `left` (when `show_labels`), the value axis fitted to `values` under the rows — and return
    the panel (to draw the rows on) and the bottom of what was drawn."""
    if title:
        canvas.text((left + right) / 2, top, title, anchor="middle", valign="top")
        top += 20.0
    low, high = padded_range(values)
    panel = RowsPanel(Scale(low, high, left, right), top, row_height, len(labels))
    if show_labels:
        for row, label in enumerate(labels):
            canvas.text(left - 8, panel.y(row), label, anchor="end", cls="row-label")
    bottom = x_axis(canvas, panel.scale, panel.bottom, label=axis_label, count=ticks,
                    grid_top=top)
    return panel, bottom


def _status_legend(canvas: Canvas, statuses: Sequence[str], top: float) -> float:
    present = [s for s in STATUS_STYLE if s in set(statuses)]
    entries = [LegendEntry(STATUS_STYLE[s][0], STATUS_STYLE[s][1], STATUS_STYLE[s][2],
                           STATUS_STYLE[s][3]) for s in present]
    return top + legend(canvas, 16.0, top, entries, width=canvas.width - 32.0)


def _interval(canvas: Canvas, scale: Scale, y: float, low: float, high: float, colour: str,
              *, width: float = 2.5, caps: bool = False, opacity: float | None = None) -> None:
    """A horizontal interval (nothing where a bound is not finite)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return
    canvas.line(scale(low), y, scale(high), y, colour, width=width, opacity=opacity,
                cls="interval")
    if caps:
        for bound in (low, high):
            canvas.line(scale(bound), y - 5, scale(bound), y + 5, colour, width=width,
                        cls="interval")


def plot_interval_estimates(
    labels: Sequence[str], means: Sequence[float], ci_lows: Sequence[float],
    ci_highs: Sequence[float], statuses: Sequence[str], *, metric_label: str,
    width: float = WIDTH,
) -> Canvas:
    """Point estimates with confidence intervals, one row per method, first label on top.

    All sequences have one entry per method. Intervals that are nan (a single seed) are drawn as
    the point alone. `statuses` are `VersusBest` values and choose colour, marker and legend.
    """
    canvas = Canvas(width)
    panel, bottom = rows_panel(canvas, labels, [*means, *ci_lows, *ci_highs],
                               left=label_column(labels), right=width - 20, top=10,
                               axis_label=metric_label)
    for row, (label, mean, low, high, status) in enumerate(
            zip(labels, means, ci_lows, ci_highs, statuses, strict=True)):
        _, colour, shape, filled = STATUS_STYLE[status]
        with canvas.group("method", method=label, status=status):
            _interval(canvas, panel.scale, panel.y(row), low, high, colour)
            canvas.marker(shape, panel.scale(mean), panel.y(row), colour, size=9,
                          filled=filled, cls="mean")
    canvas.height = _status_legend(canvas, statuses, bottom + 8) + 6
    return canvas


def jitter(count: int, spread: float) -> list[float]:
    """`count` vertical offsets within ±`spread` / 2, evenly filled (golden-ratio sequence), so
    that equal values stay apart and the same data gives the same picture."""
    return [((k * _GOLDEN) % 1.0 - 0.5) * spread for k in range(count)]


def plot_seed_strip(
    labels: Sequence[str], seeds: Sequence[Sequence[float]], means: Sequence[float],
    ci_lows: Sequence[float], ci_highs: Sequence[float], statuses: Sequence[str], *,
    metric_label: str, width: float = WIDTH,
) -> Canvas:
    """Every seed's value as a dot (one row per method, first label on top, dots spread
    vertically so that equal values stay visible), with the seed mean as a marker and its
    confidence interval as a capped bar on top.

    `seeds[i]` are method i's per-seed values; the other sequences have one entry per method
    as in `plot_interval_estimates` (nan bounds: no bar).
    """
    canvas = Canvas(width)
    every = [v for values in seeds for v in values]
    row_height = 36.0
    panel, bottom = rows_panel(canvas, labels, [*every, *means, *ci_lows, *ci_highs],
                               left=label_column(labels), right=width - 20, top=10,
                               row_height=row_height, axis_label=metric_label)
    for row, (label, values, mean, low, high, status) in enumerate(
            zip(labels, seeds, means, ci_lows, ci_highs, statuses, strict=True)):
        _, colour, shape, filled = STATUS_STYLE[status]
        y = panel.y(row)
        with canvas.group("method", method=label, status=status, seeds=len(values)):
            for value, offset in zip(sorted(values), jitter(len(values), 0.6 * row_height),
                                     strict=True):
                canvas.marker("o", panel.scale(value), y + offset, colour, size=5.0,
                              opacity=0.45, edge="none", cls="seed")
            _interval(canvas, panel.scale, y, low, high, OKABE_ITO["black"], width=1.6,
                      caps=True)
            canvas.marker(shape, panel.scale(mean), y, colour, size=10, filled=filled,
                          edge=OKABE_ITO["black"], cls="mean")
    canvas.height = _status_legend(canvas, statuses, bottom + 8) + 6
    return canvas


def plot_aggregate_estimates(
    aggregates: Sequence[str], labels: Sequence[str], points: Sequence[Sequence[float]],
    ci_lows: Sequence[Sequence[float]], ci_highs: Sequence[Sequence[float]], *,
    width: float = 800.0,
) -> Canvas:
    """rliable's interval-estimate panels: one panel per aggregate, one row per method (first
    label on top, names on the first panel only), a bar for the interval and a stroke for the
    point estimate.

    `points`, `ci_lows`, `ci_highs`: shape (num_methods, num_aggregates).
    """
    canvas = Canvas(width)
    left, gap = label_column(labels), 24.0
    panel_width = (width - left - 12.0 - gap * (len(aggregates) - 1)) / len(aggregates)
    bottom = 0.0
    for a, title in enumerate(aggregates):
        start = left + a * (panel_width + gap)
        column = [v for rows in (points, ci_lows, ci_highs) for v in (r[a] for r in rows)]
        panel, panel_bottom = rows_panel(canvas, labels, column, left=start,
                                         right=start + panel_width, top=8, title=title,
                                         row_height=26.0, ticks=3, show_labels=a == 0)
        bottom = max(bottom, panel_bottom)
        with canvas.group("aggregate", aggregate=title):
            for row, label in enumerate(labels):
                colour = METHOD_COLOURS[row % len(METHOD_COLOURS)]
                y = panel.y(row)
                with canvas.group("method", method=label):
                    _interval(canvas, panel.scale, y, ci_lows[row][a], ci_highs[row][a], colour,
                              width=7.0, opacity=0.55)
                    canvas.marker("|", panel.scale(points[row][a]), y, OKABE_ITO["black"],
                                  size=16, cls="point")
    canvas.height = bottom + 8
    return canvas
