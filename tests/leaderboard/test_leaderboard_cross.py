"""Comparisons across benchmarks on the site, the p-value heatmaps, stats.json and LaTeX."""

import json
import re

import pytest

from harness.store import Store
from leaderboard.cross_view import cross_view
from leaderboard.latex import escape_latex
from leaderboard.settings import StatSettings
from leaderboard.view import build_site_view


@pytest.fixture(scope="module")
def cross(cross_store):
    with Store(cross_store) as store:
        return build_site_view(store, built_at="x")


@pytest.fixture(scope="module")
def example_view(example_store):
    with Store(example_store) as store:
        return build_site_view(store, built_at="x")


def test_clear_differences_give_groups_letters_and_arena_ranks(cross):
    (suite,) = cross.suites
    view = suite.cross
    assert view.available and not view.greyed
    assert view.result.omnibus_significant
    rows = {r.method: r for r in view.rows}
    assert set(rows) == {"strong", "strong-twin", "mid", "weak"}  # no reference, no partial
    # the method registered twice is not declared different from itself
    assert rows["strong"].letters == rows["strong-twin"].letters == "a"
    assert (rows["mid"].letters, rows["weak"].letters) == ("b", "c")
    assert [rows[m].arena_rank for m in ("strong", "strong-twin", "mid", "weak")] == [1, 1, 3, 4]
    assert rows["mid"].rank_interval_text == "3" and rows["weak"].average_rank_text == "4.00"
    assert all(r.coverage_text == "10/10" for r in view.rows)


def test_a_method_missing_benchmarks_is_left_out_with_its_coverage(cross):
    view = cross.suites[0].cross
    assert [(m.method, m.coverage_text) for m in view.left_out] == [("partial", "5/10")]
    assert view.benchmark_titles[0] == "b01" and len(view.benchmark_titles) == 10


def test_cd_plot_spec_matches_the_analysis(cross):
    plot = cross.suites[0].cross.plot
    assert plot.kind == "critical_difference" and plot.path == "plots/across-toy-cd.svg"
    assert plot.data["greyed"] is False and plot.data["critical_difference"] is None
    assert sorted(map(sorted, plot.data["cliques"])) == [["strong", "strong-twin"]]
    assert "strong-twin 1." in plot.alt and "Groups not significantly different" in plot.alt


def test_nemenyi_setting_draws_a_critical_difference(cross_store):
    with Store(cross_store) as store:
        site = build_site_view(store, built_at="x", settings=StatSettings(posthoc="nemenyi"))
    view = site.suites[0].cross
    assert view.plot.data["critical_difference"] == pytest.approx(
        view.result.posthoc.critical_difference
    )
    assert "CD = " in view.posthoc_text


def test_tiny_design_is_greyed_and_says_why(example_view):
    view = example_view.suites[0].cross
    assert view.available and view.greyed
    assert "exact p = 0.5" in view.omnibus_text and "Not significant" in view.omnibus_text
    assert "cannot reach significance" in view.posthoc_text
    assert [r.letters for r in view.rows] == ["a", "a"]
    assert [(m.method, m.coverage_text) for m in view.left_out] == [("replay-twin", "1/2")]
    assert view.benchmark_titles == ("Task-incremental", "Class-incremental")
    assert example_view.cross.scope == "all benchmarks"


def test_one_benchmark_has_no_cross_comparison(example_view):
    current = example_view.current
    one = current.runs[current.runs["scenario"] == "class"]
    hrefs = {m.name: m.href for m in example_view.methods}
    assert cross_view(one, current, hrefs, StatSettings(), scope="x", slug="x",
                      title=lambda suite, scenario: scenario) is None


def test_pairwise_heatmap_covers_every_pair_of_the_family(example_view):
    bench = next(b for b in example_view.suites[0].benchmarks if b.scenario == "class")
    assert {(c.method, c.reference) for c in bench.pairwise} == {
        ("finetune", "replay"), ("finetune", "replay-twin"), ("replay", "replay-twin")
    }
    spec = next(p for p in bench.plots if p.kind == "pvalue_heatmap")
    labels, p_values = spec.data["labels"], spec.data["p_values"]
    assert labels == ["replay", "replay-twin", "finetune"]  # table order, no reference
    i, j = labels.index("replay"), labels.index("finetune")
    assert p_values[i][j] == p_values[j][i] < 0.05 and spec.data["significant"][i][j]
    assert "Benjamini–Hochberg-adjusted p" in spec.data["p_label"]


