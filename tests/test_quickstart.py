"""End to end on the embedded default: replay beats naive fine-tuning in class-incremental
quickstart, and the built site says so with a significance test."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.store import Store
from leaderboard.view import VersusBest, build_site_view


@pytest.mark.slow
def test_replay_beats_naive_on_quickstart_and_the_site_says_so(tmp_path, capsys):
    store = tmp_path / "harness.db"
    code = main(["evaluate", "naive", "replay", "--trials", "1", "--jobs", "2",
                 "--store", str(store)])
    assert code == 0, capsys.readouterr().err[-2000:]
    with Store(store) as opened:
        view = build_site_view(opened, built_at="test")
    [suite] = view.suites
    [benchmark] = suite.benchmarks
    rows = {row.method: row for row in benchmark.rows}
    assert benchmark.best == "replay"
    assert rows["replay"].primary.mean > rows["naive"].primary.mean + 0.05
    assert rows["naive"].versus_best is VersusBest.WORSE  # significantly worse, not tied
    assert rows["naive"].comparison.p_adjusted < 0.05
    assert rows["replay"].primary.n == rows["naive"].primary.n == 5

    site = tmp_path / "site"
    assert main(["leaderboard", "build", "--store", str(store), "--out", str(site)]) == 0
    page = (site / "suites" / "quickstart.html").read_text()
    assert "replay" in page and "worse than best" in page
