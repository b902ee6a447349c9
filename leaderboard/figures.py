"""Which figures the site shows, with their data and alt text (part of the view model).

A `PlotSpec` names a drawing function of `leaderboard.plots` (`kind`) and holds its arguments
(`data`), the figure's path in the site, its alt text and caption. `leaderboard.build` draws each
spec as given; nothing about a figure is decided there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.stats import Comparison
from leaderboard.numbers import format_p_value
from leaderboard.settings import StatSettings, metric_label, scenario_label

if TYPE_CHECKING:
    from leaderboard.rows import MethodRow

ACCURACY_MATRIX = "accuracy_matrix"
"""Name of the curve that holds a run's accuracy matrix, shape (T + 1, T); row 0 = untrained."""


@dataclass(frozen=True)
class PlotSpec:
    """A figure to draw: `kind` names a function of `leaderboard.plots`, `data` its arguments."""

    kind: str
    path: str
    alt: str
    caption: str
    data: Mapping[str, Any] = field(hash=False)


def mean_matrix_of(
    evaluation: pd.DataFrame, matrices: Mapping[str, Any]
) -> tuple[tuple[tuple[float, ...], ...] | None, int]:
    """Mean accuracy matrix over successful seeds (the most common shape, if they differ)."""
    ok_keys = evaluation.loc[evaluation["status"] == "ok", "run_key"]
    arrays = [np.asarray(matrices[k], dtype=float) for k in ok_keys if k in matrices]
    arrays = [a for a in arrays if a.ndim == 2 and a.size]
    if not arrays:
        return None, 0
    shapes = [a.shape for a in arrays]
    shape = max(set(shapes), key=lambda s: (shapes.count(s), s))
    stack = np.stack([a for a in arrays if a.shape == shape])
    mean = np.mean(stack, axis=0)
    return tuple(tuple(float(v) for v in row) for row in mean), len(stack)


def benchmark_plots(
    suite: str, scenario: str, slug: str, rows: tuple[MethodRow, ...], settings: StatSettings,
    pairwise: tuple[Comparison, ...] = (), seeds: Mapping[str, Sequence[float]] | None = None,
) -> tuple[PlotSpec, ...]:
    """The figures under a benchmark table: interval estimates, the seed strip plot (from
    `seeds`: each method's per-seed primary metric), the pairwise p-value heatmap (when a pair
    could be tested), then one heatmap per method with accuracy matrices, in table order."""
    shown = [r for r in rows if r.primary is not None]
    plots = [_interval_plot(suite, scenario, slug, shown, settings)] if shown else []
    if shown and seeds is not None:
        plots.append(_strip_plot(suite, scenario, slug, shown, seeds, settings))
    if any(np.isfinite(c.p_adjusted) for c in pairwise):
        ordered = [r.method for r in rows if any(r.method in (c.method, c.reference)
                                                 for c in pairwise)]
        plots.append(_pvalue_plot(suite, scenario, slug, ordered, pairwise, settings))
    plots += [_matrix_plot(slug, r) for r in rows if r.mean_matrix is not None]
    return tuple(plots)


def _pvalue_plot(
    suite: str, scenario: str, slug: str, methods: list[str], pairwise: tuple[Comparison, ...],
    settings: StatSettings,
) -> PlotSpec:
    index = {m: i for i, m in enumerate(methods)}
    p_values = [[float("nan")] * len(methods) for _ in methods]
    significant = [[False] * len(methods) for _ in methods]
    for c in pairwise:
        i, j = index[c.method], index[c.reference]
        p_values[i][j] = p_values[j][i] = c.p_adjusted
        significant[i][j] = significant[j][i] = c.significant
    p_label = settings.pairwise_p_label
    found = [f"{c.method} vs {c.reference} ({format_p_value(c.p_adjusted)})"
             for c in pairwise if c.significant]
    return PlotSpec(
        kind="pvalue_heatmap", path=f"plots/{slug}-pvalues.svg",
        alt=f"Pairwise {settings.test_label} p-values on {suite}, "
            f"{scenario_label(scenario).lower()}, {p_label}; significant at α = "
            f"{settings.alpha:g}: {'; '.join(found) if found else 'none'}.",
        caption=f"Every pair of continual methods: {settings.test_label}, {p_label} across "
                f"all pairs of this table; * and bold: below α = {settings.alpha:g}. "
                "“—”: too few seeds to test.",
        data={"labels": methods, "p_values": p_values, "significant": significant,
              "alpha": settings.alpha, "p_label": p_label},
    )


def _interval_plot(
    suite: str, scenario: str, slug: str, shown: list[MethodRow], settings: StatSettings
) -> PlotSpec:
    label = metric_label(settings.primary_metric)
    summary = "; ".join(f"{r.method}: {r.primary.text}" for r in shown)
    level = settings.confidence_text
    return PlotSpec(
        kind="interval_estimates", path=f"plots/{slug}-intervals.svg",
        alt=f"Means and {level} confidence intervals of {label.lower()} on {suite}, "
            f"{scenario_label(scenario).lower()}: {summary}.",
        caption=f"{label}: seed mean and {level} Student-t interval per method; marker shape "
                "and colour: how it compares with the best method (see the legend).",
        data=_estimates(shown, label),
    )


def _estimates(shown: list[MethodRow], label: str) -> dict[str, Any]:
    """What the interval and strip plots share: per method its mean, interval and status."""
    return {
        "labels": [r.method for r in shown],
        "means": [r.primary.mean for r in shown],
        "ci_lows": [r.primary.ci_low for r in shown],
        "ci_highs": [r.primary.ci_high for r in shown],
        "statuses": [r.versus_best.value for r in shown],
        "metric_label": label,
    }


def _strip_plot(
    suite: str, scenario: str, slug: str, shown: list[MethodRow],
    seeds: Mapping[str, Sequence[float]], settings: StatSettings,
) -> PlotSpec:
    label = metric_label(settings.primary_metric)
    level = settings.confidence_text
    values = [list(seeds.get(r.method, ())) for r in shown]
    summary = "; ".join(
        f"{r.method}: {len(v)} seed{'s' if len(v) != 1 else ''} from {min(v):.3f} to "
        f"{max(v):.3f}, mean {r.primary.mean_text}" for r, v in zip(shown, values, strict=True)
        if v)
    return PlotSpec(
        kind="seed_strip", path=f"plots/{slug}-seeds.svg",
        alt=f"{label} of every evaluation seed on {suite}, {scenario_label(scenario).lower()}, "
            f"with the seed mean and its {level} confidence interval: {summary}.",
        caption=f"{label} of every successful evaluation seed (dots, spread vertically so that "
                f"equal values stay visible), with the seed mean (marker) and its {level} "
                "Student-t interval (bar); colours and markers as in the interval plot.",
        data={**_estimates(shown, label), "seeds": values},
    )


def _matrix_plot(slug: str, row: MethodRow) -> PlotSpec:
    seeds = f"{row.num_matrices} seed{'s' if row.num_matrices != 1 else ''}"
    final = ", ".join(f"{v:.2f}" for v in row.mean_matrix[-1])
    return PlotSpec(
        kind="accuracy_matrix",
        path=f"plots/{slug}-matrix-{PurePosixPath(row.method_href).stem}.svg",
        alt=f"Mean accuracy matrix of {row.method} over {seeds} ({len(row.mean_matrix[-1])} "
            f"tasks); accuracy on each task after the last task: {final}.",
        caption=f"{row.method}: accuracy on each task (columns) after learning each task "
                f"(rows; row 0 = untrained), mean of {seeds}.",
        data={"matrix": [list(r) for r in row.mean_matrix], "title": row.method},
    )
