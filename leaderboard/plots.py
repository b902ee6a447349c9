"""The figures of the leaderboard by name, and how a figure of the view model becomes SVG text.

Every drawing function is pure: data in, a drawing out; none saves, shows or touches global
state. Most return a `leaderboard.svg.Canvas` written directly as SVG — interval estimates,
seed strip plots and aggregates (`leaderboard.interval_plots`), accuracy matrices and p-value
heatmaps (`leaderboard.heatmaps`), the critical-difference diagram (`leaderboard.stat_plots`),
the protocol-gap and stability-gap figures (`leaderboard.gap_plots`). The time-to-result and
NEVIS figures (`leaderboard.ttr_plots`, `leaderboard.nevis_plots`) return a matplotlib
`Figure`. `PLOTTERS` names them all for `leaderboard.figures.PlotSpec.kind`.
"""

from __future__ import annotations

from leaderboard.figures import PlotSpec
from leaderboard.gap_plots import plot_protocol_gap, plot_stability_gap
from leaderboard.heatmaps import plot_accuracy_matrix, plot_pvalue_heatmap
from leaderboard.interval_plots import (
    plot_aggregate_estimates,
    plot_interval_estimates,
    plot_seed_strip,
)
from leaderboard.nevis_plots import NEVIS_PLOTTERS
from leaderboard.plot_style import matplotlib_svg
from leaderboard.stat_plots import plot_critical_difference
from leaderboard.svg import Canvas
from leaderboard.ttr_plots import (
    plot_eval_curves,
    plot_performance_profile,
    plot_time_to_target,
)

PLOTTERS = {
    "interval_estimates": plot_interval_estimates,
    "seed_strip": plot_seed_strip,
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


def figure_svg(spec: PlotSpec) -> str:
    """`spec` drawn as a self-contained SVG document whose title is the caption and whose
    description is the alt text; the same spec always gives the same text."""
    drawing = PLOTTERS[spec.kind](**spec.data)
    if isinstance(drawing, Canvas):
        return drawing.svg(title=spec.caption, description=spec.alt)
    return matplotlib_svg(drawing, title=spec.caption, description=spec.alt)
