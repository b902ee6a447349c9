"""The protocol gap (DESIGN §4.5): how far each method's score and rank move between the fair
protocol and the legacy practice of tuning on the test data. Part of the view model (see
`leaderboard.view`).

`harness evaluate --legacy-test-tuning` stores, beside the fair runs, the same trials scored on
the *evaluation* data (phase ``legacy-tune``, decision phase ``legacy-tune``) and the winner
evaluated over the seeds (phase ``legacy``). Per method this module compares:

- the **fair score**: mean ± CI of the primary metric over the ``evaluate`` seeds;
- the **legacy score**: the same over the ``legacy`` seeds;
- the **gap** legacy − fair, with a Welch (Satterthwaite) t interval of the difference of two
  means (the seeds of the two protocols are separate runs, with unequal variances);
- the **rank** under each protocol among the continual methods that have both scores
  (competition ranking: 1 + the number of methods with a strictly better mean), and the rank
  change, fair rank − legacy rank: positive = the method looks better under legacy tuning;
- the hyperparameters each protocol chose (the decisions of phase ``tune`` and
  ``legacy-tune``).

Legacy results exist only in this section: the main table, its significance family and "best"
are computed from the fair phases alone (`leaderboard.rows.FAIR_PHASES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from harness.metrics.continual import METRIC_DIRECTIONS
from harness.stats import mean_difference_ci
from harness.store import Decision
from leaderboard.figures import PlotSpec
from leaderboard.numbers import Difference, Estimate, difference_from, format_hparams, format_signed
from leaderboard.paths import protocol_gap_slug
from leaderboard.rows import chosen_hparams, estimate_of, metric_values
from leaderboard.settings import StatSettings, metric_label, scenario_label

LEGACY_PHASES = ("legacy-tune", "legacy")
LEGACY_DECISION_PHASE = "legacy-tune"


@dataclass(frozen=True)
class GapRow:
    method: str
    method_href: str
    continual: bool
    fair: Estimate | None
    legacy: Estimate | None
    gap: Difference | None
    fair_rank: int | None
    legacy_rank: int | None
    rank_change: int | None  # fair rank − legacy rank: > 0 = looks better under legacy tuning
    rank_change_text: str
    fair_hparams: dict[str, Any]
    legacy_hparams: dict[str, Any]
    fair_hparams_text: str
    legacy_hparams_text: str


@dataclass(frozen=True)
class ProtocolGapView:
    """The protocol-gap section of one benchmark; `missing` are the table's methods without
    legacy runs (self-tuning methods have nothing to tune on the test data)."""

    slug: str
    metric: str
    metric_label: str
    rows: tuple[GapRow, ...]
    missing: tuple[str, ...]
    summary_text: str
    num_runs: int
    csv_href: str
    json_href: str
    plot: PlotSpec | None


def competition_ranks(means: Mapping[str, float], higher_is_better: bool) -> dict[str, int]:
    """1 + the number of methods with a strictly better mean (ties share the better rank)."""
    sign = 1.0 if higher_is_better else -1.0
    return {m: 1 + sum(sign * other > sign * mean for other in means.values())
            for m, mean in means.items()}


def rank_change_text(change: int | None) -> str:
    if change is None:
        return "—"
    if change == 0:
        return "="
    return f"▲{change}" if change > 0 else f"▼{-change}"


def protocol_gap_view(
    runs: pd.DataFrame, decisions: Sequence[Decision], *, continual: Mapping[str, bool],
    method_hrefs: Mapping[str, str], settings: StatSettings,
) -> ProtocolGapView | None:
    """The gap section of one benchmark from its current `runs` (every phase) and decisions;
    None when the benchmark has no legacy runs."""
    legacy_runs = runs[runs["phase"].isin(LEGACY_PHASES)]
    if legacy_runs.empty:
        return None
    metric = settings.primary_metric
    higher = METRIC_DIRECTIONS.get(metric, "higher") == "higher"
    fair_runs = runs[runs["phase"] == "evaluate"]
    legacy_eval = runs[runs["phase"] == "legacy"]
    methods = sorted(legacy_runs["submission"].unique())
    values = {
        m: (metric_values(fair_runs[fair_runs["submission"] == m], metric),
            metric_values(legacy_eval[legacy_eval["submission"] == m], metric))
        for m in methods
    }
    both = {m: v for m, v in values.items() if continual.get(m, True) and all(x.size for x in v)}
    fair_ranks = competition_ranks({m: float(np.mean(v[0])) for m, v in both.items()}, higher)
    legacy_ranks = competition_ranks({m: float(np.mean(v[1])) for m, v in both.items()}, higher)
    rows = [
        _gap_row(m, values[m], decisions, runs[runs["submission"] == m],
                 continual.get(m, True), method_hrefs[m], fair_ranks.get(m),
                 legacy_ranks.get(m), settings)
        for m in methods
    ]
    rows.sort(key=lambda r: (r.fair_rank is None, r.fair_rank or 0, r.method))
    suite, scenario = str(runs["suite"].iloc[0]), str(runs["scenario"].iloc[0])
    slug = protocol_gap_slug(suite, scenario)
    table_methods = set(runs.loc[runs["phase"] == "evaluate", "submission"])
    label = metric_label(metric)
    view = ProtocolGapView(
        slug=slug, metric=metric, metric_label=label, rows=tuple(rows),
        missing=tuple(sorted(table_methods - set(methods))),
        summary_text=_summary(rows, label, higher), num_runs=len(legacy_runs),
        csv_href=f"data/{slug}.csv", json_href=f"data/{slug}.json", plot=None,
    )
    return replace(view, plot=gap_plot(view, suite, scenario))


def _gap_row(
    method: str, values: tuple[np.ndarray, np.ndarray], decisions: Sequence[Decision],
    runs: pd.DataFrame, continual: bool, href: str, fair_rank: int | None,
    legacy_rank: int | None, settings: StatSettings,
) -> GapRow:
    fair, legacy = values
    by_phase = {d.phase: d for d in decisions if d.submission == method}
    fair_hparams = chosen_hparams(by_phase.get("tune"), runs[runs["phase"] == "evaluate"])
    legacy_hparams = chosen_hparams(by_phase.get(LEGACY_DECISION_PHASE),
                                    runs[runs["phase"] == "legacy"])
    change = fair_rank - legacy_rank if fair_rank is not None and legacy_rank is not None \
        else None
    return GapRow(
        method=method, method_href=href, continual=continual,
        fair=estimate_of(fair, settings.confidence),
        legacy=estimate_of(legacy, settings.confidence),
        gap=difference_from(*mean_difference_ci(legacy, fair, settings.confidence))
        if fair.size and legacy.size
        else None,
        fair_rank=fair_rank, legacy_rank=legacy_rank, rank_change=change,
        rank_change_text=rank_change_text(change),
        fair_hparams=fair_hparams, legacy_hparams=legacy_hparams,
        fair_hparams_text=format_hparams(fair_hparams),
        legacy_hparams_text=format_hparams(legacy_hparams),
    )


def _summary(rows: Sequence[GapRow], label: str, higher_is_better: bool) -> str:
    compared = [r for r in rows if r.gap is not None]
    if not compared:
        return "No method has both a fair and a legacy score yet."
    sign = 1.0 if higher_is_better else -1.0
    flattered = sum(sign * r.gap.value > 0 for r in compared)
    mean_gap = float(np.mean([r.gap.value for r in compared]))
    moved = [r for r in compared if r.rank_change]
    text = (f"Tuning on the test data flatters {flattered} of {len(compared)} methods; mean "
            f"gap in {label.lower()} {format_signed(mean_gap, 3)}. ")
    top_fair = [r.method for r in compared if r.fair_rank == 1]
    top_legacy = [r.method for r in compared if r.legacy_rank == 1]
    text += (f"{len(moved)} of {len(compared)} ranked methods change rank"
             if any(r.fair_rank is not None for r in compared) else "No ranked methods")
    if top_fair and top_legacy and top_fair != top_legacy:
        text += (f"; the top method would be reported as {', '.join(top_legacy)} instead of "
                 f"{', '.join(top_fair)}")
    return text + "."


def _rank_suffix(row: GapRow) -> str:
    if row.fair_rank is None:
        return ""
    return f" (rank {row.fair_rank} → {row.legacy_rank})"


def gap_plot(view: ProtocolGapView, suite: str, scenario: str) -> PlotSpec | None:
    """The dumbbell chart fair → legacy, one row per method with both scores, fair order."""
    shown = [r for r in view.rows if r.fair is not None and r.legacy is not None]
    if not shown:
        return None
    ranks = _rank_suffix
    summary = "; ".join(f"{r.method}: {r.fair.mean_text} → {r.legacy.mean_text}{ranks(r)}"
                        for r in shown)
    return PlotSpec(
        kind="protocol_gap", path=f"plots/{view.slug}.svg",
        alt=f"Dumbbell chart of {view.metric_label.lower()} on {suite}, "
            f"{scenario_label(scenario).lower()}, under the fair protocol and under legacy "
            f"test-set tuning: {summary}.",
        caption=f"{view.metric_label}: fair protocol (filled circle) → legacy test-set tuning "
                "(hollow square), seed means with their intervals; labels give the rank under "
                "each protocol.",
        data={
            "labels": [r.method + ranks(r) for r in shown],
            "fair_means": [r.fair.mean for r in shown],
            "fair_lows": [r.fair.ci_low for r in shown],
            "fair_highs": [r.fair.ci_high for r in shown],
            "legacy_means": [r.legacy.mean for r in shown],
            "legacy_lows": [r.legacy.ci_low for r in shown],
            "legacy_highs": [r.legacy.ci_high for r in shown],
            "metric_label": view.metric_label,
        },
    )
