"""Time-to-result suites on the site: scores, speedups, intervals, held-out rule, pages.

Known answers of the release fixture's time-to-result suite (`conftest.TTR_TIMES`, 2 studies
of 2 trials; each study counts its fastest trial, each workload the median over studies):
nadamw 4.2 s on w-cnn and 2.1 s on w-mlp; fast-opt 2.05 s and 1.05 s. fast-opt is fastest
everywhere (score 1); nadamw's ratios 4.2/2.05 and 2 give score ((4 - 4.2/2.05) + 2) / 6, and
fast-opt's speedup over nadamw is sqrt(4.2/2.05 · 2).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from harness.store import Store
from leaderboard.ttr_results import (
    WorkloadInfo,
    is_ttr_suite,
    ttr_data,
    ttr_statistics,
    workload_layout,
)
from leaderboard.ttr_view import ttr_records
from leaderboard.view import build_site_view

NADAMW_SCORE = ((4 - 4.2 / 2.05) + 2) / 6
FAST_SPEEDUP = math.sqrt(4.2 / 2.05 * 2)


@pytest.fixture(scope="module")
def site(release_tree):
    with Store(release_tree.store) as store:
        return build_site_view(store, built_at="2025-01-01 00:00 UTC")


def _frame(rows):
    return pd.DataFrame(rows, columns=["submission", "scenario", "study", "status",
                                       "metric.time_to_target_s"])


def test_ttr_suites_get_their_own_view_not_a_continual_table(site):
    assert [s.name for s in site.suites] == ["rel"]
    assert [s.name for s in site.ttr_suites] == ["ttr-tiny"]
    ttr = site.ttr_suites[0]
    rows = {r.method: r for r in ttr.rows}
    assert [r.method for r in ttr.rows] == ["fast-opt", "nadamw"]
    assert rows["fast-opt"].score == pytest.approx(1.0) and rows["fast-opt"].is_best
    assert rows["nadamw"].score == pytest.approx(NADAMW_SCORE)
    assert rows["fast-opt"].speedup == pytest.approx(FAST_SPEEDUP)
    assert rows["nadamw"].speedup == pytest.approx(1.0) and ttr.reference == "nadamw"
    cells = dict(zip([c.workload for c in ttr.columns], rows["nadamw"].cells, strict=True))
    assert cells["w-cnn"].sort == pytest.approx(4.2) and cells["w-mlp"].sort == pytest.approx(2.1)
    assert cells["w-cnn"].text.startswith("4.20 s [4.00, 4.40], n=2")
    low, high = rows["nadamw"].score_ci
    assert low <= rows["nadamw"].score <= high and high < 1.0  # never the fastest replicate
    assert any("suite file of this version was not found" in n for n in ttr.notes)
    times = ttr.times_plot.data
    assert times["workloads"] == ["w-cnn", "w-mlp"] and times["labels"] == ["fast-opt", "nadamw"]
    assert times["medians"] == [pytest.approx([2.05, 1.05]), pytest.approx([4.2, 2.1])]


def test_the_held_out_rule_voids_a_base_workload_whose_variant_was_missed():
    workloads = (WorkloadInfo("base", None, 0.8, 6.0), WorkloadInfo("var", "base", 0.7, 6.0),
                 WorkloadInfo("other", None, 0.8, 6.0))
    frame = _frame([
        ("a", "base", 0, "ok", 1.0), ("a", "var", 0, "ok", math.inf), ("a", "other", 0, "ok", 2.0),
        ("b", "base", 0, "ok", 2.0), ("b", "var", 0, "ok", 3.0), ("b", "other", 0, "failed", 1.0),
    ])
    data = ttr_data(frame, workloads, True)
    stats = ttr_statistics(data, reference="b", rng=np.random.default_rng(0), reps=50,
                           confidence=0.95)
    # a: base voided by its missed variant, fastest on "other"; b: fastest on base, its
    # "other" run failed (a miss)
    assert stats.times.tolist() == [[math.inf, 2.0], [2.0, math.inf]]
    assert stats.scores.tolist() == pytest.approx([0.5, 0.5])
    assert math.isnan(stats.speedups[0])  # no workload both solved: undefined, never 0 or 1
    assert stats.profile[:, 0].tolist() == [0.5, 0.5]


def test_intervals_come_from_resampling_studies_and_are_reproducible():
    workloads = (WorkloadInfo("w", None, None, None),)
    frame = _frame([("a", "w", s, "ok", t) for s, t in enumerate([1.0, 2.0, 3.0])]
                   + [("b", "w", s, "ok", t) for s, t in enumerate([2.0, 2.0, 2.0])])
    data = ttr_data(frame, workloads, False)
    first, second = (ttr_statistics(data, reference=None, rng=np.random.default_rng(7),
                                    reps=200, confidence=0.9) for _ in range(2))
    assert first.medians.tolist() == [[2.0], [2.0]]
    assert first.median_ci[:, 0, 0].tolist() == [1.0, 3.0]  # spread of a's three studies
    assert first.median_ci[:, 1, 0].tolist() == [2.0, 2.0]  # b never varies
    assert np.array_equal(first.score_ci, second.score_ci) and first.speedups is None


def test_the_suite_file_with_the_stored_version_gives_targets_and_variants(tmp_path):
    import hashlib

    text = ('name = "t"\napi = "training-algorithm"\n[[workload]]\nname = "w"\ntarget = 0.8\n'
            '[[workload]]\nname = "w-v"\nvariant_of = "w"\ntarget = 0.7\n')
    (tmp_path / "t.toml").write_text(text)
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    layout, known = workload_layout("t", version, ["w", "w-v", "extra"], [tmp_path])
    assert known and [(w.name, w.variant_of, w.target) for w in layout] == [
        ("w", None, 0.8), ("w-v", "w", 0.7), ("extra", None, None)]
    layout, known = workload_layout("t", "other-version", ["w-v", "w"], [tmp_path])
    assert not known and [w.variant_of for w in layout] == [None, None]
    # a suite given by path: no file in the folders, but the text the store kept
    layout, known = workload_layout("t", version, ["w", "w-v"], [], stored=text)
    assert known and [(w.name, w.variant_of) for w in layout] == [("w", None), ("w-v", "w")]
    layout, known = workload_layout("t", version, ["w", "w-v"], [], stored=text + "\n")
    assert not known  # an edited text is another version


def test_ttr_runs_are_recognised_by_api_or_metric():
    frame = _frame([("x", "w", 0, "ok", 1.0)])
    assert is_ttr_suite(frame, {"x": {"api": "training-algorithm"}})
    assert is_ttr_suite(frame, {})
    assert not is_ttr_suite(frame.drop(columns=["metric.time_to_target_s"]), {"x": {}})


def test_the_page_downloads_and_figures(release_tree):
    root = release_tree.root / "releases" / "v2"
    page = (root / "suites/ttr-tiny.html").read_text()
    assert 'id="table-ttr-tiny-time-to-result"' in page
    for anchor in ("ttr-tiny-w-cnn", "ttr-tiny-w-mlp"):  # method pages link to these
        assert f'id="{anchor}"' in page
        svg = (root / f"plots/{anchor}-curves.svg").read_text()
        assert "Validation accuracy against submission time" in svg  # alt text in the SVG
    assert 'src="../plots/ttr-tiny-times.svg"' in page
    profile = (root / "plots/ttr-tiny-profile.svg").read_text()
    assert "#0072b2" in profile.lower() and "Performance profiles on ttr-tiny" in profile
    assert 'href="ttr-tiny-w-cnn' not in page  # anchors, not files
    assert 'href="#ttr-tiny-w-cnn"' in page
    data = json.loads((root / "data/ttr-tiny-time-to-result.json").read_text())
    assert data["rows"][0]["method"] == "fast-opt" and data["reference"] == "nadamw"
    assert data["rows"][1]["score"] == pytest.approx(NADAMW_SCORE)
    assert "ttr-tiny" in (root / "index.html").read_text()
    method = (root / "methods/fast-opt.html").read_text()
    assert "../suites/ttr-tiny.html#ttr-tiny-w-cnn" in method


def test_the_profile_figure_shows_each_methods_ratios(release_tree, parse_svg, read_axes):
    """nadamw's ratios are 2 (w-mlp) and 4.2 / 2.05 (w-cnn), fast-opt is fastest on both: the
    profile, read off the figure's own axes, steps at those ratios."""
    root = parse_svg((release_tree.root / "releases/v2/plots/ttr-tiny-profile.svg").read_text())
    tau_at, share_at = read_axes(root)

    def profile(method: str, tau: float) -> float:
        (line,) = root.findall(f".//g[@class='method'][@data-method='{method}']/polyline")
        vertices = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        return [share_at(y) for x, y in vertices if tau_at(x) <= tau + 1e-3][-1]

    expected = {1.0: 0.0, 1.99: 0.0, 2.0: 0.5, 2.04: 0.5, 2.05: 1.0, 4.0: 1.0}
    for tau, share in expected.items():
        assert profile("nadamw", tau) == pytest.approx(share, abs=1e-3), tau
        assert profile("fast-opt", tau) == pytest.approx(1.0, abs=1e-3)


