"""Fixed cost of one isolated run: zygote fork, job files, worker set-up, scoring, store write.

Measured on the tiny test suite (2 tasks of 48 images) so the learner's own work is negligible:
the wall time of a run is then almost all harness overhead. The first run of a process also
starts the zygote (torch imported once); it is reported separately as the cold start.

With `sandbox=True` each run is a fresh `bwrap ... python` process (see
`harness.runner.sandbox` for why it cannot be forked): the difference between the two is the
price of the sandbox per run.
"""

from __future__ import annotations

import time

import pytest

from harness.data.cache import DatasetCache
from harness.evaluation import EvaluateOptions, evaluate
from harness.runner.sandbox import sandbox_available
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import TINY_SIZES, make_method, write_tiny_suite


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
