"""Figures of statistical comparisons: critical-difference diagrams and p-value heatmaps.

Pure functions like those of `leaderboard.plots` (data in, `Figure` out, no pyplot, no global
state); `leaderboard.plots.PLOTTERS` names them for `leaderboard.build`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from leaderboard.plot_style import OKABE_ITO, new_figure

_GREY = "#9a9a9a"
_ROW_IN = 0.26  # height of one label or group row, in inches
_P_FLOOR = 1e-4  # the colour scale's lower end; smaller p-values get its colour


def _label_rows(order: list[int]) -> tuple[list[int], list[int]]:
    """Best half labelled on the left (best on top), the rest on the right (worst on top)."""
    half = math.ceil(len(order) / 2)
    return order[:half], order[half:][::-1]


def plot_critical_difference(
    labels: Sequence[str],
    average_ranks: Sequence[float],
    cliques: Sequence[Sequence[str]],
    *,
    critical_difference: float | None = None,
    greyed: bool = False,
    note: str = "",
    width_in: float = 6.4,
) -> Figure:
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
    num_rows = len(cliques) + max(len(left), len(right))
    figure = new_figure(width_in, 1.1 + _ROW_IN * num_rows + (0.3 if note else 0.0))
    axes = figure.add_subplot()
    axes.set_axis_off()
    low, high = 1.0, float(max(count, *(math.ceil(r) for r in ranks)))
    axes.hlines(0.0, low, high, color=OKABE_ITO["black"], linewidth=1.2)
    for tick in range(1, int(high) + 1):
        axes.vlines(tick, 0.0, 0.12, color=OKABE_ITO["black"], linewidth=1.0)
        axes.text(tick, 0.2, str(tick), ha="center", va="bottom", fontsize="small")
    axes.text((low + high) / 2, 0.75, "average rank (1 = best)", ha="center", va="bottom",
              fontsize="small", color="#444444")
    if critical_difference is not None and math.isfinite(critical_difference):
        _draw_cd_bar(axes, critical_difference, low)
    bar_colour = _GREY if greyed else OKABE_ITO["black"]
    position = {label: ranks[j] for j, label in enumerate(labels)}
    for row, clique in enumerate(cliques):
        y = -0.3 - 0.22 * row
        xs = [position[m] for m in clique]
        axes.hlines(y, min(xs) - 0.04, max(xs) + 0.04, color=bar_colour, linewidth=3.5,
                    linestyles="--" if greyed else "-")
    first_label_y = -0.3 - 0.22 * len(cliques) - 0.15
    _draw_labels(axes, labels, ranks, left, low - 0.15, first_label_y, "right")
    _draw_labels(axes, labels, ranks, right, high + 0.15, first_label_y, "left")
    bottom = first_label_y - 0.34 * max(len(left), len(right))
    if note:
        axes.text((low + high) / 2, bottom - 0.05, note, ha="center", va="top",
                  fontsize="x-small", color="#444444", wrap=True)
        bottom -= 0.35
    axes.set_xlim(low - 0.2, high + 0.2)
    axes.set_ylim(bottom, 1.05)
    return figure


def _draw_labels(
    axes, labels: Sequence[str], ranks: list[float], members: list[int], end: float,
    top: float, align: str,
) -> None:
    """Elbow lines from each method's rank on the axis to its name at x = `end`."""
    gap = -0.05 if align == "right" else 0.05
    for row, j in enumerate(members):
        y = top - 0.34 * row
        axes.plot([ranks[j], ranks[j], end], [0.0, y, y], color=OKABE_ITO["black"],
                  linewidth=0.9)
        axes.text(end + gap, y, f"{labels[j]} ({ranks[j]:.2f})", ha=align, va="center",
                  fontsize="small")


def _draw_cd_bar(axes, critical_difference: float, start: float) -> None:
    y = 0.55
    end = start + critical_difference
    axes.hlines(y, start, end, color=OKABE_ITO["vermillion"], linewidth=1.6)
    axes.vlines([start, end], y - 0.06, y + 0.06, color=OKABE_ITO["vermillion"], linewidth=1.6)
    axes.text(end + 0.05, y, f"CD = {critical_difference:.2f}", ha="left", va="center",
              fontsize="small", color=OKABE_ITO["vermillion"])


def _p_text(p: float) -> str:
    if not math.isfinite(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def plot_pvalue_heatmap(
    labels: Sequence[str],
    p_values: Sequence[Sequence[float]],
    significant: Sequence[Sequence[bool]],
    *,
    alpha: float,
    p_label: str,
    title: str = "",
) -> Figure:
    """Symmetric heatmap of pairwise p-values on one benchmark, one row/column per method.

    `p_values[i][j]` is the (adjusted) p of methods i and j; nan on the diagonal and where a
    pair could not be tested ("—"). Colour is log-scaled (cividis; below 1e-4 saturates), every
    cell is annotated, and significant pairs (`significant[i][j]`) are marked in bold with "*".
    """
    values = np.asarray(p_values, dtype=float)
    count = len(labels)
    if values.shape != (count, count):
        raise ValueError(f"p_values must be {count} x {count}, got {values.shape}")
    side_in = 0.6 * count + 2.4
    figure = new_figure(side_in + 1.2, 0.5 * count + 1.8)
    axes = figure.add_subplot()
    shown = np.ma.masked_invalid(np.clip(values, _P_FLOOR, 1.0))
    image = axes.imshow(shown, cmap="cividis", norm=LogNorm(vmin=_P_FLOOR, vmax=1.0))
    axes.set_facecolor("#eeeeee")
    axes.set_xticks(range(count), labels=list(labels), rotation=30, ha="right")
    axes.set_yticks(range(count), labels=list(labels))
    for (i, j), p in np.ndenumerate(values):
        if i == j:
            continue
        mark = bool(significant[i][j])
        axes.text(
            j, i, _p_text(p) + ("*" if mark else ""), ha="center", va="center",
            fontsize="x-small", fontweight="bold" if mark else "normal",
            # cividis is dark at small p (the low end of the log scale)
            color="white" if math.isfinite(p) and p < 0.01 else "black",
        )
    if title:
        axes.set_title(title)
    figure.colorbar(image, ax=axes, label=f"{p_label} (* < α = {alpha:g})", shrink=0.9)
    return figure