def test_building_the_site_does_not_import_matplotlib(release_tree, modules_imported_by_build):
    """Every figure of the continual and time-to-result pages is written directly as SVG."""
    assert "matplotlib" not in modules_imported_by_build(release_tree.store)


def test_records_hold_times_per_workload(site, release_tree):
    records = ttr_records(site.ttr_suites[0])
    assert records[1]["time_to_target_s.w-cnn"] == pytest.approx(4.2)
    assert (records[1]["time_to_target_s.w-cnn.ci_low"],
            records[1]["time_to_target_s.w-cnn.ci_high"]) == pytest.approx((4.0, 4.4))
    assert records[0]["speedup_vs_reference"] == pytest.approx(FAST_SPEEDUP)
    assert records[0]["speedup_ci_low"] <= FAST_SPEEDUP <= records[0]["speedup_ci_high"]
    stats = json.loads((release_tree.root / "releases/v2/data/stats.json").read_text())
    (suite,) = stats["time_to_result"]
    assert suite["suite"] == "ttr-tiny" and suite["rows"][1]["score"] == pytest.approx(
        NADAMW_SCORE)


def test_a_missed_target_is_empty_in_csv_and_null_in_json():
    from leaderboard.settings import StatSettings
    from leaderboard.ttr_view import ttr_csv, ttr_json, ttr_suite_view

    frame = _frame([("a", "w", 0, "ok", math.inf), ("b", "w", 0, "ok", 2.0)]).assign(
        hardware_class="cpu", run_key=["k1", "k2"], trial=0)
    view = ttr_suite_view("s", "1", frame, {}, {"a": "a.html", "b": "b.html"},
                          StatSettings(bootstrap_reps=20))
    assert [r.method for r in view.rows] == ["b", "a"] and view.reference is None
    assert "not reached (n=1)" in view.rows[1].cells[0].text
    csv = ttr_csv(view).splitlines()
    assert csv[2].startswith("2,a,0.0,") and "inf" not in ttr_csv(view)
    assert json.loads(ttr_json(view, StatSettings()))["rows"][1]["time_to_target_s.w"] is None
    assert any("no runs here" in note for note in view.notes)  # no speedups without nadamw


