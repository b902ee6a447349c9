"""The site's NEVIS pages: error-vs-FLOPs Pareto plot, per-task error curves, accumulation."""

from __future__ import annotations

from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec
from harness.store import Decision, Store
from leaderboard.build import build_site

TASKS = ["shapes", "bars", "sym"]
METHODS = {  # method -> (per-task errors, training FLOPs)
    "nevis-independent": ([0.5, 0.4, 0.3], 1e6),
    "nevis-finetune": ([0.45, 0.3, 0.35], 1e6),
    "nevis-finetune-search": ([0.3, 0.2, 0.25], 3e6),
    "expensive-and-bad": ([0.6, 0.6, 0.6], 5e6),
}


def _store(path):
    with Store(path) as store:
        for method, (errors, flops) in METHODS.items():
            store.write_submission(method, f"hash-{method}", {"name": method, "continual": True})
            for seed in (0, 1):
                spec = RunSpec(suite="tiny-stream", suite_version="v1", scenario="test-stream",
                               phase=Phase.EVALUATE, submission=method,
                               submission_hash=f"hash-{method}", hparams={"lr": 0.001},
                               seed=seed)
                shifted = [e + 0.01 * seed for e in errors]
                store.write_run(RunResult(
                    spec=spec, status=RunStatus.OK,
                    metrics={"avg_error": sum(shifted) / 3, "weighted_error": sum(shifted) / 3,
                             "train_flops": flops, "search_share": 0.0, "train_time_s": 1.0},
                    curves={"nevis_tasks": {"name": TASKS, "year": [2000, 2001, 2003],
                                            "error": shifted}},
                    wall_time_s=2.0, started_at="t", finished_at="t"))
            store.write_decision(Decision(
                suite="tiny-stream", suite_version="v1", scenario="test-stream",
                submission=method, submission_hash=f"hash-{method}",
                chosen_hparams={"lr": 0.001}, chosen_run_key="k", metric_name="avg_error",
                metric_value=0.3, trial_keys=()))


def test_stream_pages_show_the_pareto_front_and_per_task_curves(tmp_path):
    _store(tmp_path / "r.db")
    index = build_site(tmp_path / "r.db", tmp_path / "site")
    site = index.parent
    assert "NEVIS-like streams" in index.read_text()
    page = (site / "suites" / "tiny-stream.html").read_text()
    for method in METHODS:
        assert method in page
    assert "Pareto front: nevis-finetune, nevis-finetune-search" in page  # the alt text
    assert "expensive-and-bad" not in page.split("Pareto front:")[1].split('"')[0]
    slug = "tiny-stream-test-stream"
    for figure in ("pareto", "task-errors", "accumulation"):
        svg = site / "plots" / f"{slug}-{figure}.svg"
        assert svg.is_file() and "<svg" in svg.read_text()[:500]
    # knowledge accumulation vs the independent learner, mean over tasks
    # finetune-search: (−0.2 − 0.2 − 0.05) / 3; finetune: (−0.05 − 0.1 + 0.05) / 3
    assert "-0.150" in page and "-0.033" in page
    csv = (site / "data" / "tiny-stream-tasks.csv").read_text().splitlines()
    assert csv[0] == "suite,scenario,method,task,error" and len(csv) == 1 + 4 * 3
    assert "tiny-stream,test-stream,nevis-finetune,2000 shapes,0.455000" in csv
