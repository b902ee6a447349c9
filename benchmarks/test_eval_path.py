"""Harness evaluation path vs bare PyTorch inference: same model, same inputs, same batches.

The evaluation share of a run (`benchmarks/test_eval_share.py`) is mostly the forward passes
the protocol asks for — the accuracy matrix predicts the whole evaluation set before the first
task and after each task, and continual evaluation predicts its fixed subsample every
`every_steps` steps. What the harness adds on top is measured here: the worker's path
(`predict_all`: batches of the inputs, `learner.predict` under inference mode,
logit checks, argmax, the suite's autocast context; for continual evaluation also
`StepInstrument.evaluate_now`, which saves and restores the learner's train/eval modes) against
the loop a researcher writes by hand (`model.eval()`, inference mode, argmax). Each side
normalizes its inputs before the timed span: the worker does it once at start-up for sets that
fit `EvalInputs.prepare`'s limit, the bare loop by hand. Goal: ratio close to 1 (the
evaluation-path counterpart of the loop-overhead goal of issue 8, ≤ 1.03).

Both sides are timed interleaved in one process (A B A B ...), one thread; cases follow the
schedules of real suites: quickstart-sized (400 evaluation images, 6 matrix passes, 80
continual passes of 100 images) and split-mnist (MNIST's 10,000 test images, 6 matrix passes,
19 continual passes of 500: every 50 of ~188 steps per task).
Run: `pytest benchmarks/test_eval_path.py -s --benchmark-json=...`.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import pytest
import torch

from benchmarks.helpers import load_baseline
from benchmarks.test_loop_overhead import interleaved_times
from harness.api import Budget, LearnerContext, Scenario
from harness.data.batches import Normalizer
from harness.models import backbone_factory
from harness.runner.instrument import StepInstrument
from harness.runner.performance import autocast
from harness.runner.worker import EvalInputs, predict_all

EVAL_BATCH_SIZE = 512  # the suites' default `eval_batch_size`
NUM_OUTPUTS = 10


@dataclass(frozen=True)
class Case:
    """A suite's network and evaluation schedule: `num_eval` images predicted `matrix_passes`
    times (accuracy matrix) and `num_ce` images predicted `ce_passes` times (continual)."""

    backbone: str
    input_shape: tuple[int, ...]
    options: dict
    num_eval: int
    matrix_passes: int
    num_ce: int
    ce_passes: int
    rounds: int


CASES = {
    "quickstart-cnn": Case("small_cnn", (3, 32, 32), {"width": 16}, 400, 6, 100, 80, 11),
    "split-mnist-mlp": Case("mlp", (1, 28, 28), {"hidden": 400, "num_layers": 2}, 10_000, 6,
                            500, 19, 11),
}


def _inputs(case: Case, count: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, *case.input_shape), dtype=torch.uint8, generator=gen)


def _learner(case: Case):
    ctx = LearnerContext(
        device=torch.device("cpu"), seed=0, generator=torch.Generator().manual_seed(0),
        num_tasks=5, num_outputs=NUM_OUTPUTS, input_shape=case.input_shape,
        scenario=Scenario.CLASS, budget=Budget(1, 32, 0, 600.0),
        make_backbone=backbone_factory(case.backbone, case.input_shape, NUM_OUTPUTS,
                                       **case.options))
    torch.manual_seed(0)
    return load_baseline("naive", "Learner")(ctx, {"lr": 1e-3})


def harness_eval(case: Case, learner):
    eval_inputs, ce_inputs = _inputs(case, case.num_eval, 1), _inputs(case, case.num_ce, 2)
    channels = case.input_shape[0]
    normalize = Normalizer([0.5] * channels, [0.25] * channels, torch.device("cpu"))
    task_classes = [(2 * t, 2 * t + 1) for t in range(5)]

    def predict(inputs: EvalInputs):
        with autocast(torch.device("cpu"), "float32"):
            return predict_all(learner, inputs.images, inputs.normalize,
                               [(None, 0, len(inputs.images))], task_classes, Scenario.CLASS,
                               NUM_OUTPUTS, EVAL_BATCH_SIZE, 0)

    def prepare():
        eval_set = EvalInputs.prepare(eval_inputs, normalize)
        ce_set = EvalInputs.prepare(ce_inputs, normalize)

        def run():
            for _ in range(case.matrix_passes):
                predict(eval_set)
            instrument = StepInstrument(case.ce_passes, evaluate=lambda: predict(ce_set),
                                        every_steps=1, learner=learner,
                                        clock=time.perf_counter)
            for step in range(case.ce_passes):
                learner.model.train()  # as mid-task: the evaluation switches modes and back
                instrument.evaluate_now(step + 1)
        return run
    return prepare


def bare_eval(case: Case, model: torch.nn.Module):
    def normalized(count: int, seed: int) -> torch.Tensor:
        return (_inputs(case, count, seed).float() / 255 - 0.5) / 0.25  # once, as by hand

    def prepare():
        x_eval, x_ce = normalized(case.num_eval, 1), normalized(case.num_ce, 2)

        def predict(x: torch.Tensor) -> torch.Tensor:
            model.eval()
            with torch.inference_mode():
                return torch.cat([model(x[lo:lo + EVAL_BATCH_SIZE]).argmax(dim=1)
                                  for lo in range(0, len(x), EVAL_BATCH_SIZE)])

        def run():
            for _ in range(case.matrix_passes):
                predict(x_eval)
            for _ in range(case.ce_passes):
                predict(x_ce)
                model.train()
        return run
    return prepare


@pytest.mark.parametrize("name", sorted(CASES))
def test_harness_evaluation_path_vs_bare_inference(benchmark, name):
    torch.set_num_threads(1)
    case = CASES[name]
    learner = _learner(case)
    harness_run, bare_run = harness_eval(case, learner), bare_eval(case, learner.model)
    harness_times, bare_times = interleaved_times(harness_run, bare_run, case.rounds)
    harness_s, bare_s = statistics.median(harness_times), statistics.median(bare_times)
    ratio_min = min(harness_times) / min(bare_times)
    images = case.matrix_passes * case.num_eval + case.ce_passes * case.num_ce
    benchmark.extra_info.update({
        "harness_median_s": harness_s, "bare_median_s": bare_s,
        "ratio_harness_over_bare": harness_s / bare_s, "ratio_of_fastest_rounds": ratio_min,
        "images_predicted": images, "harness_ms_per_image": 1e3 * harness_s / images,
        "rounds": case.rounds,
    })
    benchmark.pedantic(lambda run: run(), setup=lambda: ((harness_run(),), {}), rounds=3)
    print(f"\n{name}: harness {harness_s * 1e3:.1f} ms, bare {bare_s * 1e3:.1f} ms for "
          f"{images:,} predictions (medians of {case.rounds}), ratio {harness_s / bare_s:.3f}; "
          f"fastest rounds: ratio {ratio_min:.3f}")
