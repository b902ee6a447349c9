"""Evaluation cost as a share of a continual run that evaluates after every training step.

A suite with `[continual_eval] every_steps = 1` makes the learner predict the continual
subsample after each step, on top of the end-of-task evaluations (the accuracy matrix). The
share is read from the runs' stored metrics, the numbers the leaderboard reports:

    share = eval_time_s / (train_time_s + eval_time_s), summed over the evaluation seeds.

Each suite is also run with continual evaluation off (`every_steps = 0`): the difference in
`eval_time_s` is what per-step evaluation itself costs, and the difference in `train_time_s`
shows whether any of it leaks into the learner's clock. Goal (issue 8): share <= 10 %.

Two sizes, both tuned on `shapes` and evaluated on `textures`, one method (naive), one tuning
trial, `NUM_SEEDS` seeds: a tiny one (2 tasks × 2 classes × 24 images, batch 16: 3 steps per
task, every one of them also sampled for FLOP counting; 4 continual samples per task) and a
quickstart-sized one (5 tasks × 2 classes × 250 images, batch 32, width-16 CNN, 20 continual
samples per task).
"""

from __future__ import annotations

import pytest

from benchmarks.helpers import write_suite
from harness.data.cache import DatasetCache
from harness.evaluation import EvaluateOptions, evaluate
from harness.runner.spec import Phase
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import make_method

SIZES = {
    "tiny": ({"train": 24, "val": 8, "test": 8}, {}),
    "quickstart-sized": (
        {"train": 250, "val": 20, "test": 40},
        {"num_tasks": 5, "tuning_classes": list(range(10)),
         "evaluation_classes": list(range(10)), "train_per_class": 250, "batch_size": 32,
         "width": 16, "ce_samples": 20},
    ),
}
NUM_SEEDS = 2
JOBS = 2  # the README's command; one torch thread per worker on 2 cores


def _times(suite_path, cache, sub, tmp_path, tag):
    with Store(tmp_path / f"{tag}.db") as store:
        options = EvaluateOptions(jobs=JOBS, num_trials=1, num_seeds=NUM_SEEDS)
        report = evaluate(load_suite(suite_path), [sub], store, options, cache=cache)
    runs = [r for r in report.results if r.spec.phase is Phase.EVALUATE]
    assert runs and all(r.ok for r in runs), [r.reason for r in report.results]
    train_s = sum(r.metrics["train_time_s"] for r in runs)
    eval_s = sum(r.metrics["eval_time_s"] for r in runs)
    wall_s = sum(r.wall_time_s for r in runs)
    return train_s, eval_s, wall_s


@pytest.mark.parametrize("size", sorted(SIZES))
def test_evaluation_share_with_per_step_evaluation(benchmark, tmp_path, size):
    sizes, options = SIZES[size]
    cache = DatasetCache(tmp_path / "cache", sizes_override=sizes)
    sub = load_submission(make_method(tmp_path, "naive-copy"))
    every = write_suite(tmp_path, name="every-step", every_steps=1, **options)
    never = write_suite(tmp_path, name="end-of-task", every_steps=0, **options)
    # Off first: it also generates the datasets and starts the zygote (the warm-up).
    off_train_s, off_eval_s, _ = _times(never, cache, sub, tmp_path, "never")
    train_s, eval_s, wall_s = benchmark.pedantic(
        lambda: _times(every, cache, sub, tmp_path, "every"), rounds=1, iterations=1)
    share = eval_s / (train_s + eval_s)
    benchmark.extra_info.update({
        "eval_share": share, "goal_share": 0.10, "train_time_s": train_s,
        "eval_time_s": eval_s, "run_wall_time_s": wall_s,
        "eval_time_s_without_continual_eval": off_eval_s,
        "train_time_s_without_continual_eval": off_train_s,
        "continual_eval_time_s": eval_s - off_eval_s,
        "eval_share_without_continual_eval": off_eval_s / (off_train_s + off_eval_s),
        "seeds": NUM_SEEDS,
    })
    print(f"\n{size}: eval share {share:.1%} (goal <= 10 %): train {train_s:.2f} s, eval "
          f"{eval_s:.2f} s over {NUM_SEEDS} seeds; without per-step evaluation: eval "
          f"{off_eval_s:.2f} s, train {off_train_s:.2f} s")
