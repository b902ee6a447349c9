"""The critical-difference diagram of comparisons across benchmarks. A pure function: data in,
a `leaderboard.svg.Canvas` out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from leaderboard.plot_style import OKABE_ITO
from leaderboard.svg import FONT_SIZE, Canvas, text_width
from leaderboard.svg_axes import MUTED, SMALL

_GREY = "#9a9a9a"
_BLACK = OKABE_ITO["black"]
_LABEL_ROW = 22.0  # pixels between method names
_GROUP_ROW = 9.0  # pixels between group bars


def _label_rows(order: list[int]) -> tuple[list[int], list[int]]:
    """Best half labelled on the left (best on top), the rest on the right (worst on top)."""
    half = math.ceil(len(order) / 2)
    return order[:half], order[half:][::-1]


def _wrap(text: str, width: float, size: float) -> list[str]:
    """`text` cut into lines of at most `width` pixels (estimated), at spaces."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def plot_critical_difference(
    labels: Sequence[str],
    average_ranks: Sequence[float],
    cliques: Sequence[Sequence[str]],
    *,
    critical_difference: float | None = None,
    greyed: bool = False,
    note: str = "",
    width: float = 620.0,
) -> Canvas:
    """Demšar's critical-difference diagram: methods on an average-rank axis (1 = best, on the
    left), groups of methods not significantly different joined by bars.

    `labels` and `average_ranks` have one entry per method; `cliques` are groups of labels
    (overlapping groups are drawn on separate rows). `critical_difference` (Nemenyi's CD), when
    given and finite, is drawn as a reference bar above the axis. `greyed` draws the group bars
    grey and dashed (the omnibus test was not significant, so the groups are only indicative);
    `note` is printed under the diagram.
    """
    count = len(labels)
    if count < 2 or len(average_ranks) != count:
        raise ValueError("need at least two labels and one average rank per label")
    ranks = [float(r) for r in average_ranks]
    order = sorted(range(count), key=lambda j: (ranks[j], j))
    left, right = _label_rows(order)
    texts = [f"{label} ({rank:.2f})" for label, rank in zip(labels, ranks, strict=True)]
    margin_left = max(text_width(texts[j], SMALL) for j in left) + 30
    margin_right = max((text_width(texts[j], SMALL) for j in right), default=0.0) + 30
    width = max(width, margin_left + margin_right + 240)
    low, high = 1.0, float(max(count, *(math.ceil(r) for r in ranks)))

    def x(rank: float) -> float:
        return margin_left + (rank - low) / (high - low) * (width - margin_left - margin_right)

    canvas = Canvas(width)
    canvas.text(width / 2, 6, "average rank (1 = best)", size=SMALL, anchor="middle",
                valign="top", colour=MUTED)
    axis_y = 62.0
    if critical_difference is not None and math.isfinite(critical_difference):
        _cd_bar(canvas, x(low), x(low + critical_difference), critical_difference, 30.0)
    canvas.line(x(low), axis_y, x(high), axis_y, _BLACK, width=1.2)
    for tick in range(1, int(high) + 1):
        canvas.line(x(tick), axis_y - 6, x(tick), axis_y, _BLACK)
        canvas.text(x(tick), axis_y - 9, str(tick), size=SMALL, anchor="middle",
                    valign="baseline")
    bar_colour = _GREY if greyed else _BLACK
    position = {label: ranks[j] for j, label in enumerate(labels)}
    for row, clique in enumerate(cliques):
        y = axis_y + 14 + _GROUP_ROW * row
        xs = [position[m] for m in clique]
        canvas.line(x(min(xs)) - 3, y, x(max(xs)) + 3, y, bar_colour, width=3.5,
                    style="--" if greyed else "-", cls="group")
    first = axis_y + 14 + _GROUP_ROW * len(cliques) + 8
    for members, end, anchor in ((left, x(low) - 14, "end"), (right, x(high) + 14, "start")):
        for row, j in enumerate(members):
            y = first + _LABEL_ROW * row
            canvas.polyline([(x(ranks[j]), axis_y), (x(ranks[j]), y), (end, y)], _BLACK,
                            width=0.9)
            canvas.text(end + (-4 if anchor == "end" else 4), y, texts[j], size=SMALL,
                        anchor=anchor, cls="method")
    bottom = first + _LABEL_ROW * (max(len(left), len(right)) - 1) + 12
    for line in _wrap(note, width - 40, 0.75 * FONT_SIZE) if note else []:
        bottom += 0.75 * FONT_SIZE + 3
        canvas.text(width / 2, bottom, line, size=0.75 * FONT_SIZE, anchor="middle",
                    colour=MUTED, cls="note")
    canvas.height = bottom + 10
    return canvas


def _cd_bar(canvas: Canvas, start: float, end: float, critical_difference: float,
            y: float) -> None:
    colour = OKABE_ITO["vermillion"]
    canvas.line(start, y, end, y, colour, width=1.6)
    for edge in (start, end):
        canvas.line(edge, y - 4, edge, y + 4, colour, width=1.6)
    canvas.text(end + 5, y, f"CD = {critical_difference:.2f}", size=SMALL, colour=colour,
                cls="critical-difference")
