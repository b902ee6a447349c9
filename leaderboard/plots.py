"""Figures of the leaderboard: pure functions, data in, `matplotlib.figure.Figure` out.

Nothing here saves, shows or touches global state: figures are made with the object API on an
Agg canvas (no pyplot, no backend switch, no rcParams change), so importing this module or
drawing a figure cannot affect the caller's matplotlib. `leaderboard.build` saves them as SVG.
The critical-difference diagram and the p-value heatmap live in `leaderboard.stat_plots`, the
protocol-gap and stability-gap figures in `leaderboard.gap_plots`, the time-to-result figures
in `leaderboard.ttr_plots`, the palette and the figure factory in `leaderboard.plot_style`;
`PLOTTERS` names them all.

Colours are the Okabe–Ito palette, distinguishable under the common colour-vision deficiencies,
and every status also has its own marker shape, so no information is carried by colour alone.
Heatmaps use ``cividis``, a colour map designed to be read the same with and without colour
vision deficiency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from leaderboard.aggregate_view import plot_aggregate_estimates
from leaderboard.gap_plots import plot_protocol_gap, plot_stability_gap
from leaderboard.nevis_plots import NEVIS_PLOTTERS
from leaderboard.plot_style import OKABE_ITO, new_figure
from leaderboard.stat_plots import plot_critical_difference, plot_pvalue_heatmap
from leaderboard.ttr_plots import (
    plot_eval_curves,
    plot_performance_profile,
    plot_time_to_target,
)

# status (see leaderboard.view.VersusBest) -> (legend label, colour, marker, filled)
_STATUS_STYLE = {
    "best": ("best", OKABE_ITO["blue"], "D", True),
    "tied": ("tied with best", OKABE_ITO["sky_blue"], "o", True),
    "worse": ("worse than best", OKABE_ITO["black"], "o", True),
    "untestable": ("cannot be tested (too few seeds)", OKABE_ITO["orange"], "^", True),
    "reference": ("upper bound, not continual", OKABE_ITO["vermillion"], "s", False),
    "no-results": ("no results", OKABE_ITO["black"], "x", True),
}


def plot_interval_estimates(
    labels: Sequence[str],
    means: Sequence[float],
    ci_lows: Sequence[float],
    ci_highs: Sequence[float],
    statuses: Sequence[str],
    *,
    metric_label: str,
    width_in: float = 6.4,
) -> Figure:
    """Point estimates with confidence intervals, one row per method, first label on top.

    All sequences have one entry per method. Intervals that are nan (a single seed) are drawn as
    the point alone. `statuses` are `VersusBest` values and choose colour, marker and legend.
    """
    count = len(labels)
    figure = new_figure(width_in, 0.42 * count + 1.3)
    axes = figure.add_subplot()
    positions = np.arange(count)[::-1]
    for y, mean, low, high, status in zip(
        positions, means, ci_lows, ci_highs, statuses, strict=True
    ):
        _, colour, marker, filled = _STATUS_STYLE[status]
        if np.isfinite(low) and np.isfinite(high):
            axes.hlines(y, low, high, colors=colour, linewidth=2.5)
        axes.plot(
            [mean], [y], marker=marker, markersize=8, linestyle="none", color=colour,
            markerfacecolor=colour if filled else "white", markeredgewidth=1.5,
        )
    axes.set_yticks(positions, labels=list(labels))
    axes.set_ylim(-0.7, count - 0.3)
    axes.set_xlabel(metric_label)
    axes.grid(axis="x", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    present = [s for s in _STATUS_STYLE if s in set(statuses)]
    axes.legend(
        handles=[_legend_handle(s) for s in present], loc="upper center",
        bbox_to_anchor=(0.5, -0.25 if count > 2 else -0.45), ncols=min(3, len(present)),
        frameon=False, fontsize="small",
    )
    return figure


def _legend_handle(status: str) -> Line2D:
    label, colour, marker, filled = _STATUS_STYLE[status]
    return Line2D(
        [], [], marker=marker, linestyle="none", color=colour, markersize=7, label=label,
        markerfacecolor=colour if filled else "white", markeredgewidth=1.5,
    )


def plot_accuracy_matrix(
    matrix: Sequence[Sequence[float]],
    *,
    title: str = "",
    vmin: float = 0.0,
    vmax: float = 1.0,
    max_annotated_tasks: int = 10,
) -> Figure:
    """Heatmap of an accuracy matrix of shape (T + 1, T): row 0 untrained, row j after task j.

    Cells are annotated with their value when T <= `max_annotated_tasks`.
    """
    values = np.asarray(matrix, dtype=float)
    num_rows, num_tasks = values.shape
    side_in = 0.45 * num_tasks + 2.2
    figure = new_figure(side_in + 0.8, 0.4 * num_rows + 1.6)
    axes = figure.add_subplot()
    image = axes.imshow(values, cmap="cividis", vmin=vmin, vmax=vmax, aspect="auto")
    axes.set_xticks(range(num_tasks), labels=[str(i + 1) for i in range(num_tasks)])
    axes.set_yticks(
        range(num_rows), labels=["untrained", *(f"after {j}" for j in range(1, num_rows))]
    )
    axes.set_xlabel("evaluated on task")
    axes.set_ylabel("model")
    if title:
        axes.set_title(title)
    if num_tasks <= max_annotated_tasks:
        middle = (vmin + vmax) / 2
        for (row, column), value in np.ndenumerate(values):
            axes.text(
                column, row, f"{value:.2f}", ha="center", va="center", fontsize="x-small",
                # cividis is dark at the low end and light at the high end.
                color="white" if value < middle else "black",
            )
    figure.colorbar(image, ax=axes, label="accuracy", shrink=0.9)
    return figure


PLOTTERS = {
    "interval_estimates": plot_interval_estimates,
    "accuracy_matrix": plot_accuracy_matrix,
    "critical_difference": plot_critical_difference,
    "pvalue_heatmap": plot_pvalue_heatmap,
    "protocol_gap": plot_protocol_gap,
    "stability_gap": plot_stability_gap,
    "performance_profile": plot_performance_profile,
    "eval_curves": plot_eval_curves,
    "time_to_target": plot_time_to_target,
    "aggregate_estimates": plot_aggregate_estimates,
    **NEVIS_PLOTTERS,
}
"""Drawing function for each `leaderboard.figures.PlotSpec.kind`."""
