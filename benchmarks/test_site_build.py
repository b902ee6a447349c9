"""Site build time against the size of the store: 1,000 and 10,000 stored runs.

Both stores have the same layout — 2 suites × 2 scenarios (4 benchmarks) × 5 methods, each
method with 5 tuning trials, a tuning decision and its evaluation seeds — and differ only in
the number of seeds per cell (45 or 495), so the page and figure count is fixed and the
difference is the cost per stored run. The cost per figure is reported too: it is what grows
with the number of (benchmark, method) cells, one accuracy-matrix SVG each. Runs are synthetic
(`benchmarks.helpers.synthetic_run`) and written through the Store API.

Besides wall time the build's CPU time is reported: on a shared machine the wall time also
counts the other processes, the CPU time much less so.
"""

from __future__ import annotations

import time

import pytest

import leaderboard.build
from benchmarks.helpers import synthetic_run
from harness.runner.spec import Phase
from harness.store import Decision, Store
from leaderboard.build import build_site

NUM_SUITES, NUM_SCENARIOS, NUM_METHODS, NUM_TRIALS = 2, 2, 5, 5
SEEDS_FOR = {1_000: 45, 10_000: 495}  # stored runs -> evaluation seeds per cell


def fill_store(path, num_seeds: int, num_methods: int = NUM_METHODS) -> int:
    """Write the layout above with `num_seeds` seeds per cell; return the number of runs."""
    runs, decisions = [], []
    for s in range(NUM_SUITES):
        for c in range(NUM_SCENARIOS):
            suite, scenario = f"suite{s}", f"scenario{c}"
            for m in range(num_methods):
                name, base = f"method{m:02d}", 0.3 + 0.05 * m
                trials = [synthetic_run(suite, scenario, name, Phase.TUNE, 10_000 + t, t,
                                        base) for t in range(NUM_TRIALS)]
                runs += trials + [synthetic_run(suite, scenario, name, Phase.EVALUATE, seed,
                                                -1, base) for seed in range(num_seeds)]
                decisions.append(Decision(
                    suite=suite, suite_version="1", scenario=scenario, submission=name,
                    submission_hash=f"{name}-hash", chosen_hparams=trials[0].spec.hparams,
                    chosen_run_key=trials[0].spec.key, metric_name="final_avg_acc",
                    metric_value=trials[0].metrics["final_avg_acc"],
                    trial_keys=tuple(t.spec.key for t in trials)))
    with Store(path) as store:
        for m in range(num_methods):
            name = f"method{m:02d}"
            store.write_submission(name, f"{name}-hash", {
                "name": name, "description": "synthetic", "authors": ["Bench"],
                "continual": True, "suites": ["*"]})
        store.import_results(runs)
        for decision in decisions:
            store.write_decision(decision)
    return len(runs)


@pytest.mark.parametrize("num_runs", sorted(SEEDS_FOR))
def test_site_build_time(benchmark, tmp_path, monkeypatch, num_runs):
    path = tmp_path / "store.db"
    assert fill_store(path, SEEDS_FOR[num_runs]) == num_runs
    view_s = []
    real_view = leaderboard.build.build_site_view

    def timed_view(*args, **kwargs):  # the view model's share of the build
        start = time.perf_counter()
        site = real_view(*args, **kwargs)
        view_s.append(time.perf_counter() - start)
        return site

    monkeypatch.setattr(leaderboard.build, "build_site_view", timed_view)
    cpu_s = []

    def build():
        start = time.process_time()
        index = build_site(path, tmp_path / "site", release="bench")
        cpu_s.append(time.process_time() - start)
        return index

    index = benchmark.pedantic(build, rounds=1, iterations=1)
    files = [p for p in index.parent.rglob("*") if p.is_file()]
    num_svgs = sum(p.suffix == ".svg" for p in files)
    build_s = benchmark.stats.stats.median
    benchmark.extra_info.update({
        "stored_runs": num_runs, "benchmarks": NUM_SUITES * NUM_SCENARIOS,
        "methods": NUM_METHODS, "build_s": build_s, "build_cpu_s": cpu_s[0],
        "view_model_s": view_s[0],
        "write_files_s": build_s - view_s[0], "svg_figures": num_svgs,
        "write_s_per_svg": (build_s - view_s[0]) / num_svgs, "site_files": len(files),
        "site_mb": sum(p.stat().st_size for p in files) / 2**20,
    })
    print(f"\n{num_runs:,} runs: site built in {build_s:.1f} s, {cpu_s[0]:.1f} CPU s (view model "
          f"{view_s[0]:.1f} s, {num_svgs} SVGs and pages {build_s - view_s[0]:.1f} s)")
