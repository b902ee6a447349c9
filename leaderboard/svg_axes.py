"""Scales, axes and legends for figures drawn with `leaderboard.svg`.

A `Scale` maps data values onto pixels, a `LogScale` their logarithms (quantities that span
orders of magnitude, such as FLOPs); `nice_ticks` picks round tick values (steps of 1, 2, 2.5
or 5 times a power of ten) and `log_ticks` powers of ten (or their round multiples when the
range is short); `x_axis` and `y_axis` draw an axis with its ticks, tick labels, grid lines and
title, and `legend` lays out marker or line samples with their labels in rows. `finite_runs`
and `post_steps` turn data into the vertices of broken and stepped lines.
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


@dataclass(frozen=True)
class LogScale:
    """Maps the positive data interval [low, high] onto the pixels [start, end] so that equal
    ratios get equal distances. Values at or below zero have no position (nan)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if not float(value) > 0:
            return math.nan
        span = math.log10(self.high) - math.log10(self.low)
        return self.start + (math.log10(value) - math.log10(self.low)) / span * (
            self.end - self.start)


def padded_range(values: Iterable[float], pad: float = 0.05) -> tuple[float, float]:
    """[min, max] of the finite `values` widened by `pad` of their span on each side; a single
    value gets a span of 10% of its size (or 1 around zero); no value gives [0, 1]."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    span = high - low or (0.1 * abs(low) or 1.0)
    return low - pad * span, high + pad * span


def padded_log_range(values: Iterable[float], pad: float = 0.05) -> tuple[float, float]:
    """`padded_range` on a log scale: [min, max] of the finite positive `values` widened by
    `pad` of their span in decades on each side; a single value gets one decade around it, no
    value gives [1, 10]."""
    logs = [math.log10(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    if not logs:
        return 1.0, 10.0
    low, high = min(logs), max(logs)
    if high == low:
        low, high = low - 0.5, high + 0.5
    span = high - low
    return 10.0 ** (low - pad * span), 10.0 ** (high + pad * span)


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


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def power_text(mantissa: str, exponent: int) -> str:
    """``10⁶``, or ``2×10⁶`` for a mantissa other than "1" (as matplotlib labels log axes)."""
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == "1" else f"{mantissa}×{power}"


def log_ticks(low: float, high: float, count: int = 6) -> list[tuple[float, str]]:
    """(value, text) ticks of a log axis on [low, high] (both > 0): every k-th power of ten
    (k chosen for at most `count` ticks) when two or more fall inside, otherwise the multiples
    1, 2, 3 and 5 of powers of ten, then all of 1 … 9, and for a range too short for those,
    round values as on a linear axis (``1.2×10⁶``)."""
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    if last > first:
        every = math.ceil((last - first + 1) / count)
        return [(10.0 ** e, power_text("1", e)) for e in range(first, last + 1)
                if (e - first) % every == 0]
    for mantissas in ((1, 2, 3, 5), tuple(range(1, 10))):
        ticks = [(m * 10.0 ** e, power_text(str(m), e)) for e in range(first - 1, last + 1)
                 for m in mantissas if low * (1 - 1e-9) <= m * 10.0 ** e <= high * (1 + 1e-9)]
        if len(ticks) >= 3:
            return ticks
    exponent = math.floor(math.log10(high))
    unit = 10.0 ** exponent
    step = tick_step(low, high, count - 2)
    return [(t, power_text(tick_text(t / unit, step / unit), exponent))
            for t in nice_ticks(low, high, count - 2)]


def finite_runs(values: Sequence[float]) -> list[list[int]]:
    """Indices of the stretches of finite `values`: a nan or infinite value breaks a line, as
    matplotlib leaves a gap for it."""
    runs: list[list[int]] = []
    for index, value in enumerate(values):
        if value is None or not math.isfinite(value):
            runs.append([])
        elif runs:
            runs[-1].append(index)
        else:
            runs.append([index])
    return [r for r in runs if r]


def post_steps(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The vertices of a step line through `points` (sorted by x) that holds each y until the
    next x (matplotlib's ``where="post"``); a y equal to the one before adds no vertex, so long
    flat stretches cost one segment."""
    vertices: list[tuple[float, float]] = []
    for x, y in points:
        if vertices and vertices[-1][1] == y:
            continue
        if vertices:
            vertices.append((x, vertices[-1][1]))
        vertices.append((x, y))
    if len(points) > 1 and vertices[-1] != tuple(points[-1]):
        vertices.append(tuple(points[-1]))  # the last flat stretch reaches the last x
    return vertices