def test_a_tie_for_the_best_score_is_shared():
    from leaderboard.settings import StatSettings
    from leaderboard.ttr_view import ttr_suite_view

    frame = _frame([("a", "w", 0, "ok", math.inf), ("b", "w", 0, "ok", math.inf)]).assign(
        hardware_class="cpu", run_key=["k1", "k2"], trial=0)
    view = ttr_suite_view("s", "1", frame, {}, {"a": "a.html", "b": "b.html"},
                          StatSettings(bootstrap_reps=20))
    # both missed: tied at rank 1, and neither is "best" of a score of 0
    assert [(r.rank, r.is_best) for r in view.rows] == [(1, False), (1, False)]
    assert view.best_text == "— (no base workload's target reached)"
    assert view.profile_plot.data["profile"] == [[0.0] * 121, [0.0] * 121]
    assert view.times_plot.data["medians"] == [[None], [None]]
    assert "w: a not reached, b not reached" in view.times_plot.alt


def _tex_rows(text: str) -> list[list[str]]:
    body = text.split(r"\midrule", 1)[1].split(r"\bottomrule", 1)[0]
    return [line.removesuffix(r" \\").split(" & ") for line in body.strip().splitlines()]


def test_latex_table_has_scores_times_and_performance_ratios(release_tree):
    root = release_tree.root / "releases" / "v2"
    text = (root / "data/ttr-tiny-time-to-result.tex").read_text()
    header = text.split(r"\midrule", 1)[0]
    assert "Speedup vs nadamw & w-cnn & w-mlp" in header
    fast, nadamw = _tex_rows(text)
    assert fast[:2] == ["1", "fast-opt"] and nadamw[:2] == ["2", "nadamw"]
    assert fast[2].startswith(r"\textbf{1.000") and nadamw[2].startswith(f"{NADAMW_SCORE:.3f}")
    assert fast[4].startswith(f"{FAST_SPEEDUP:.2f}")
    # times as on the page, then the ratio to the fastest: 4.2 / 2.05 and 2.1 / 1.05
    assert nadamw[5].startswith("4.20 s [4.00, 4.40], n=2")
    assert nadamw[5].endswith(rf"({4.2 / 2.05:.2f}$\times$)")
    assert nadamw[6].endswith(r"(2.00$\times$)")
    assert fast[5].endswith(r"(1.00$\times$)") and fast[6].endswith(r"(1.00$\times$)")
    assert 'href="../data/ttr-tiny-time-to-result.tex"' in (root / "suites/ttr-tiny.html"
                                                             ).read_text()


