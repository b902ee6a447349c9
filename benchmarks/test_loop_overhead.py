"""Harness training loop vs a bare PyTorch loop: same model, same batches, same steps.

The harness loop is what a worker runs: `DeviceTaskData` (uint8 on the device, randperm
batches, fused normalization) feeding the naive baseline's `learn`. The bare loop indexes a
pre-normalized float tensor and steps the same model — the code a researcher would write by
hand. Both are timed interleaved in one process (A B A B ...) so machine noise hits both
equally; the ratio of medians is recorded in the benchmark JSON as `extra_info`.

Goal (issue 2): ratio <= 1.05 now, <= 1.03 later. Run: `pytest benchmarks --benchmark-json=...`.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from harness.api import Budget, LearnerContext, Scenario, TaskInfo
from harness.data.batches import DeviceTaskData, Normalizer
from harness.models import backbone_factory

REPO = Path(__file__).resolve().parent.parent
NUM_SAMPLES, BATCH, EPOCHS, ROUNDS = 1024, 32, 1, 7
CASES = {
    "quickstart-cnn": ("small_cnn", (3, 32, 32), {"width": 16}),
    "split-mnist-mlp": ("mlp", (1, 28, 28), {}),
}


def naive_learner_class():
    path = REPO / "submissions" / "naive" / "submission.py"
    spec = importlib.util.spec_from_file_location("bench_naive", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Learner


def make_data(input_shape):
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (NUM_SAMPLES, *input_shape), dtype=torch.uint8, generator=gen)
    labels = torch.randint(0, 10, (NUM_SAMPLES,), generator=gen)
    return images, labels


def harness_loop(case):
    name, shape, options = CASES[case]
    images, labels = make_data(shape)
    mean, std = [0.5] * shape[0], [0.25] * shape[0]
    ctx = LearnerContext(
        device=torch.device("cpu"), seed=0, generator=torch.Generator().manual_seed(0),
        num_tasks=1, num_outputs=10, input_shape=shape, scenario=Scenario.CLASS,
        budget=Budget(EPOCHS, BATCH, 0, 600.0),
        make_backbone=backbone_factory(name, shape, 10, **options),
    )
    learner_class = naive_learner_class()

    def run():
        torch.manual_seed(0)
        learner = learner_class(ctx, {"lr": 1e-3})
        data = DeviceTaskData(images, labels, batch_size=BATCH, num_epochs=EPOCHS,
                              normalize=Normalizer(mean, std, ctx.device),
                              generator=torch.Generator().manual_seed(1))
        learner.learn(TaskInfo(0, tuple(range(10)), Scenario.CLASS, NUM_SAMPLES), data)
    return run


def bare_loop(case):
    name, shape, options = CASES[case]
    images, labels = make_data(shape)
    x_all = (images.float() / 255 - 0.5) / 0.25  # pre-normalized once, as by hand

    def run():
        torch.manual_seed(0)
        model = backbone_factory(name, shape, 10, **options)()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        gen = torch.Generator().manual_seed(1)
        for _ in range(EPOCHS):
            order = torch.randperm(NUM_SAMPLES, generator=gen)
            for start in range(0, NUM_SAMPLES, BATCH):
                index = order[start:start + BATCH]
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(x_all[index]), labels[index]).backward()
                opt.step()
    return run


def interleaved_medians(first, second, rounds):
    first(), second()  # warm-up: allocator, kernels, lazy imports
    times = {0: [], 1: []}
    for _ in range(rounds):
        for i, fn in enumerate((first, second)):
            start = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


@pytest.mark.parametrize("case", sorted(CASES))
def test_harness_loop_vs_bare_pytorch(benchmark, case):
    torch.set_num_threads(1)
    harness_run, bare_run = harness_loop(case), bare_loop(case)
    harness_s, bare_s = interleaved_medians(harness_run, bare_run, ROUNDS)
    benchmark.extra_info.update({
        "harness_median_s": harness_s, "bare_median_s": bare_s,
        "ratio_harness_over_bare": harness_s / bare_s, "steps": EPOCHS * NUM_SAMPLES // BATCH,
    })
    benchmark.pedantic(harness_run, rounds=3, iterations=1)
    print(f"\n{case}: harness {harness_s * 1e3:.1f} ms, bare {bare_s * 1e3:.1f} ms, "
          f"ratio {harness_s / bare_s:.3f}")
