"""Heatmaps of the site: accuracy matrices and pairwise p-values. Pure functions: data in, a
`leaderboard.svg.Canvas` out.

Both colour their cells with ``cividis`` (`leaderboard.plot_style.cividis`), annotate them, and
explain the colours with a colour bar; text on a cell is white on the dark end of the map and
black on the light end, so every annotation stays readable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leaderboard.plot_style import CIVIDIS, cividis
from leaderboard.svg import FONT_SIZE, Canvas, text_width
from leaderboard.svg_axes import SMALL

_CELL_TEXT = 0.75 * FONT_SIZE
_MISSING = "#eeeeee"
_P_FLOOR = 1e-4  # the colour scale's lower end; smaller p-values get its colour
_BAR_WIDTH = 14.0


@dataclass(frozen=True)
class _Cell:
    fraction: float  # position on the colour map; nan: no value (grey)
    text: str
    bold: bool = False


def _grid(canvas: Canvas, cells: Sequence[Sequence[_Cell]], rows: Sequence[str],
          columns: Sequence[str], *, left: float, top: float, cell: tuple[float, float],
          tilt_columns: bool) -> float:
    """Draw the cells with their row labels (left) and column labels (below); return the
    bottom of the column labels."""
    width, height = cell
    for i, (label, row) in enumerate(zip(rows, cells, strict=True)):
        y = top + i * height
        canvas.text(left - 6, y + height / 2, label, size=SMALL, anchor="end", cls="row-label")
        for j, item in enumerate(row):
            x = left + j * width
            fill = cividis(item.fraction) if math.isfinite(item.fraction) else _MISSING
            canvas.rect(x, y, width, height, fill, stroke=fill, cls="cell")  # no seams
            if item.text:
                dark = math.isfinite(item.fraction) and item.fraction < 0.5
                canvas.text(x + width / 2, y + height / 2, item.text, size=_CELL_TEXT,
                            anchor="middle", weight="bold" if item.bold else None,
                            colour="white" if dark else "black", cls="value")
    bottom = top + len(rows) * height
    for j, label in enumerate(columns):
        x = left + (j + 0.5) * width
        if tilt_columns:
            canvas.text(x + 4, bottom + 8, label, size=SMALL, anchor="end", valign="top",
                        rotate=-30, cls="column-label")
        else:
            canvas.text(x, bottom + 6, label, size=SMALL, anchor="middle", valign="top",
                        cls="column-label")
    tallest = max((text_width(c, SMALL) for c in columns), default=0.0) * 0.5 \
        if tilt_columns else 0.0
    return bottom + 8 + SMALL + tallest


def _colour_bar(canvas: Canvas, x: float, top: float, height: float,
                ticks: Sequence[tuple[float, str]], label: str) -> tuple[float, float]:
    """A vertical colour bar of ``cividis`` (0 at the bottom) beside a grid `height` tall,
    with `ticks` (fraction, text) and the rotated `label` (the bar grows to fit it); returns
    its right edge and bottom."""
    height = max(height, text_width(label) + 12)
    stops = "".join(f'<stop offset="{k / (len(CIVIDIS) - 1):.4g}" stop-color="{colour}"/>'
                    for k, colour in enumerate(CIVIDIS))
    canvas.raw('<defs><linearGradient id="colour-scale" x1="0" y1="1" x2="0" y2="0">'
               f"{stops}</linearGradient></defs>")
    canvas.rect(x, top, _BAR_WIDTH, height, "url(#colour-scale)", cls="colour-bar")
    widest = 0.0
    for fraction, text in ticks:
        y = top + (1.0 - fraction) * height
        canvas.line(x + _BAR_WIDTH, y, x + _BAR_WIDTH + 4, y, "#000000", width=0.8)
        canvas.text(x + _BAR_WIDTH + 6, y, text, size=SMALL)
        widest = max(widest, text_width(text, SMALL))
    label_x = x + _BAR_WIDTH + 14 + widest
    canvas.text(label_x, top + height / 2, label, anchor="middle", valign="top", rotate=-90)
    return label_x + FONT_SIZE + 6, top + height


def _layout(rows: Sequence[str], title: str) -> tuple[float, float]:
    """(left, top) of the grid: room for the axis title, the row labels and the title."""
    left = 8 + FONT_SIZE + 10 + max(text_width(r, SMALL) for r in rows) + 6
    return left, (30.0 if title else 10.0)


def plot_accuracy_matrix(
    matrix: Sequence[Sequence[float]], *, title: str = "", vmin: float = 0.0,
    vmax: float = 1.0, max_annotated_tasks: int = 10,
) -> Canvas:
    """Heatmap of an accuracy matrix of shape (T + 1, T): row 0 untrained, row j after task j.

    Cells are annotated with their value when T <= `max_annotated_tasks`.
    """
    values = np.asarray(matrix, dtype=float)
    num_rows, num_tasks = values.shape
    annotate = num_tasks <= max_annotated_tasks
    rows = ["untrained", *(f"after {j}" for j in range(1, num_rows))]
    cells = [[_Cell((v - vmin) / (vmax - vmin), f"{v:.2f}" if annotate else "") for v in row]
             for row in values]
    cell = (max(34.0, min(60.0, 480.0 / num_tasks)), 26.0)
    left, top = _layout(rows, title)
    canvas = Canvas(0.0)
    if title:
        canvas.text(left + num_tasks * cell[0] / 2, 10, title, anchor="middle", valign="top",
                    weight="bold")
    bottom = _grid(canvas, cells, rows, [str(t + 1) for t in range(num_tasks)], left=left,
                   top=top, cell=cell, tilt_columns=False)
    right = left + num_tasks * cell[0]
    canvas.text((left + right) / 2, bottom + 4, "evaluated on task", anchor="middle",
                valign="top")
    canvas.text(8, top + num_rows * cell[1] / 2, "model", anchor="middle", valign="top",
                rotate=-90)
    ticks = [((t - vmin) / (vmax - vmin), f"{t:.1f}") for t in np.linspace(vmin, vmax, 6)]
    canvas.width, bar_bottom = _colour_bar(canvas, right + 16, top, num_rows * cell[1], ticks,
                                           "accuracy")
    canvas.height = max(bottom + 4 + FONT_SIZE, bar_bottom) + 10
    return canvas


def _p_text(p: float) -> str:
    if not math.isfinite(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _p_fraction(p: float) -> float:
    """Position of `p` on the log colour scale from `_P_FLOOR` (0) to 1 (1)."""
    if not math.isfinite(p):
        return math.nan
    return math.log10(min(1.0, max(_P_FLOOR, p)) / _P_FLOOR) / -math.log10(_P_FLOOR)


def plot_pvalue_heatmap(
    labels: Sequence[str], p_values: Sequence[Sequence[float]],
    significant: Sequence[Sequence[bool]], *, alpha: float, p_label: str, title: str = "",
) -> Canvas:
    """Symmetric heatmap of pairwise p-values on one benchmark, one row/column per method.

    `p_values[i][j]` is the (adjusted) p of methods i and j; nan on the diagonal and where a
    pair could not be tested ("—"). Colour is log-scaled (below 1e-4 saturates), every
    off-diagonal cell is annotated, and significant pairs (`significant[i][j]`) are marked in
    bold with "*".
    """
    values = np.asarray(p_values, dtype=float)
    count = len(labels)
    if values.shape != (count, count):
        raise ValueError(f"p_values must be {count} x {count}, got {values.shape}")
    cells = [
        [_Cell(math.nan, "") if i == j else _Cell(
            _p_fraction(p), _p_text(p) + ("*" if significant[i][j] else ""),
            bold=bool(significant[i][j]))
         for j, p in enumerate(row)]
        for i, row in enumerate(values)
    ]
    cell = (58.0, 30.0)
    left, top = _layout(labels, title)
    canvas = Canvas(0.0)
    if title:
        canvas.text(left + count * cell[0] / 2, 10, title, anchor="middle", valign="top",
                    weight="bold")
    bottom = _grid(canvas, cells, labels, labels, left=left, top=top, cell=cell,
                   tilt_columns=True)
    ticks = [(_p_fraction(10.0 ** -k), f"{10.0 ** -k:g}") for k in range(4, -1, -1)]
    canvas.width, bar_bottom = _colour_bar(canvas, left + count * cell[0] + 16, top,
                                           count * cell[1], ticks,
                                           f"{p_label} (* < α = {alpha:g})")
    canvas.height = max(bottom, bar_bottom) + 10
    return canvas