def x_axis(canvas: Canvas, scale: Scale | LogScale, y: float, *, label: str = "",
           count: int = 5, grid_top: float | None = None,
           ticks: Sequence[tuple[float, str]] | None = None, tilt: float | None = None,
           tick_size: float = SMALL) -> float:
    """A horizontal axis at height `y` under a plot: line, ticks, tick labels and `label`;
    with `grid_top`, grid lines from each tick up to that height. Ticks are about `count`
    round values, or the given (value, text) pairs; `tilt` turns the tick labels that many
    degrees (their ends at the ticks), for long labels. Returns the bottom of what it drew."""
    if ticks is None:
        step = tick_step(scale.low, scale.high, count)
        ticks = [(t, tick_text(t, step)) for t in nice_ticks(scale.low, scale.high, count)]
    for tick, text in ticks:
        x = scale(tick)
        if grid_top is not None:
            canvas.line(x, grid_top, x, y, GRID, width=0.8)
        canvas.line(x, y, x, y + 4, AXIS, width=0.8, cls="tick-mark")
        if tilt:
            canvas.text(x, y + 6, text, size=tick_size, anchor="end", rotate=-tilt,
                        cls="tick")
        else:
            canvas.text(x, y + 6, text, size=tick_size, anchor="middle", valign="top",
                        cls="tick")
    canvas.line(scale.start, y, scale.end, y, AXIS, width=0.8)
    longest = max((text_width(text, tick_size) for _, text in ticks), default=0.0)
    bottom = y + 6 + (longest * math.sin(math.radians(tilt)) + tick_size if tilt
                      else tick_size)
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
        canvas.line(x - 4, y, x, y, AXIS, width=0.8, cls="tick-mark")
        text = tick_text(tick, step)
        widest = max(widest, text_width(text, SMALL))
        canvas.text(x - 6, y, text, size=SMALL, anchor="end", cls="tick")
    canvas.line(x, scale.start, x, scale.end, AXIS, width=0.8)
    if label:
        middle = (scale.start + scale.end) / 2
        canvas.text(x - 12 - widest, middle, label, anchor="middle", valign="baseline",
                    rotate=-90)


def y_axis_width(low: float, high: float, *, count: int = 4) -> float:
    """The room that `y_axis` on [low, high] with its title takes left of its line."""
    step = tick_step(low, high, count)
    widest = max((text_width(tick_text(t, step), SMALL) for t in nice_ticks(low, high, count)),
                 default=0.0)
    return 12 + widest + FONT_SIZE + 4


def xy_plot(canvas: Canvas, x_range: tuple[float, float], y_range: tuple[float, float], *,
            top: float, height: float, y_label: str, y_count: int = 4,
            log_x: bool = False) -> tuple[Scale | LogScale, Scale]:
    """The scales of an x–y plot `height` pixels tall from `top` and as wide as the canvas
    leaves beside the y axis, whose ticks, horizontal grid lines and title it draws (drawn
    first, so that the data lies on top). The caller draws the x axis at ``y.start``."""
    left = 8 + y_axis_width(*y_range, count=y_count)
    x = (LogScale if log_x else Scale)(*x_range, left, canvas.width - 20)
    y = Scale(*y_range, top + height, top)
    y_axis(canvas, y, left, label=y_label, count=y_count, grid_right=x.end)
    return x, y


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


def legend_below(canvas: Canvas, entries: Sequence[LegendEntry], top: float) -> None:
    """`entries` in rows from `top` across the canvas, which then ends under them."""
    canvas.height = top + 8 + legend(canvas, 16, top + 8, entries, width=canvas.width - 32) + 6
