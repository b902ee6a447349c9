"""The figures of the leaderboard by name, and how a figure of the view model becomes SVG text.

Every drawing function is pure: data in, a `leaderboard.svg.Canvas` out, written directly as
SVG; none saves, shows or touches global state. They are the interval estimates, seed strip
plots and aggregates (`leaderboard.interval_plots`), accuracy matrices and p-value heatmaps
(`leaderboard.heatmaps`), the critical-difference diagram (`leaderboard.stat_plots`), the
protocol-gap and stability-gap figures (`leaderboard.gap_plots`), the time-to-result figures
(`leaderboard.ttr_plots`) and the NEVIS figures (`leaderboard.nevis_plots`). One path for all
of them keeps the site's figures alike, their text as text, and the build fast and free of
matplotlib. `PLOTTERS` names them all for `leaderboard.figures.PlotSpec.kind`.
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
from leaderboard.stat_plots import plot_critical_difference
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
    return PLOTTERS[spec.kind](**spec.data).svg(title=spec.caption, description=spec.alt)