def test_records_hold_performance_ratios_per_base_workload(site):
    nadamw = ttr_records(site.ttr_suites[0])[1]
    assert nadamw["performance_ratio.w-cnn"] == pytest.approx(4.2 / 2.05)
    assert nadamw["performance_ratio.w-mlp"] == pytest.approx(2.0)


def test_latex_marks_a_miss_and_a_ratio_beyond_the_cap():
    from leaderboard.latex import ttr_tex
    from leaderboard.settings import StatSettings
    from leaderboard.ttr_view import ttr_suite_view

    frame = _frame([("a", "w", 0, "ok", math.inf), ("b", "w", 0, "ok", 2.0),
                    ("c", "w", 0, "ok", 9.0)]).assign(
        hardware_class="cpu", run_key=["k1", "k2", "k3"], trial=0)
    view = ttr_suite_view("s", "1", frame, {}, {m: f"{m}.html" for m in "abc"},
                          StatSettings(bootstrap_reps=20))
    rows = {cells[1]: cells for cells in _tex_rows(ttr_tex(view, StatSettings()))}
    assert rows["b"][5] == r"2.00 s, n=1 (1.00$\times$)"
    assert rows["c"][5] == r"9.00 s, n=1 ($>$4$\times$)"  # 4.5 times the fastest
    assert rows["a"][5] == "not reached (n=1)"


def test_a_page_scores_one_hardware_class_and_names_the_runs_left_out():
    """Times are only comparable on one hardware class: a GPU run must not outrank CPU runs.
    A run that recorded no hardware (its worker never started) stays a miss where scored."""
    from harness.store import hardware_class
    from leaderboard.settings import StatSettings
    from leaderboard.ttr_view import ttr_suite_view

    cpu = hardware_class({"cpu_model": "Xeon"})
    gpu = hardware_class({"gpu_model": "H100", "gpu_count": 1, "cpu_model": "EPYC"})
    frame = _frame([("a", "w", 0, "ok", 5.0), ("a", "w", 1, "ok", 6.0),
                    ("b", "w", 0, "ok", 8.0), ("c", "w", 0, "failed", math.inf),
                    ("gpu-opt", "w", 0, "ok", 0.5)]).assign(
        hardware_class=[cpu, cpu, cpu, hardware_class({}), gpu],
        run_key=[f"k{i}" for i in range(5)], trial=0)
    view = ttr_suite_view("s", "1", frame, {}, {m: f"{m}.html" for m in ("a", "b", "c")},
                          StatSettings(bootstrap_reps=20))
    assert [r.method for r in view.rows] == ["a", "b", "c"]
    assert view.rows[0].is_best and "not reached" in view.rows[2].cells[0].text
    [note] = [n for n in view.notes if "hardware class" in n]
    assert "Scored on one hardware class, Xeon (4 runs); left out: H100 × 1 (1 run)" in note


