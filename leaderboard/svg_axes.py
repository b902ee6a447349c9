"""Scales, axes and legends for figures drawn with `leaderboard.svg`.

A `Scale` maps data values onto pixels; `nice_ticks` picks round tick values (steps of 1, 2,
2.5 or 5 times a power of ten), `x_axis` and `y_axis` draw an axis with its ticks, tick labels,
grid lines and title, and `legend` lays out marker or line samples with their labels in rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from leaderboard.svg import FONT_SIZE, Canvas, text_width

AXIS = "#000000"
GRID = "#dddddd"
MUTED = "#444444"
SMALL = 0.85 * FONT_SIZE
"""Tick labels and legends ("small" in matplotlib's terms)."""


@dataclass(frozen=True)
class Scale:
    """Maps the data interval [low, high] linearly onto the pixels [start, end]."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        return self.start + (float(value) - self.low) / span * (self.end - self.start)


def padded_range(values: Iterable[float], pad: float = 0.05) -> tuple[float, float]:
    """[min, max] of the finite `values` widened by `pad` of their span on each side; a single
    value gets a span of 10% of its size (or 1 around zero); no value gives [0, 1]."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    span = high - low or (0.1 * abs(low) or 1.0)
    return low - pad * span, high + pad * span


def tick_step(low: float, high: float, count: int = 5) -> float:
    """The round step nearest (in ratio) to cutting [low, high] into `count` intervals."""
    raw = (high - low) / max(1, count)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return min((m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0)),
               key=lambda step: abs(math.log(step / raw)))


def nice_ticks(low: float, high: float, count: int = 5) -> tuple[float, ...]:
    """Round tick values inside [low, high], about `count` intervals apart."""
    step = tick_step(low, high, count)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return tuple(round(k * step, 12) for k in range(first, last + 1))


def tick_text(value: float, step: float) -> str:
    """`value` with as many decimals as the tick step needs (0.25 → 2, 0.5 → 1, 20 → 0)."""
    decimals = next(d for d in range(13) if abs(round(step, d) - step) <= 1e-9 * step)
    return f"{value:.{decimals}f}"


def x_axis(canvas: Canvas, scale: Scale, y: float, *, label: str = "", count: int = 5,
           grid_top: float | None = None,
           ticks: Sequence[tuple[float, str]] | None = None) -> float:
    """A horizontal axis at height `y` under a plot: line, ticks, tick labels and `label`;
    with `grid_top`, grid lines from each tick up to that height. Ticks are about `count`
    round values, or the given (value, text) pairs. Returns the bottom of what it drew."""
    if ticks is None:
        step = tick_step(scale.low, scale.high, count)
        ticks = [(t, tick_text(t, step)) for t in nice_ticks(scale.low, scale.high, count)]
    for tick, text in ticks:
        x = scale(tick)
        if grid_top is not None:
            canvas.line(x, grid_top, x, y, GRID, width=0.8)
        canvas.line(x, y, x, y + 4, AXIS, width=0.8)
        canvas.text(x, y + 6, text, size=SMALL, anchor="middle", valign="top", cls="tick")
    canvas.line(scale.start, y, scale.end, y, AXIS, width=0.8)
    bottom = y + 6 + SMALL
    if label:
        canvas.text((scale.start + scale.end) / 2, bottom + 6, label, anchor="middle",
                    valign="top")
        bottom += 6 + FONT_SIZE
    return bottom


def y_axis(canvas: Canvas, scale: Scale, x: float, *, label: str = "", count: int = 4,
           grid_right: float | None = None) -> None:
    """A vertical axis at `x` left of a plot: line, about `count` ticks with labels, grid
    lines to `grid_right` and the rotated `label`, placed left of the tick labels."""
    step = tick_step(scale.low, scale.high, count)
    widest = 0.0
    for tick in nice_ticks(scale.low, scale.high, count):
        y = scale(tick)
        if grid_right is not None:
            canvas.line(x, y, grid_right, y, GRID, width=0.8)
        canvas.line(x - 4, y, x, y, AXIS, width=0.8)
        text = tick_text(tick, step)
        widest = max(widest, text_width(text, SMALL))
        canvas.text(x - 6, y, text, size=SMALL, anchor="end", cls="tick")
    canvas.line(x, scale.start, x, scale.end, AXIS, width=0.8)
    if label:
        middle = (scale.start + scale.end) / 2
        canvas.text(x - 12 - widest, middle, label, anchor="middle", valign="baseline",
                    rotate=-90)


@dataclass(frozen=True)
class LegendEntry:
    """A legend sample: a marker (`shape`, filled or hollow) and/or a line (`style`)."""

    label: str
    colour: str
    shape: str | None = None
    filled: bool = True
    style: str | None = None


def legend(canvas: Canvas, x: float, y: float, entries: Sequence[LegendEntry], *,
           width: float) -> float:
    """Lay `entries` out in rows from (x, y) within `width` pixels; return the height used."""
    row_height = SMALL + 8
    left, top = x, y
    for entry in entries:
        sample = 22.0 if entry.style else 12.0
        needed = sample + 4 + text_width(entry.label, SMALL) + 16
        if left > x and left + needed > x + width:
            left, top = x, top + row_height
        middle = top + row_height / 2
        if entry.style:
            canvas.line(left, middle, left + sample, middle, entry.colour, width=1.6,
                        style=entry.style)
        if entry.shape:
            canvas.marker(entry.shape, left + sample / 2, middle, entry.colour, size=7,
                          filled=entry.filled)
        canvas.text(left + sample + 4, middle, entry.label, size=SMALL)
        left += needed
    return top - y + row_height if entries else 0.0
