"""Effect sizes of one benchmark section: how large each difference is, not only whether it is
significant. Part of the view model (see `leaderboard.view`).

Every number comes from a `harness.stats.Comparison` (`compare_with_best` for each member of the
table's family against the best, `pairwise_tests` for every pair of the heatmap); this module
only writes them. Per comparison of A with B:

- the difference of means A − B with its Welch interval, at the precision the interval supports
  (two significant digits of its half-width, as every table of the site);
- Cliff's δ (A vs B) with Romano et al.'s label, and Cohen's d with Cohen's label. δ = 2 P − 1
  up to its sign, so its interval is P's stretched twice: δ gets the decimals of an interval
  twice as wide as P's. d is the difference in pooled standard deviations, so it gets the
  decimals of the difference's interval in those units;
- P(A better than B), ties counting half, with Newcombe's score interval, at its precision;
- the adjusted p-value of the test, or, where the design cannot reach significance whatever
  the results (the power guard), "cannot be tested with this many seeds".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.stats import Comparison, cohens_d_label, effect_size_label
from leaderboard.numbers import (
    Difference,
    decimals_for,
    difference_from,
    format_p_value,
    format_signed,
)
from leaderboard.settings import StatSettings

UNTESTABLE_TEXT = "cannot be tested with this many seeds"
_D_DECIMALS = 2  # Cohen's d without an interval to take a precision from: his thresholds' grain


@dataclass(frozen=True)
class EffectRow:
    """A (`comparison.method`) compared with B (`comparison.reference`) on one benchmark, as
    the site writes it. `verdict` is "significant", "not-significant" or "untestable" (the
    power guard)."""

    comparison: Comparison
    method_href: str
    reference_href: str
    difference: Difference
    cliffs_delta_text: str
    cliffs_delta_label: str
    cohens_d_text: str
    cohens_d_label: str
    improvement_text: str
    p_text: str
    p_title: str
    verdict: str

    @property
    def method(self) -> str:
        return self.comparison.method

    @property
    def reference(self) -> str:
        return self.comparison.reference


@dataclass(frozen=True)
class EffectsView:
    """The effect-size section of one benchmark: every other member of the family against the
    best (table order), and every pair of the family (A before B by name)."""

    slug: str
    best: str
    versus_best: tuple[EffectRow, ...]
    pairs: tuple[EffectRow, ...]
    p_label: str
    pairs_p_label: str
    csv_href: str
    json_href: str


def _test_text(comparison: Comparison, p_label: str, alpha: float) -> tuple[str, str, str]:
    """(text, tooltip, verdict) of a comparison's adjusted p-value, with the power guard."""
    p = comparison.p_adjusted
    if not comparison.can_reach_significance:
        why = (f"with these seed counts the smallest attainable {p_label} is "
               f"{comparison.min_attainable_p:.3g}, not below α = {alpha:g}"
               if math.isfinite(p) else "a side has too few successful seeds for the test")
        return (UNTESTABLE_TEXT, f"No result could have been significant: {why}.",
                "untestable")
    if comparison.significant:
        return (f"{format_p_value(p)}, significant", f"{p_label} = {p:.3g} < α = {alpha:g}",
                "significant")
    return (f"{format_p_value(p)}, not significant", f"{p_label} = {p:.3g} ≥ α = {alpha:g}",
            "not-significant")


def _d_decimals(comparison: Comparison) -> int:
    """Decimals of d: the difference's interval divided by the pooled SD (= difference / d)."""
    d, difference = comparison.cohens_d, comparison.mean_difference
    half_width = (comparison.difference_ci_high - comparison.difference_ci_low) / 2
    if not (math.isfinite(d) and math.isfinite(half_width)) or d == 0.0 or difference == 0.0:
        return _D_DECIMALS
    return decimals_for(half_width * abs(d / difference))


def _d_text(comparison: Comparison) -> tuple[str, str]:
    """Cohen's d as written, and its label ("—" and no label when d is undefined)."""
    d = comparison.cohens_d
    if math.isnan(d):
        return "—", ""
    text = ("+∞" if d > 0 else "-∞") if math.isinf(d) else format_signed(d, _d_decimals(comparison))
    return text, cohens_d_label(d)


def effect_row(comparison: Comparison, hrefs: Mapping[str, str], p_label: str,
               alpha: float) -> EffectRow:
    """The `EffectRow` of one comparison (A = `comparison.method`, B = its reference)."""
    low, high = comparison.prob_improvement_ci_low, comparison.prob_improvement_ci_high
    p_decimals = decimals_for((high - low) / 2)
    delta = comparison.cliffs_delta
    d_text, d_label = _d_text(comparison)
    text, title, verdict = _test_text(comparison, p_label, alpha)
    return EffectRow(
        comparison=comparison, method_href=hrefs[comparison.method],
        reference_href=hrefs[comparison.reference],
        difference=difference_from(comparison.mean_difference, comparison.difference_ci_low,
                                   comparison.difference_ci_high),
        cliffs_delta_text=format_signed(delta, decimals_for(high - low)),
        cliffs_delta_label=effect_size_label(delta), cohens_d_text=d_text,
        cohens_d_label=d_label,
        improvement_text=(f"{comparison.prob_improvement:.{p_decimals}f} "
                          f"[{low:.{p_decimals}f}, {high:.{p_decimals}f}]"),
        p_text=text, p_title=title, verdict=verdict,
    )


def effects_view(
    slug: str, best: str | None, versus_best: Mapping[str, Comparison],
    pairwise: Iterable[Comparison], table_order: Iterable[str], hrefs: Mapping[str, str],
    settings: StatSettings,
) -> EffectsView | None:
    """The effect-size section of the benchmark `slug`; None when the family has no method
    besides the best. `versus_best` maps each other member to its comparison with the best,
    `table_order` lists the table's methods in row order."""
    if best is None or not versus_best:
        return None
    p_label, pairs_label = settings.p_label, settings.pairwise_p_label
    return EffectsView(
        slug=f"{slug}-effects", best=best, csv_href=f"data/{slug}-effects.csv",
        json_href=f"data/{slug}-effects.json",
        versus_best=tuple(effect_row(versus_best[m], hrefs, p_label, settings.alpha)
                          for m in table_order if m in versus_best),
        pairs=tuple(effect_row(c, hrefs, pairs_label, settings.alpha) for c in pairwise),
        p_label=p_label, pairs_p_label=pairs_label,
    )