def test_suite_and_index_pages_show_the_comparison(cross_site):
    suite = (cross_site / "suites/toy.html").read_text(encoding="utf-8")
    assert 'id="across-toy"' in suite and "Iman–Davenport F(3, 27)" in suite
    assert '<img src="../plots/across-toy-cd.svg"' in suite
    assert 'class="cross-ranking sortable"' in suite  # not greyed
    index = (cross_site / "index.html").read_text(encoding="utf-8")
    assert 'id="across-all"' in index and "Friedman χ² = " in index
    assert (cross_site / "plots/across-all-cd.svg").is_file()
    assert (cross_site / "plots/toy-b01-pvalues.svg").is_file()


def test_greyed_marks_on_a_not_significant_comparison(example_site):
    page = (example_site / "suites/split-mnist.html").read_text(encoding="utf-8")
    assert 'class="cross-ranking sortable greyed"' in page
    assert 'class="omnibus not-significant"' in page


def test_stats_json_holds_every_result(cross_site):
    document = json.loads((cross_site / "data/stats.json").read_text(encoding="utf-8"))
    assert document["settings"]["posthoc"] == "wilcoxon-holm"
    comparison = document["across_suites"][0]["comparison"]
    analysis = comparison["analysis"]
    assert analysis["omnibus_significant"] is True
    assert analysis["friedman"]["iman_davenport_F"] > 10
    assert len(analysis["posthoc"]["comparisons"]) == 6  # 4 methods
    assert comparison["left_out"] == [{"method": "partial", "coverage": "5/10"}]
    assert comparison["rank_intervals"]["over"] == "seeds"
    assert document["across_all_benchmarks"]["benchmarks"][0] == "toy · b01"
    first = document["benchmarks"][0]
    assert (first["scenario"], first["best"]) == ("b01", "partial")
    assert len(first["pairwise"]) == 10  # 5 continual methods on b01


def test_latex_table_is_booktabs_with_the_best_in_bold(example_site):
    tex = (example_site / "data/split-mnist-class.tex").read_text(encoding="utf-8")
    assert tex.count(r"\toprule") == tex.count(r"\midrule") == tex.count(r"\bottomrule") == 1
    assert r"\usepackage{booktabs}" in tex
    rows = [line for line in tex.splitlines() if line.endswith(r"\\")]
    replay = next(r for r in rows if " & replay & " in r)
    assert r"\textbf{0.800 [0.780, 0.820]}" in replay and replay.startswith("1 & ")
    assert sum(r"\textbf{" in r for r in rows) == 1
    joint = next(r for r in rows if " & joint & " in r)
    assert joint.startswith("-- & ") and r"\textperiodcentered{}" in joint
    assert "$<$ 0.001" in next(r for r in rows if " & finetune & " in r)
    assert all(r.count(" & ") == rows[0].count(" & ") for r in rows)
    assert not re.search(r"[^\x00-\x7f]", tex), "pdflatex-safe ASCII only"


def test_escape_latex():
    assert escape_latex("a_b & 50% #1 {x} ~ ^ \\") == (
        r"a\_b \& 50\% \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )


def test_site_has_the_new_downloads_and_figures(example_site):
    for path in ("data/split-mnist-class.tex", "data/split-mnist-task.tex", "data/stats.json",
                 "plots/across-split-mnist-cd.svg", "plots/across-all-cd.svg",
                 "plots/split-mnist-class-pvalues.svg"):
        assert (example_site / path).is_file(), path
    # a single-seed method cannot be tested: no heatmap for the task table
    assert not (example_site / "plots/split-mnist-task-pvalues.svg").exists()


def test_methodology_names_the_cross_benchmark_tests_and_settings(example_site):
    text = (example_site / "methodology.html").read_text(encoding="utf-8")
    for phrase in ("Iman–Davenport F", "Friedman", "Wilcoxon signed-rank tests with Holm",
                   "Benjamini–Hochberg", "2000 replicates", "generator seeded with 0",
                   "compact letter display", "Arena rank", "never averaged"):
        assert phrase in text, phrase
