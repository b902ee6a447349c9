"""Copy-me template of a training-algorithm submission: plain SGD at a constant learning rate.

The contract (harness/api.py, AlgoPerf semantics) in brief:

- Define one class named `Algorithm` that subclasses `TrainingAlgorithm`. `__init__(hparams)`
  receives one setting drawn from search_space.json (AlgoPerf's format) during tuning.
- `batch_size(workload)` and `init(workload, model)` are called once, untimed: pick the batch
  size and build optimizer state for `model`, which already lives on `workload.device`.
- Then the harness repeats, timed: `batch = select_batch(batch, step_index)` (optional data
  selection; the default keeps the offered batch) and `step(batch, step_index)`, one update of
  `model` in place using `workload.loss(model, batch)`. `step_index` counts from 0.
- Before every evaluation it calls `prepare_for_eval()` (timed; optional), e.g. to swap in
  averaged weights; the evaluation itself is untimed and done by the harness on `model`.
- The workload is an opaque `WorkloadHandle`: its loss, parameter shapes, `step_hint` (steps a
  well-tuned baseline needs; scale schedules with it), `max_runtime_s`, `device` and a seeded
  `generator`. It has no name on purpose: per-workload special-casing is not allowed. Read
  nothing but the handle (no files, no environment).
- Use `workload.generator` for any randomness of your own, never the global RNG.
- Import only `harness.api`, torch and numpy.
"""

from __future__ import annotations

import torch
from torch import nn

from harness.api import Batch, HParams, TrainingAlgorithm, WorkloadHandle

# Used for keys `hparams` lacks (e.g. a run outside the tuning protocol). The handle gives no
# workload-specific batch size, so it is a setting like any other.
DEFAULTS: dict[str, float | int] = {"learning_rate": 0.1, "batch_size": 128}


class Algorithm(TrainingAlgorithm):
    def __init__(self, hparams: HParams):
        super().__init__(hparams)  # keeps `self.hparams`
        unknown = sorted(set(hparams) - set(DEFAULTS))
        if unknown:  # a misspelt search-space key would otherwise be silently ignored
            raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(DEFAULTS)}")
        self.settings = {**DEFAULTS, **hparams}

    def batch_size(self, workload: WorkloadHandle) -> int:
        return int(self.settings["batch_size"])

    def init(self, workload: WorkloadHandle, model: nn.Module) -> None:
        self.workload = workload  # kept for its loss
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(),
                                         lr=float(self.settings["learning_rate"]))

    def step(self, batch: Batch, step_index: int) -> None:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        self.workload.loss(self.model, batch).backward()
        self.optimizer.step()
