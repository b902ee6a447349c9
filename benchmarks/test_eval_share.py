"""Evaluation cost as a share of a continual run, with per-step and with the suite's evaluation.

A suite's `[continual_eval] every_steps = k` makes the learner predict the continual subsample
after every k-th step, on top of the end-of-task evaluations (the accuracy matrix). The share is
read from the runs' stored metrics, the numbers the leaderboard reports:

    share = eval_time_s / (train_time_s + eval_time_s), summed over the evaluation seeds.

Each size runs first with continual evaluation off (`every_steps = 0`; it also generates the
data and starts the zygote), then with each schedule of `SCHEDULES`. The difference in
`eval_time_s` is what continual evaluation costs, and the difference in `train_time_s` shows
whether any of it leaks into the learner's clock. Goal (issue 8): share <= 10 %.

The share is set by the protocol's volume of predictions, not by the evaluation path
(`benchmarks/test_eval_path.py` measures that path against bare inference). The report states
`predictions_per_trained_image` p — all images predicted (accuracy matrix: the evaluation set
before the first task and after each; continual evaluation: every task's subsample at each
evaluation) over the images trained on — and `prediction_cost` c, the seconds of one prediction
over those of one trained image, measured on the run without continual evaluation. The share is
then p·c / (p·c + 1): c is about 0.26 for the 2 × 400 MLP and about 0.55 for the small CNN,
whose forward pass dominates its training step (its first convolution needs no input gradient).

Sizes, all tuned on `shapes` and evaluated on `textures`, method naive, one tuning trial,
`NUM_SEEDS` seeds:
- tiny: 2 tasks × 2 classes × 24 images, batch 16 (3 steps per task, each also sampled for FLOP
  counting), 4 continual samples per task;
- quickstart-sized: 5 tasks × 2 classes × 250 images, batch 32, width-16 CNN, 20 continual
  samples per task;
- split-mnist-shaped: the split-mnist suite's shape on procedural 32×32 images — 5 tasks ×
  2 classes × 6,000 images, 2 epochs at batch 128 (~188 steps per task), MLP 2 × 400, 10,000
  evaluation images, 100 continual samples per task — evaluated every step and on the suite's
  own schedule (every 50 steps).
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

TEN = list(range(10))
SIZES = {
    "tiny": ({"train": 24, "val": 8, "test": 8}, {}),
    "quickstart-sized": (
        {"train": 250, "val": 20, "test": 40},
        {"num_tasks": 5, "tuning_classes": TEN, "evaluation_classes": TEN,
         "train_per_class": 250, "batch_size": 32, "width": 16, "ce_samples": 20},
    ),
    "split-mnist-shaped": (
        {"train": 6000, "val": 200, "test": 1000},
        {"num_tasks": 5, "tuning_classes": TEN, "evaluation_classes": TEN,
         "train_per_class": 6000, "batch_size": 128, "epochs": 2, "backbone": "mlp",
         "hidden": 400, "ce_samples": 100, "replay_samples": 500},
    ),
}
SCHEDULES = {"tiny": (1,), "quickstart-sized": (1,), "split-mnist-shaped": (1, 50)}
NUM_SEEDS = 2
JOBS = 2  # the README's command; one torch thread per worker on 2 cores


def _measure(suite_path, cache, sub, tmp_path, tag) -> dict[str, float]:
    with Store(tmp_path / f"{tag}.db") as store:
        options = EvaluateOptions(jobs=JOBS, num_trials=1, num_seeds=NUM_SEEDS)
        report = evaluate(load_suite(suite_path), [sub], store, options, cache=cache)
    runs = [r for r in report.results if r.spec.phase is Phase.EVALUATE]
    assert runs and all(r.ok for r in runs), [r.reason for r in report.results]
    train_s = sum(r.metrics["train_time_s"] for r in runs)
    eval_s = sum(r.metrics["eval_time_s"] for r in runs)
    return {"train_time_s": train_s, "eval_time_s": eval_s,
            "eval_share": eval_s / (train_s + eval_s),
            "run_wall_time_s": sum(r.wall_time_s for r in runs),
            "continual_evaluations": sum(len(r.curves.get("continual_eval", {}).get("task", []))
                                         for r in runs),
            "images_trained": sum(r.metrics["samples_seen"] for r in runs)}


def _predictions(measured: dict[str, float], sizes: dict, options: dict) -> float:
    """Images predicted per run set: the matrix's passes plus every continual evaluation's."""
    num_tasks = options.get("num_tasks", 2)
    num_eval = sizes["test"] * len(options.get("evaluation_classes", range(4)))
    num_ce = num_tasks * options.get("ce_samples", 4)
    return (NUM_SEEDS * (num_tasks + 1) * num_eval
            + measured["continual_evaluations"] * num_ce)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_evaluation_share_with_per_step_evaluation(benchmark, tmp_path, size):
    sizes, options = SIZES[size]
    cache = DatasetCache(tmp_path / "cache", sizes_override=sizes)
    sub = load_submission(make_method(tmp_path, "naive-copy"))
    never = write_suite(tmp_path, name="end-of-task", every_steps=0, **options)
    off = _measure(never, cache, sub, tmp_path, "never")
    report: dict[str, dict[str, float]] = {"0": off}
    for every in SCHEDULES[size][1:]:
        suite = write_suite(tmp_path, name=f"every-{every}", every_steps=every, **options)
        report[str(every)] = _measure(suite, cache, sub, tmp_path, f"every-{every}")
    per_step = write_suite(tmp_path, name="every-step", every_steps=1, **options)
    report["1"] = benchmark.pedantic(
        lambda: _measure(per_step, cache, sub, tmp_path, "every-step"), rounds=1, iterations=1)
    for measured in report.values():
        measured["predictions_per_trained_image"] = (
            _predictions(measured, sizes, options) / measured["images_trained"])
        measured["continual_eval_time_s"] = measured["eval_time_s"] - off["eval_time_s"]
    cost = ((off["eval_time_s"] / _predictions(off, sizes, options))
            / (off["train_time_s"] / off["images_trained"]))
    benchmark.extra_info.update({
        "eval_share": report["1"]["eval_share"], "goal_share": 0.10, "seeds": NUM_SEEDS,
        "prediction_cost": cost, "by_every_steps": report,
    })
    print(f"\n{size} ({NUM_SEEDS} seeds; goal: share <= 10 %; a prediction costs {cost:.2f} "
          "of a trained image):")
    for every, m in sorted(report.items(), key=lambda item: int(item[0])):
        label = "no continual evaluation" if every == "0" else f"evaluate every {every} steps"
        print(f"  {label:>26}: eval share {m['eval_share']:5.1%} (train {m['train_time_s']:.2f}"
              f" s, eval {m['eval_time_s']:.2f} s), {m['predictions_per_trained_image']:.2f} "
              "images predicted per image trained")
