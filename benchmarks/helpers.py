"""What several benchmarks share: suite files written on the fly and synthetic stored runs.

Suites here use the procedural datasets (shapes, textures), so every benchmark runs on
a machine with no dataset at hand. Synthetic runs have the shape of what `harness evaluate`
stores (the same metric names, an accuracy matrix, a continual-evaluation trace) without
training anything, to fill a store quickly.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec

SUITE_TEMPLATE = """
name = "{name}"
description = "benchmark suite {name}"
api = "continual"
scenarios = ["class"]
backbone = "{backbone}"
backbone_options = {{ width = {width} }}

[budget]
epochs_per_task = {epochs}
batch_size = {batch_size}
replay_samples = 8
time_limit_s = 600

[continual_eval]
every_steps = {every_steps}
samples_per_task = {ce_samples}

[protocol]
num_trials = {trials}
num_seeds = {seeds}
eval_batch_size = {eval_batch_size}

[tuning]
dataset = "{tuning_dataset}"
classes = {tuning_classes}
num_tasks = {num_tasks}
eval_split = "val"
max_train_per_class = {train_per_class}

[evaluation]
dataset = "{evaluation_dataset}"
classes = {evaluation_classes}
num_tasks = {num_tasks}
eval_split = "test"
max_train_per_class = {train_per_class}
"""

SUITE_DEFAULTS: dict[str, Any] = {
    "name": "bench", "backbone": "small_cnn", "width": 4, "epochs": 1, "batch_size": 16,
    "every_steps": 0, "ce_samples": 4, "trials": 1, "seeds": 2, "eval_batch_size": 512,
    "tuning_dataset": "shapes", "tuning_classes": [0, 1, 2, 3], "num_tasks": 2,
    "evaluation_dataset": "textures", "evaluation_classes": [0, 1, 2, 3],
    "train_per_class": 24,
}


def write_suite(folder: Path, **options: Any) -> Path:
    """A suite TOML in `folder` from `SUITE_DEFAULTS` with `options` replaced; returns its path."""
    unknown = set(options) - set(SUITE_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown suite options: {sorted(unknown)}")
    values = {**SUITE_DEFAULTS, **options}
    path = Path(folder) / f"{values['name']}.toml"
    path.write_text(SUITE_TEMPLATE.format(**values))
    return path


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
