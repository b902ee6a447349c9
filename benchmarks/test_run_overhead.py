"""Fixed cost of one isolated run: zygote fork, job files, worker set-up, scoring, store write.

Measured on the tiny test suite (2 tasks of 48 images) so the learner's own work is negligible:
the wall time of a run is then almost all harness overhead. The first run of a process also
starts the zygote (torch imported once); it is reported separately as the cold start.

With `sandbox=True` each run is a fresh `bwrap ... python` process (see
`harness.runner.sandbox` for why it cannot be forked): the difference between the two is the
price of the sandbox per run.

Time-to-result runs never share the machine, so their sandboxed workers' start-ups cannot hide
behind another run's work; `harness.runner.serial` starts them ahead in batches, one per core.
`test_ttr_per_run_fixed_cost` measures what that saves: the same tiny time-to-result campaign
(6 sandboxed runs of well under a second of training each) started one by one (`ahead=1`) and in
batches (`ahead` = cores), interleaved, reporting the fixed cost per run (campaign wall time
less the runs' submission and evaluation time, over the runs) and the ratio of the two.
"""

from __future__ import annotations

import os
import statistics
import time

import pytest

from harness.data.cache import DatasetCache
from harness.evaluation import EvaluateOptions, evaluate
from harness.runner.sandbox import sandbox_available
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import REPO, TINY_SIZES, make_method, write_tiny_suite
from tests.test_ttr_pipeline import TINY_TTR


@pytest.mark.parametrize("sandbox", [False, True], ids=["zygote", "sandbox"])
def test_per_run_fixed_cost(benchmark, tmp_path, sandbox):
    if sandbox and not sandbox_available():
        pytest.skip("bubblewrap is not available here")
    cache = DatasetCache(tmp_path / "cache", sizes_override=TINY_SIZES)
    suite = load_suite(write_tiny_suite(tmp_path))
    sub = load_submission(make_method(tmp_path, "naive-copy"))
    rounds = iter(range(1000))

    def one_campaign():
        with Store(tmp_path / f"r{next(rounds)}.db") as store:
            evaluate(suite, [sub], store, EvaluateOptions(num_trials=1, num_seeds=4,
                                                         sandbox=sandbox),
                     cache=cache)

    start = time.perf_counter()
    one_campaign()  # cold: data generation and zygote start included
    cold_s = time.perf_counter() - start
    benchmark.pedantic(one_campaign, rounds=3, iterations=1)
    per_run_s = benchmark.stats.stats.median / 5  # 1 tuning trial + 4 seeds
    benchmark.extra_info.update({"cold_campaign_s": cold_s, "warm_per_run_s": per_run_s})
    print(f"\n{'sandboxed' if sandbox else 'zygote'}: cold campaign {cold_s:.2f} s; "
          f"warm per-run cost {per_run_s * 1e3:.0f} ms")


def test_ttr_per_run_fixed_cost(benchmark, tmp_path, monkeypatch):
    if not sandbox_available():
        pytest.skip("bubblewrap is not available here")
    import harness.ttr_evaluation as ttr_evaluation
    from harness.runner.serial import WarmedSerialExecutor

    cache = DatasetCache(tmp_path / "cache", sizes_override=TINY_SIZES)
    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR)
    suite = load_suite(path)
    sub = load_submission(REPO / "submissions" / "adamw")
    rounds = iter(range(1000))
    cores = os.cpu_count() or 1

    def campaign(ahead: int) -> float:
        """Fixed cost per run (s) of one 6-run campaign with workers started `ahead`."""
        monkeypatch.setattr(ttr_evaluation, "one_at_a_time",
                            lambda local: WarmedSerialExecutor(local.settings, ahead=ahead))
        start = time.perf_counter()
        with Store(tmp_path / f"t{next(rounds)}.db") as store:
            report = ttr_evaluation.evaluate_ttr(
                suite, [sub], store, EvaluateOptions(num_trials=3, num_seeds=1, sandbox=True),
                cache=cache)
        wall = time.perf_counter() - start
        assert report.executed == 6 and not report.failed
        busy = sum(r.metrics["submission_time_s"] + r.metrics["eval_time_s"]
                   for r in report.results)
        return (wall - busy) / report.executed

    campaign(cores)  # cold: data generation
    one_by_one, batched = [], []
    for _ in range(3):
        one_by_one.append(campaign(1))
        batched.append(campaign(cores))
    benchmark.pedantic(lambda: batched.append(campaign(cores)), rounds=1, iterations=1)
    serial_s, warmed_s = statistics.median(one_by_one), statistics.median(batched)
    benchmark.extra_info.update({"per_run_fixed_s_one_by_one": serial_s,
                                 "per_run_fixed_s_batched": warmed_s, "ahead": cores,
                                 "ratio_batched_over_one_by_one": warmed_s / serial_s})
    print(f"\ntime-to-result, sandboxed: fixed cost per run {serial_s:.2f} s started one by "
          f"one, {warmed_s:.2f} s started {cores} at a time (ratio {warmed_s / serial_s:.2f})")
