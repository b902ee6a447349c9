"""NEVIS-like stream tables as downloads (CSV, JSON, LaTeX), in the release manifest, and the
stream figures read back from their SVG.

A tiny stream store with hand-checkable answers: per method two evaluation seeds of average
error, sample-weighted error, FLOPs and times (`STORED`); "bad" also has a failed seed. The
Pareto front of (mean error, mean FLOPs) is nevis-independent (fewest FLOPs) and search (lowest
error); bad is dominated. Task errors are shifted by 0.01 per seed for every method, so each
method's error minus nevis-independent's on a task is the difference of `TASK_ERRORS`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec
from harness.stats import summarize_cell
from harness.store import Store
from leaderboard.build import build_site

SUITE, STREAM = "mini-stream", "test-stream"
TASKS = ["shapes", "bars", "sym"]
# method -> metric -> per-seed values (seeds 0 and 1); train_flops the same on both seeds
STORED = {
    "nevis-independent": {"avg_error": [0.40, 0.42], "weighted_error": [0.38, 0.41],
                          "train_flops": [1e6, 1e6], "search_share": [0.0, 0.0],
                          "train_time_s": [10.0, 11.0], "wall_time_s": [20.0, 22.0]},
    "search": {"avg_error": [0.25, 0.29], "weighted_error": [0.24, 0.26],
               "train_flops": [3e6, 3e6], "search_share": [0.5, 0.5],
               "train_time_s": [30.0, 34.0], "wall_time_s": [60.0, 64.0]},
    "bad": {"avg_error": [0.60, 0.61], "weighted_error": [0.62, 0.64],
            "train_flops": [5e6, 5e6], "search_share": [0.0, 0.0],
            "train_time_s": [50.0, 50.0], "wall_time_s": [70.0, 80.0]},
}
TASK_ERRORS = {"nevis-independent": [0.5, 0.4, 0.3], "search": [0.3, 0.2, 0.25],
               "bad": [0.6, 0.6, 0.6]}
CHOSEN = {"lr": 0.01}


def _run(method: str, seed: int) -> RunResult:
    spec = RunSpec(suite=SUITE, suite_version="v1", scenario=STREAM, phase=Phase.EVALUATE,
                   submission=method, submission_hash=f"{method}-hash", hparams=CHOSEN,
                   seed=seed)
    if seed == 2:
        return RunResult(spec=spec, status=RunStatus.FAILED, reason="out of memory",
                         wall_time_s=5.0, finished_at="2025-03-01T12:00:00+00:00")
    values = {k: v[seed] for k, v in STORED[method].items()}
    wall_time_s = values.pop("wall_time_s")
    curve = {"name": TASKS, "year": [2000, 2001, 2003],
             "error": [e + 0.01 * seed for e in TASK_ERRORS[method]]}
    return RunResult(spec=spec, status=RunStatus.OK, metrics=values,
                     curves={"nevis_tasks": curve}, wall_time_s=wall_time_s,
                     finished_at="2025-03-01T12:00:00+00:00")


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nevis")
    with Store(root / "harness.db") as store:
        for method in STORED:
            store.write_submission(method, f"{method}-hash", {"name": method,
                                                              "continual": True})
            for seed in (0, 1, 2) if method == "bad" else (0, 1):
                store.write_run(_run(method, seed))
    return root / "harness.db"


@pytest.fixture(scope="module")
def site(store_path):
    return build_site(store_path, store_path.parent / "site", release="n1").parent


def test_building_a_stream_site_does_not_import_matplotlib(store_path,
                                                            modules_imported_by_build):
    """The stream page loads its suite file (task names, years) and draws its figures as SVG;
    neither may pull in matplotlib."""
    assert "matplotlib" not in modules_imported_by_build(store_path)


def test_stream_table_csv_holds_the_stored_results(site):
    table = pd.read_csv(site / "data/mini-stream-streams.csv").set_index("method")
    assert list(table.index) == ["search", "nevis-independent", "bad"]  # by average error
    for method, stored in STORED.items():
        row = table.loc[method]
        for metric in ("avg_error", "weighted_error"):
            cell = summarize_cell(stored[metric])
            assert row[metric] == pytest.approx(cell.mean)
            assert (row[f"{metric}_ci_low"], row[f"{metric}_ci_high"]) == pytest.approx(
                (cell.ci_low, cell.ci_high))
            assert row[f"{metric}_n"] == 2
        for metric in ("train_flops", "search_share", "train_time_s", "wall_time_s"):
            assert row[metric] == pytest.approx(np.mean(stored[metric])), (method, metric)
        assert json.loads(row["hparams"]) == {}  # no tuning decision stored
    assert table["pareto_front"].to_dict() == {"search": True, "nevis-independent": True,
                                               "bad": False}
    assert table.loc["bad", "failed_runs"] == 1 and table.loc["bad", "seeds"] == 2
    assert table.loc["search", "error_minus_reference"] == pytest.approx(-0.15)
    assert table.loc["bad", "error_minus_reference"] == pytest.approx(0.2)
    assert (table["reference"] == "nevis-independent").all()


def test_stream_table_json_matches_the_csv(site):
    document = json.loads((site / "data/mini-stream-streams.json").read_text())
    csv = pd.read_csv(site / "data/mini-stream-streams.csv")
    assert document["suite"] == SUITE and document["confidence"] == 0.95
    assert [r["method"] for r in document["rows"]] == list(csv["method"])
    for record, (_, row) in zip(document["rows"], csv.iterrows(), strict=True):
        for key in ("avg_error", "avg_error_ci_low", "weighted_error", "train_flops",
                    "wall_time_s", "error_minus_reference"):
            expected = None if pd.isna(row[key]) else pytest.approx(row[key])
            assert record[key] == expected, key  # missing: empty in CSV, null in JSON
        assert record["pareto_front"] == row["pareto_front"]
        assert record["stream"] == STREAM


def _tex_rows(text: str) -> list[list[str]]:
    body = text.split(r"\midrule", 1)[1].split(r"\bottomrule", 1)[0]
    return [line.removesuffix(r" \\").split(" & ") for line in body.strip().splitlines()]


def test_stream_table_latex_shows_the_page_values(site):
    text = (site / "data/mini-stream-streams.tex").read_text()
    assert text.count(r"\begin{tabular}") == 1 and "Test stream: 3 tasks." in text
    rows = {cells[0]: cells for cells in _tex_rows(text)}
    assert list(rows) == ["search", "nevis-independent", "bad"]
    search = summarize_cell(STORED["search"]["avg_error"])
    assert rows["search"][1] == (f"{search.mean:.3f} [{search.ci_low:.3f}, "
                                 f"{search.ci_high:.3f}] n=2")
    assert rows["search"][3] == "3e+06" and rows["search"][5] == "62 s"
    assert rows["search"][6] == "$-$0.150" and rows["bad"][6] == "+0.200"
    assert [rows[m][7] for m in rows] == ["yes", "yes", "--"]  # Pareto front
    assert "nevis-independent" in text.split(r"\midrule")[0]  # the reference in the header


def test_streams_are_ranked_tables_of_the_manifest(site):
    manifest = json.loads((site / "data/manifest.json").read_text())
    (table,) = [t for t in manifest["tables"] if t["kind"] == "stream"]
    assert table["key"] == f"{SUITE}/{STREAM}" and table["higher_is_better"] is False
    rows = {r["method"]: r for r in table["rows"]}
    assert [(m, r["rank"]) for m, r in rows.items()] == [
        ("search", 1), ("nevis-independent", 2), ("bad", 3)]
    assert rows["search"]["seeds"] == STORED["search"]["avg_error"]
    assert rows["bad"]["value"] == pytest.approx(0.605) and rows["bad"]["n"] == 2
    assert table["significant_pairs"] == []
    assert {"name": SUITE, "version": "v1"} in manifest["suites"]


def test_index_and_stream_page_link_the_downloads(site):
    index = (site / "index.html").read_text()
    page = (site / "suites/mini-stream.html").read_text()
    for href in ("data/mini-stream-streams.csv", "data/mini-stream-streams.json",
                 "data/mini-stream-streams.tex"):
        assert f'href="{href}"' in index and f'href="../{href}"' in page
        assert (site / href).is_file()
    assert re.search(r'href="\.\./data/mini-stream-tasks\.csv"', page)


def _points(element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in element.get("points").split()]


def _centre(marker) -> tuple[float, float]:
    if marker.tag == "circle":
        return float(marker.get("cx")), float(marker.get("cy"))
    if marker.tag == "rect":
        return (float(marker.get("x")) + float(marker.get("width")) / 2,
                float(marker.get("y")) + float(marker.get("height")) / 2)
    xs, ys = zip(*_points(marker), strict=True)
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _figure(site, parse_svg, name: str):
    return parse_svg((site / f"plots/mini-stream-test-stream-{name}.svg").read_text())


def test_pareto_figure_places_every_method_and_steps_through_the_front(site, parse_svg,
                                                                        read_axes):
    root = _figure(site, parse_svg, "pareto")
    flops_at, error_at = read_axes(root)  # FLOPs on a log axis: labelled 10⁶, 2×10⁶ …
    mean = {m: (np.mean(v["train_flops"]), np.mean(v["avg_error"])) for m, v in STORED.items()}
    for method, (flops, error) in mean.items():
        (marker,) = root.findall(f".//g[@data-method='{method}']/*[@class='point']")
        x, y = _centre(marker)
        assert (flops_at(x), error_at(y)) == pytest.approx((flops, error), rel=1e-3), method
    # the front is a staircase from the cheapest front method to the most accurate one
    (front,) = root.findall(".//polyline[@class='front']")
    corners = [(flops_at(x), error_at(y)) for x, y in _points(front)]
    independent, search = mean["nevis-independent"], mean["search"]
    expected = [independent, (search[0], independent[1]), search]
    assert np.allclose(corners, expected, rtol=1e-3)
    assert front.get("stroke-dasharray")  # dashed, as the caption says
    legend = [t.text for t in root.iter("text")][-4:]
    assert legend == ["bad", "nevis-independent (front)", "search (front)", "Pareto front"]


def test_task_error_figures_draw_each_methods_error_per_task(site, parse_svg, read_axes):
    labels = [f"{year} {name}" for year, name in zip([2000, 2001, 2003], TASKS, strict=True)]
    mean = {m: np.add(e, 0.005) for m, e in TASK_ERRORS.items()}  # seeds 0 and 1: +0, +0.01
    reference = mean["nevis-independent"]
    for figure, expected in (("task-errors", mean),
                             ("accumulation", {m: e - reference for m, e in mean.items()
                                               if m != "nevis-independent"})):
        root = _figure(site, parse_svg, figure)
        task_at, value_at = read_axes(root)
        for method, values in expected.items():
            (line,) = root.findall(f".//g[@data-method='{method}']/polyline")
            points = _points(line)
            assert [task_at(x) for x, _ in points] == labels, (figure, method)
            assert [value_at(y) for _, y in points] == pytest.approx(values, abs=1e-3)
        assert {g.get("data-method") for g in root.iter("g")} == set(expected)
    (zero,) = root.findall(".//line[@class='zero']")  # the accumulation's zero line
    assert value_at(float(zero.get("y1"))) == pytest.approx(0.0, abs=1e-4)


def test_a_method_page_shows_dev_stream_trials_with_the_test_stream_decision(tmp_path):
    """A stream suite tunes on its dev stream and decides for its test stream: the page shows
    the trials, their tuning score and the chosen one under the test stream, linked to its
    table, and no separate dev-stream section (the suite page has no dev-stream table)."""
    from harness.store import Decision
    from leaderboard.paths import benchmark_slug

    with Store(tmp_path / "harness.db") as store:
        store.write_submission("search", "search-hash", {"name": "search", "continual": True})
        trials = []
        for trial, (lr, error) in enumerate([(0.1, 0.45), (0.01, 0.3)]):
            spec = RunSpec(suite=SUITE, suite_version="v1", scenario="dev-stream",
                           phase=Phase.TUNE, submission="search", submission_hash="search-hash",
                           hparams={"lr": lr}, seed=0, trial=trial)
            trials.append(RunResult(spec=spec, status=RunStatus.OK,
                                    metrics={"avg_error": error}, wall_time_s=3.0,
                                    finished_at="2025-03-01T11:00:00+00:00"))
            store.write_run(trials[-1])
        store.write_decision(Decision(
            suite=SUITE, suite_version="v1", scenario=STREAM, submission="search",
            submission_hash="search-hash", chosen_hparams=CHOSEN,
            chosen_run_key=trials[1].spec.key, metric_name="avg_error", metric_value=0.3,
            trial_keys=tuple(t.spec.key for t in trials)))
        for seed in (0, 1):
            store.write_run(_run("search", seed))
    page = (build_site(tmp_path / "harness.db", tmp_path / "site").parent
            / "methods/search.html").read_text()
    assert "dev-stream" not in page and page.count('class="method-benchmark"') == 1
    assert f'#{benchmark_slug(SUITE, STREAM)}"' in page
    assert "Tuning trials (2)" in page and "Evaluation seeds (2)" in page
    assert re.search(r'<tr class="chosen[^>]*>\s*<td class="num">1 <span class="badge chosen">'
                     r'chosen</span>', page)
    assert "<td class=\"num\">0.3</td>" in page and "no tuning decision stored" not in page
