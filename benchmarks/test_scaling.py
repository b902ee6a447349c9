"""How the cost of `harness evaluate` grows with seeds, trials, tasks and dataset size.

Two base campaigns on procedural data (tuned on `shapes`, evaluated on `textures`, 2 tasks × 2
classes, 1 tuning trial, 2 seeds, one method), and per base one variant per factor with that
factor doubled (dataset size: quadrupled):

- "tiny": 24 training images per class, width-4 CNN, batch 16 — fixed costs dominate;
- "quickstart-sized": 250 training images per class, width-16 CNN, batch 32 (quickstart's
  network and data per class) — training dominates.

Each records:

- `evaluate_s`: wall time of `evaluate` (datasets already cached, zygote already started);
- `prep_s`: the parent's data preparation before the first run (scenario plans, separation
  check, the workers' input files);
- `run_s`: the sum of the runs' wall times as the parent measured them (worker start, data
  load, training, predictions, scoring), and its parts `train_s` and `eval_s` from the
  workers' own clocks; `overhead_s` = run_s − train_s − eval_s is each run's fixed cost.

`--jobs 2` as in the README; `evaluate_s` ≈ prep_s + run_s / 2 + store writes.
"""

from __future__ import annotations

import time

import pytest

from benchmarks.helpers import SUITE_DEFAULTS, write_suite
from harness.data.cache import DatasetCache
from harness.evaluation import EvaluateOptions, Reporter, evaluate
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import make_method

EIGHT = list(range(8))
# Per base: the cache's images per class and split (training: enough for data-x4), and the
# suite options of the base campaign.
BASES = {
    "tiny": ({"train": 96, "val": 8, "test": 8}, {}),
    "quickstart-sized": ({"train": 1000, "val": 20, "test": 40},
                         {"train_per_class": 250, "width": 16, "batch_size": 32}),
}
VARIANTS = {
    "base": {},
    "seeds-x2": {"seeds": 4},
    "trials-x2": {"trials": 2},
    "tasks-x2": {"num_tasks": 4, "tuning_classes": EIGHT, "evaluation_classes": EIGHT},
    "data-x4": {},  # train_per_class × 4, set from the base
}


def suite_options(base: str, variant: str) -> dict:
    options = {**BASES[base][1], **VARIANTS[variant]}
    if variant == "data-x4":
        options["train_per_class"] = 4 * options.get("train_per_class",
                                                     SUITE_DEFAULTS["train_per_class"])
    return options


class _PhaseClock(Reporter):
    def __init__(self):
        self.first_phase_at: float | None = None

    def phase(self, name: str, total: int, skipped: int) -> None:
        if self.first_phase_at is None:
            self.first_phase_at = time.perf_counter()


@pytest.fixture(scope="module", params=list(BASES))
def setting(request, tmp_path_factory):
    base = request.param
    root = tmp_path_factory.mktemp(f"scaling-{base}")
    cache = DatasetCache(root / "cache", sizes_override=BASES[base][0])
    sub = load_submission(make_method(root, "naive-copy"))
    suite = load_suite(write_suite(root, name="warm-up", num_tasks=4, tuning_classes=EIGHT,
                                   evaluation_classes=EIGHT))
    with Store(root / "warm-up.db") as store:  # generate the datasets, start the zygote
        evaluate(suite, [sub], store, EvaluateOptions(jobs=2, num_trials=1, num_seeds=1),
                 cache=cache)
    return base, root, cache, sub


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_evaluate_cost_scaling(benchmark, setting, variant):
    base, root, cache, sub = setting
    suite = load_suite(write_suite(root, name=variant, **suite_options(base, variant)))
    clock = _PhaseClock()
    stores = iter(range(100))

    def campaign():
        with Store(root / f"{variant}-{next(stores)}.db") as store:
            return evaluate(suite, [sub], store, EvaluateOptions(jobs=2), cache=cache,
                            reporter=clock)

    start = time.perf_counter()
    report = benchmark.pedantic(campaign, rounds=1, iterations=1)
    assert report.results and not report.failed, [r.reason for r in report.failed]
    evaluate_s = benchmark.stats.stats.median
    run_s = sum(r.wall_time_s for r in report.results)
    train_s = sum(r.metrics["train_time_s"] for r in report.results)
    eval_s = sum(r.metrics["eval_time_s"] for r in report.results)
    benchmark.extra_info.update({
        "base": base, "variant": variant, "runs": len(report.results), "evaluate_s": evaluate_s,
        "prep_s": clock.first_phase_at - start, "run_s": run_s, "train_s": train_s,
        "eval_s": eval_s, "overhead_s": run_s - train_s - eval_s,
        "overhead_per_run_s": (run_s - train_s - eval_s) / len(report.results),
    })
    print(f"\n{base} {variant}: {len(report.results)} runs, evaluate {evaluate_s:.1f} s (prep "
          f"{clock.first_phase_at - start:.2f} s; runs {run_s:.1f} s = train {train_s:.1f} + "
          f"eval {eval_s:.1f} + fixed {run_s - train_s - eval_s:.1f})")
