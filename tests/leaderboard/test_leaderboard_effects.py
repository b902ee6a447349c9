"""Effect sizes on the suite page: the numbers in the built HTML are the statistics engine's, at
the precision their intervals support, with the power guard's wording where it applies."""

import html
import math
import re

import pandas as pd
import pytest

from harness import stats
from leaderboard.effects import UNTESTABLE_TEXT, effects_view
from leaderboard.settings import StatSettings

COLUMNS = ("difference", "cliffs-delta", "cohens-d", "improvement", "p-value")


def _table(page: str, table_id: str) -> dict[tuple[str, str], dict[str, tuple[str, str]]]:
    """(A, B) -> column class -> (data-sort, visible text) of one effect-size table."""
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    row_pattern = r'<tr class="verdict-[^"]*" data-method="([^"]+)" data-reference="([^"]+)">'
    cell_pattern = r'<td class="(?:num )?([a-z-]+)[^"]*" data-sort="([^"]*)"[^>]*>(.*?)</td>'
    rows = {}
    for method, reference, row in re.findall(row_pattern + r"(.*?)</tr>", body, re.S):
        cells = re.findall(cell_pattern, row, re.S)
        rows[(method, reference)] = {
            kind: (sort, " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split()))
            for kind, sort, text in cells
        }
    return rows


def _decimals(half_width: float) -> int:
    """Two significant digits of a half-width (the site's rule, written out again here)."""
    return max(0, min(6, 1 - math.floor(math.log10(half_width))))


def _expected(c: stats.Comparison) -> dict[str, tuple[str, str]]:
    """What a row must show for the engine's comparison `c`."""
    d_half = (c.difference_ci_high - c.difference_ci_low) / 2
    difference = (f"{c.mean_difference:+.{_decimals(d_half)}f} ± "
                  f"[{c.difference_ci_low:.{_decimals(d_half)}f}, "
                  f"{c.difference_ci_high:.{_decimals(d_half)}f}]")
    p_width = c.prob_improvement_ci_high - c.prob_improvement_ci_low
    p_dec = _decimals(p_width / 2)
    d_dec = _decimals(d_half * abs(c.cohens_d / c.mean_difference))
    verdict = "significant" if c.significant else "not significant"
    p_text = ("p < 0.001" if c.p_adjusted < 0.001 else f"p = {c.p_adjusted:.3f}")
    return {
        "difference": (repr(c.mean_difference), difference),
        "cliffs-delta": (repr(c.cliffs_delta), f"{c.cliffs_delta:+.{_decimals(p_width)}f} "
                                               f"{stats.effect_size_label(c.cliffs_delta)}"),
        "cohens-d": (repr(c.cohens_d),
                     f"{c.cohens_d:+.{d_dec}f} {stats.cohens_d_label(c.cohens_d)}"),
        "improvement": (repr(c.prob_improvement),
                        f"{c.prob_improvement:.{p_dec}f} [{c.prob_improvement_ci_low:.{p_dec}f}, "
                        f"{c.prob_improvement_ci_high:.{p_dec}f}]"),
        "p-value": (repr(c.p_adjusted), f"{p_text}, {verdict}"),
    }


@pytest.fixture(scope="module")
def page(example_site) -> str:
    return (example_site / "suites/split-mnist.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def family(example) -> dict[str, list[float]]:
    """The class table's comparison family: the continual methods' successful seeds."""
    return {m: v for m, v in example.class_scores.items() if m != "joint"}


def test_each_method_against_the_best_shows_the_engines_numbers(page, family):
    best, engine = stats.compare_with_best(family, test="welch-t", correction="holm")
    shown = _table(page, "table-split-mnist-class-effects")
    assert best == "replay"
    assert list(shown) == [("replay-twin", "replay"), ("finetune", "replay")]  # table order
    for (method, _), cells in shown.items():
        assert cells == _expected(engine[method]), method
    # hand-checkable: every finetune seed is below every replay seed
    finetune = shown[("finetune", "replay")]
    assert finetune["cliffs-delta"][1] == "-1.00 large"
    assert finetune["improvement"][1].startswith("0.00 [0.00, ")
    assert shown[("replay-twin", "replay")]["cliffs-delta"][1].endswith("negligible")


def test_every_pair_shows_the_heatmaps_numbers(page, family):
    engine = stats.pairwise_tests(family, correction="benjamini-hochberg")
    shown = _table(page, "table-split-mnist-class-effects-pairs")
    assert set(shown) == set(engine) and len(shown) == 3
    for pair, cells in shown.items():
        assert cells == _expected(engine[pair]), pair
    assert "<details" in page.split('id="split-mnist-class-effects"', 1)[1].split(
        "</section>", 1)[0]  # folded, and open without JavaScript


def test_the_power_guard_is_worded_not_called_a_tie(page):
    finetune = _table(page, "table-split-mnist-task-effects")[("finetune", "replay")]
    assert finetune["p-value"] == ("", UNTESTABLE_TEXT)  # one seed: Welch's test cannot run
    assert finetune["difference"][1].endswith("(no CI)")


def test_untestable_designs_name_the_smallest_attainable_p():
    # Mann-Whitney, 3 vs 3 seeds, two comparisons under Holm: p can never go below 0.2
    samples = {"a": [0.9, 0.91, 0.92], "b": [0.5, 0.51, 0.52], "c": [0.1, 0.11, 0.12]}
    settings = StatSettings(test="mann-whitney")
    best, found = stats.compare_with_best(samples, test="mann-whitney")
    pairs = stats.pairwise_tests(samples, test="mann-whitney").values()
    view = effects_view("x", best, found, pairs, ["a", "b", "c"],
                        {m: f"{m}.html" for m in samples}, settings)
    row = view.versus_best[0]
    assert row.verdict == "untestable" and row.p_text == UNTESTABLE_TEXT
    assert "smallest attainable Holm-adjusted p is 0.2" in row.p_title
    assert row.improvement_text.startswith("0.00 [0.00, ")
    assert view.pairs_p_label == "Benjamini–Hochberg-adjusted p"


def test_effect_sizes_download_at_full_precision(example_site, family):
    table = pd.read_csv(example_site / "data/split-mnist-class-effects.csv")
    _, engine = stats.compare_with_best(family)
    twin = table[(table["comparison"] == "versus best") & (table["method"] == "replay-twin")]
    c = engine["replay-twin"]
    assert twin["prob_improvement_ci_low"].item() == c.prob_improvement_ci_low
    assert twin["difference_ci_high"].item() == c.difference_ci_high
    assert twin["cohens_d_label"].item() == stats.cohens_d_label(c.cohens_d)
    assert (table["comparison"] == "pair").sum() == 3


def test_methodology_explains_the_effect_sizes(example_site):
    text = (example_site / "methodology.html").read_text(encoding="utf-8")
    section = text.split('id="effect-sizes"', 1)[1].split("</section>", 1)[0]
    for phrase in ("Welch interval", "Cliff's δ", "0.147", "Cohen's d", "0.8",
                   "score interval", "cannot be tested with this many seeds"):
        assert phrase in html.unescape(section), phrase
