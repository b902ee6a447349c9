"""Aggregates across benchmarks with stratified-bootstrap intervals: part of the view model.

Beside each cross-benchmark ranking (`leaderboard.cross_view`), over exactly its methods and
benchmarks (the complete block: a method missing a benchmark is never averaged over the rest),
the mean, median, interquartile mean and optimality gap of every method's per-seed scores
(Agarwal et al. 2021, "Deep RL at the edge of the statistical precipice"; `harness.stats
.aggregate_interval_estimates`), each with a percentile stratified-bootstrap interval: seeds are
resampled within each benchmark, so every benchmark keeps its weight.

Declared normalization: the primary metric is used as it is, because the site only shows
aggregates of metrics that already lie on one [0, 1] scale on every benchmark and where higher
is better (accuracies); the optimality gap is the mean shortfall below γ = 1 (a perfect score).
Any other metric gets no aggregates and the page says why, rather than averaging numbers on
different scales.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from harness.metrics.continual import METRIC_DIRECTIONS
from harness.stats import AGGREGATES, aggregate_interval_estimates
from leaderboard.figures import PlotSpec
from leaderboard.settings import AGGREGATE_HINTS, AGGREGATE_LABELS, StatSettings, metric_label


@dataclass(frozen=True)
class AggregateRow:
    method: str
    method_href: str
    points: tuple[float, ...]  # one per `AggregateView.aggregates`
    ci_lows: tuple[float, ...]
    ci_highs: tuple[float, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class AggregateView:
    """Aggregates of one comparison; `rows` empty and `message` set when none are shown."""

    slug: str
    aggregates: tuple[str, ...]
    labels: tuple[str, ...]
    hints: tuple[str, ...]
    rows: tuple[AggregateRow, ...]
    num_benchmarks: int
    message: str
    plot: PlotSpec | None


def _text(point: float, low: float, high: float) -> str:
    return f"{point:.3f} [{low:.3f}, {high:.3f}]"


def aggregate_view(
    seed_cube: np.ndarray, methods: Sequence[str], method_hrefs: Mapping[str, str],
    settings: StatSettings, *, scope: str, slug: str,
) -> AggregateView:
    """Aggregates of `seed_cube` (num_seeds, num_benchmarks, num_methods; NaN-padded) whose
    last axis follows `methods`."""
    names = tuple(AGGREGATES)
    base = {"slug": f"{slug}-aggregates", "aggregates": names,
            "labels": tuple(AGGREGATE_LABELS[a] for a in names),
            "hints": tuple(AGGREGATE_HINTS[a] for a in names),
            "num_benchmarks": seed_cube.shape[1]}
    finite = seed_cube[np.isfinite(seed_cube)]
    if METRIC_DIRECTIONS.get(settings.primary_metric, "higher") != "higher" or (
            finite.size and (finite.min() < 0.0 or finite.max() > 1.0)):
        return AggregateView(
            rows=(), plot=None, **base,
            message=f"No aggregates: {metric_label(settings.primary_metric).lower()} is not a "
                    "higher-is-better score on [0, 1] on every benchmark, and averaging values "
                    "on different scales would mislead.")
    estimates = aggregate_interval_estimates(
        {m: seed_cube[:, :, j] for j, m in enumerate(methods)},
        rng=np.random.default_rng(settings.bootstrap_seed), reps=settings.bootstrap_reps,
        confidence=settings.confidence,
    )
    rows = []
    for m in sorted(methods, key=lambda m: (-estimates[m]["iqm"].point, m)):
        e = [estimates[m][a] for a in names]
        rows.append(AggregateRow(
            method=m, method_href=method_hrefs[m], points=tuple(x.point for x in e),
            ci_lows=tuple(x.ci_low for x in e), ci_highs=tuple(x.ci_high for x in e),
            texts=tuple(_text(x.point, x.ci_low, x.ci_high) for x in e),
        ))
    return AggregateView(rows=tuple(rows), message="", plot=_plot(scope, base, rows, settings),
                         **base)


def _plot(scope: str, base: Mapping, rows: list[AggregateRow],
          settings: StatSettings) -> PlotSpec:
    iqm = base["aggregates"].index("iqm")
    summary = "; ".join(f"{r.method}: IQM {r.texts[iqm]}" for r in rows)
    return PlotSpec(
        kind="aggregate_estimates", path=f"plots/{base['slug']}.svg",
        alt=f"Aggregate scores across {base['num_benchmarks']} benchmarks of {scope} with "
            f"{settings.confidence_text} stratified-bootstrap intervals (mean, median, IQM, "
            f"optimality gap): {summary}.",
        caption=f"Aggregates of {metric_label(settings.primary_metric).lower()} across "
                f"{base['num_benchmarks']} benchmarks: point estimate and "
                f"{settings.confidence_text} stratified-bootstrap interval "
                f"({settings.bootstrap_reps} replicates, seeds resampled within each "
                "benchmark). Optimality gap: lower is better.",
        data={"aggregates": list(base["labels"]), "labels": [r.method for r in rows],
              "points": [list(r.points) for r in rows], "ci_lows": [list(r.ci_lows) for r in rows],
              "ci_highs": [list(r.ci_highs) for r in rows]},
    )