def test_a_method_page_lists_every_trial_of_every_study_with_its_time(release_tree):
    """Time-to-result runs are trials of studies, none a seed: each workload lists them with
    hyperparameters and time to target, and marks each study's fastest trial (the scored one:
    nadamw on w-cnn, `conftest.TTR_TIMES`: 4.0 in study 0, 4.4 in study 1)."""
    page = (release_tree.root / "releases/v2/methods/nadamw.html").read_text()
    [cnn] = [s for s in page.split('<section class="method-benchmark">')[1:] if "w-cnn" in s]
    assert "Trials (4)" in cnn and "Evaluation seeds" not in cnn
    assert "Tuning trials" not in cnn and "no tuning decision stored" not in cnn
    marked = re.findall(r'<tr class="chosen[^"]*">\s*<td class="num">(\d) <span class="badge '
                        r'chosen">fastest of its study</span></td>\s*<td class="num">(\d)</td>'
                        r'\s*<td><code>[^<]*</code></td>\s*<td class="num">([^<]*)</td>', cnn)
    assert sorted((study, time) for _, study, time in marked) == [("0", "4"), ("1", "4.4")]


def test_nobody_is_best_when_no_base_workload_was_solved():
    """Both algorithms missed every target (score 0): the front page said "Best score: adamw
    (0.000)", the alphabetically first of the tie."""
    from types import SimpleNamespace

    from leaderboard.ttr_view import TTRSuiteView, _rows

    workloads = (WorkloadInfo("w", None, 0.8, 6.0),)
    frame = _frame([("adamw", "w", 0, "ok", math.inf), ("nadamw", "w", 0, "ok", math.inf)])
    data = ttr_data(frame, workloads, True)
    stats = ttr_statistics(data, reference=None, rng=np.random.default_rng(0), reps=20,
                           confidence=0.95)
    hrefs = {"adamw": "a.html", "nadamw": "n.html"}
    rows = _rows(data, stats, hrefs, None)
    assert not any(r.is_best for r in rows)
    assert {r.versus_best_text for r in rows} == {"no base workload's target reached"}
    assert TTRSuiteView.best_text.fget(SimpleNamespace(rows=rows)).startswith("—")
    frame = _frame([("adamw", "w", 0, "ok", 2.0), ("nadamw", "w", 0, "ok", 2.0)])
    data = ttr_data(frame, workloads, True)
    stats = ttr_statistics(data, reference=None, rng=np.random.default_rng(0), reps=20,
                           confidence=0.95)
    rows = _rows(data, stats, hrefs, None)
    assert [r.versus_best_text for r in rows] == ["best score (tied)"] * 2
    assert TTRSuiteView.best_text.fget(SimpleNamespace(rows=rows)) == \
        "adamw, nadamw (1.000) (tied)"


def test_a_cell_with_a_missed_study_gets_an_open_interval_in_the_times_plot():
    from leaderboard.settings import StatSettings
    from leaderboard.ttr_view import ttr_suite_view

    times = [1.0, 2.0, math.inf]
    frame = _frame([("a", "w", s, "ok", t) for s, t in enumerate(times)]).assign(
        hardware_class="cpu", run_key=["k1", "k2", "k3"], trial=0)
    view = ttr_suite_view("s", "1", frame, {}, {"a": "a.html"}, StatSettings(bootstrap_reps=50))
    data = view.times_plot.data
    assert data["medians"] == [[2.0]] and data["ci_highs"] == [["inf"]]
    json.dumps(data)  # the plot data stays JSON


def test_runs_timed_on_a_busy_machine_are_named_on_the_page():
    """timing_noise was recorded per run but never shown: a campaign timed under load (noise
    0.4 against 0.04 idle) was scored beside idle runs without a word."""
    from harness.metrics.time_to_result import timing_noise_note
    from leaderboard.settings import StatSettings
    from leaderboard.ttr_view import ttr_suite_view

    assert timing_noise_note([0.04, 0.05, 0.17, float("nan")]) == ""
    assert timing_noise_note([0.04] * 9 + [0.5]) == ""  # one in ten: a hiccup, not a busy machine
    frame = _frame([("a", "w", s, "ok", 1.0 + s) for s in range(3)]).assign(
        hardware_class="cpu", run_key=["k1", "k2", "k3"], trial=0,
        **{"metric.timing_noise": [0.4, 0.5, 0.03]})
    view = ttr_suite_view("s", "1", frame, {}, {"a": "a.html"}, StatSettings(bootstrap_reps=20))
    assert any(n.startswith("2 of 3 timed runs had timing noise above 25%") for n in view.notes)
