"""What several benchmarks share: suite files written on the fly, the shipped baselines and the
bare PyTorch loop the harness is compared with, and synthetic stored runs.

Suites here use procedural datasets (by default shapes and textures), so every benchmark runs
on a machine with no dataset at hand. Synthetic runs have the shape of what `harness evaluate`
stores (the same metric names, an accuracy matrix, a continual-evaluation trace) without
training anything, to fill a store quickly.
"""

from __future__ import annotations

import importlib.util
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec

REPO = Path(__file__).resolve().parent.parent

SUITE_TEMPLATE = """
name = "{name}"
description = "benchmark suite {name}"
api = "continual"
scenarios = ["class"]
backbone = "{backbone}"
backbone_options = {backbone_options}
augment = {augment}

[budget]
epochs_per_task = {epochs}
batch_size = {batch_size}
replay_samples = {replay_samples}
time_limit_s = {time_limit_s}

[continual_eval]
every_steps = {every_steps}
samples_per_task = {ce_samples}

[protocol]
num_trials = {trials}
num_seeds = {seeds}
eval_batch_size = {eval_batch_size}
"""

# One per side of the protocol: tuned on a validation split, evaluated on the test split.
DATA_TABLE = """
[{side}]
dataset = "{dataset}"
classes = {classes}
num_tasks = {num_tasks}
eval_split = "{eval_split}"
max_train_per_class = {train_per_class}
"""

SUITE_DEFAULTS: dict[str, Any] = {
    "name": "bench", "backbone": "small_cnn", "width": 4, "augment": [], "epochs": 1,
    "batch_size": 16, "replay_samples": 8, "time_limit_s": 600, "every_steps": 0,
    "ce_samples": 4, "trials": 1, "seeds": 2, "eval_batch_size": 512,
    "tuning_dataset": "shapes", "tuning_classes": [0, 1, 2, 3], "num_tasks": 2,
    "evaluation_dataset": "textures", "evaluation_classes": [0, 1, 2, 3],
    "train_per_class": 24,
    "hidden": 0,  # > 0: an MLP's hidden width (`backbone = "mlp"`), instead of `width`
}


def write_suite(folder: Path, **options: Any) -> Path:
    """A suite TOML in `folder` from `SUITE_DEFAULTS` with `options` replaced; returns its path."""
    unknown = set(options) - set(SUITE_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown suite options: {sorted(unknown)}")
    values = {**SUITE_DEFAULTS, **options}
    values["backbone_options"] = (f"{{ hidden = {values['hidden']}, num_layers = 2 }}"
                                  if values["hidden"] else f"{{ width = {values['width']} }}")
    tables = [DATA_TABLE.format(side=side, dataset=values[f"{side}_dataset"],
                                classes=values[f"{side}_classes"], eval_split=split,
                                num_tasks=values["num_tasks"],
                                train_per_class=values["train_per_class"])
              for side, split in (("tuning", "val"), ("evaluation", "test"))]
    path = Path(folder) / f"{values['name']}.toml"
    path.write_text(SUITE_TEMPLATE.format(**values) + "".join(tables))
    return path


# ---------------------------------------------------------------------- bare PyTorch loops

def load_baseline(name: str, attribute: str) -> type:
    """The class `attribute` ("Learner", "Algorithm") of the shipped method `submissions/name`."""
    path = REPO / "submissions" / name / "submission.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def bare_steps(model: nn.Module, optimizer: torch.optim.Optimizer,
               loss_of: Callable[[nn.Module, torch.Tensor], torch.Tensor], num_rows: int,
               batch_size: int, num_steps: int, generator: torch.Generator) -> None:
    """The training loop a researcher writes by hand, the baseline of the overhead benchmarks.

    `num_steps` steps over index batches of random permutations of `num_rows` rows, a new
    permutation when fewer than `batch_size` rows are left (as the harness's loops do; with
    `num_rows` a multiple of `batch_size` these are whole epochs); `loss_of(model, index)` is a
    step's loss on the rows `index`.
    """
    order = torch.empty(0, dtype=torch.long)
    for _ in range(num_steps):
        if len(order) < batch_size:
            order = torch.randperm(num_rows, generator=generator)
        index, order = order[:batch_size], order[batch_size:]
        optimizer.zero_grad(set_to_none=True)
        loss_of(model, index).backward()
        optimizer.step()


# ---------------------------------------------------------------------- synthetic stored runs

METRIC_NAMES = ("final_avg_acc", "avg_incremental_acc", "bwt", "fwt", "forgetting",
                "learning_acc", "train_time_s", "eval_time_s", "peak_rss_mb", "samples_seen",
                "train_flops", "state_bytes", "min_acc", "wc_acc")
HARDWARE = {"cpu_model": "Benchmark CPU", "gpu_model": "", "gpu_count": 0,
            "torch_version": "2.13.0"}


def synthetic_run(suite: str, scenario: str, submission: str, phase: Phase, seed: int,
                  trial: int, score: float, num_tasks: int = 5) -> RunResult:
    """A successful run shaped like one `harness evaluate` stores."""
    spec = RunSpec(suite=suite, suite_version="1", scenario=scenario, phase=phase,
                   submission=submission, submission_hash=f"{submission}-hash",
                   hparams={"lr": round(0.001 * (trial + 2), 6)}, seed=seed, trial=trial)
    key = f"{suite}/{scenario}/{submission}/{seed}/{trial}"
    rng = np.random.default_rng(zlib.crc32(key.encode()))  # str hash() varies by process
    matrix = np.clip(score + 0.05 * rng.standard_normal((num_tasks + 1, num_tasks)), 0, 1)
    metrics = {name: float(rng.random()) for name in METRIC_NAMES}
    metrics["final_avg_acc"] = float(matrix[-1].mean())
    num_evals = 5 * num_tasks
    curves = {
        "accuracy_matrix": matrix.round(6).tolist(),
        "train_flops_per_task": [1.0e9] * num_tasks,
        "state_bytes_per_task": [4096] * num_tasks,
        "continual_eval": {"task": [i // 5 for i in range(num_evals)],
                           "step": [8 * (i % 5) for i in range(num_evals)],
                           "acc": rng.random((num_evals, num_tasks)).round(6).tolist()},
    }
    return RunResult(spec=spec, status=RunStatus.OK, metrics=metrics, curves=curves,
                     wall_time_s=10.0, started_at="2025-03-01T12:00:00+00:00",
                     finished_at="2025-03-01T12:00:10+00:00", hardware=HARDWARE,
                     dataset_fingerprints={"textures/test": "f" * 64}, harness_version="0.1.0")
