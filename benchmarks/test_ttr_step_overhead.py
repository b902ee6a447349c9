"""Harness overhead per timed step of a time-to-result run vs a bare PyTorch loop.

The harness side is the worker's timed loop (`harness.runner.ttr_worker._train`) driving the
AdamW baseline submission on a workload's `Task` (data on the device, randperm batches, the
submission clock around `select_batch` and `step`); evaluation is pushed out of the way
(`eval_period_s` beyond the budget: one evaluation at the start, one at the end) and its time
subtracted. The bare side is the loop a researcher writes by hand: the same model, the same
batches by index, `torch.optim.AdamW`, no clock. Both run interleaved (A B A B ...) in one
process on one thread, so machine noise hits both alike.

Per case, recorded in the benchmark JSON's `extra_info`:

- `harness_step_s`, `bare_step_s`: wall time per step; `ratio_harness_over_bare` (goal ≤ 1.05);
- `untimed_overhead_per_step_us`: the harness's own work per step outside the timed calls
  (batch indexing, bookkeeping) = (wall − evaluation − submission time) / steps.

Run: `pytest benchmarks/test_ttr_step_overhead.py -s --benchmark-json=results/ttr-overhead.json`.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from benchmarks.helpers import bare_steps, load_baseline
from harness.api import WorkloadHandle
from harness.runner.ttr_tasks import load_task
from harness.runner.ttr_worker import _train
from harness.ttr_kinds import WorkloadKind
from harness.ttr_models import build_model

BUDGET_S, ROUNDS, BATCH = 1.0, 5, 128


def classification_job(folder: Path) -> dict:
    rng = np.random.default_rng(0)
    files = {"train_images": rng.integers(0, 256, (2048, 3, 32, 32), dtype=np.uint8),
             "train_labels": rng.integers(0, 10, 2048), "eval_inputs":
             rng.integers(0, 256, (64, 3, 32, 32), dtype=np.uint8)}
    for name, array in files.items():
        np.save(folder / f"{name}.npy", array)
    return {**{k: str(folder / f"{k}.npy") for k in files},
            "workload": {"kind": "classification", "metric": "accuracy", "model": "mlp",
                         "model_options": {"hidden": 128, "num_layers": 2},
                         "input_shape": [3, 32, 32], "num_outputs": 10, "mean": [0.5] * 3,
                         "std": [0.25] * 3}}


def language_model_job(folder: Path) -> dict:
    rng = np.random.default_rng(0)
    np.savez(folder / "train.npz", tokens=rng.integers(0, 30, (2048, 33), dtype=np.uint8))
    np.savez(folder / "eval.npz", tokens=rng.integers(0, 30, (32, 33), dtype=np.uint8))
    return {"train_tasks": str(folder / "train.npz"), "eval_inputs": str(folder / "eval.npz"),
            "workload": {"kind": "language-model", "metric": "loss", "model": "transformer_lm",
                         "model_options": {"width": 32, "depth": 1, "heads": 2},
                         "vocab_size": 31, "sequence_length": 32}}


CASES = {"classification-mlp": classification_job, "language-model": language_model_job}


def harness_run(job: dict, folder: Path):
    algorithm_class = load_baseline("adamw", "Algorithm")
    job = {**job, "seed": 0, "eval_batch_size": 256}
    job["workload"] = {**job["workload"], "step_hint": 1000, "max_runtime_s": BUDGET_S,
                       "eval_period_s": 10 * BUDGET_S}
    device = torch.device("cpu")
    task = load_task(job, device)

    def run() -> tuple[float, int, float]:
        torch.manual_seed(0)
        w = job["workload"]
        model = build_model(WorkloadKind(w["kind"]), w["model"], w, w["model_options"])
        handle = WorkloadHandle(loss=task.loss, param_shapes={}, step_hint=1000,
                                max_runtime_s=BUDGET_S, device=device,
                                generator=torch.Generator().manual_seed(0))
        algorithm = algorithm_class({"batch_size": BATCH, "learning_rate": 1e-3})
        algorithm.init(handle, model)
        start = time.perf_counter()
        out = _train(job, folder, algorithm, model, task, BATCH)
        wall = time.perf_counter() - start - out["eval_time_s"]
        return wall, out["num_steps"], out["submission_time_s"]
    return run, task


def bare_run(job: dict, task, steps: int):
    w = job["workload"]
    kind = WorkloadKind(w["kind"])
    train = task.train

    def loss_of(model: torch.nn.Module, index: torch.Tensor) -> torch.Tensor:
        if kind is WorkloadKind.LANGUAGE_MODEL:
            rows = train[0][index]
            logits = model(rows[:, :-1])
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1))
        return F.cross_entropy(model(train[0][index]), train[1][index])

    def run() -> float:
        torch.manual_seed(0)
        model = build_model(kind, w["model"], w, w["model_options"])
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
        start = time.perf_counter()
        bare_steps(model, opt, loss_of, len(train[0]), BATCH, steps,
                   torch.Generator().manual_seed(1))
        return time.perf_counter() - start
    return run


@pytest.mark.parametrize("case", sorted(CASES))
def test_ttr_step_overhead_vs_bare_pytorch(benchmark, case, tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        job = CASES[case](tmp_path)
        harness, task = harness_run(job, tmp_path)
        harness()  # warm-up
        per_step = {"harness": [], "bare": [], "untimed": []}
        for _ in range(ROUNDS):
            wall, steps, submission_s = harness()
            bare_s = bare_run(job, task, steps)()
            per_step["harness"].append(wall / steps)
            per_step["bare"].append(bare_s / steps)
            per_step["untimed"].append((wall - submission_s) / steps)
        medians = {k: statistics.median(v) for k, v in per_step.items()}
        ratio = medians["harness"] / medians["bare"]
        benchmark.extra_info.update({
            "harness_step_s": medians["harness"], "bare_step_s": medians["bare"],
            "ratio_harness_over_bare": ratio,
            "untimed_overhead_per_step_us": medians["untimed"] * 1e6, "rounds": ROUNDS,
        })
        benchmark.pedantic(harness, rounds=1, iterations=1)
        print(f"\n{case}: harness {medians['harness'] * 1e3:.2f} ms/step, bare "
              f"{medians['bare'] * 1e3:.2f} ms/step, ratio {ratio:.3f}, untimed harness work "
              f"{medians['untimed'] * 1e6:.0f} us/step")
    finally:
        torch.set_num_threads(threads)
