"""AdamW with a warmup-stable-decay (WSD) schedule.

Hägele et al. 2024, *Scaling Laws and Compute-Optimal Training Beyond Fixed Training
Durations*: a constant learning rate followed by a short cooldown matches cosine decay, and
the cooldown can start whenever training is to end. Scaled by `workload.step_hint`:

- warmup: linear from 0 at step 0 to `learning_rate` at `warmup_steps = int(warmup_factor *
  step_hint)`;
- stable: `learning_rate` until `cooldown_start = step_hint - int(cooldown_fraction *
  step_hint)` (the last 20 % by default);
- decay: the paper's **1-sqrt** cooldown, lr = learning_rate * (1 - sqrt(progress)) with
  progress from 0 to 1 over the cooldown (it beat a linear cooldown in the paper); 0 from
  `step_hint` on.

AdamW is `torch.optim.AdamW` (eps = 1e-8), as in submissions/adamw, so the two baselines differ
only in the schedule. Hyperparameters (`DEFAULTS` fills absent keys, unknown keys are
refused): `learning_rate` (peak), `one_minus_beta1`, `beta2`, `weight_decay`,
`warmup_factor`, `cooldown_fraction`, `batch_size`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from harness.api import Batch, HParams, TrainingAlgorithm, WorkloadHandle

DEFAULTS: dict[str, float | int] = {
    "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.1,
    "warmup_factor": 0.05, "cooldown_fraction": 0.2, "batch_size": 128,
}


class Algorithm(TrainingAlgorithm):
    def __init__(self, hparams: HParams):
        super().__init__(hparams)
        unknown = sorted(set(hparams) - set(DEFAULTS))
        if unknown:  # a misspelt search-space key would otherwise be silently ignored
            raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(DEFAULTS)}")
        self.settings = {**DEFAULTS, **hparams}

    def batch_size(self, workload: WorkloadHandle) -> int:
        return int(self.settings["batch_size"])

    def init(self, workload: WorkloadHandle, model: nn.Module) -> None:
        s = self.settings
        self.workload, self.model = workload, model
        self.peak_lr = float(s["learning_rate"])
        self.step_hint = workload.step_hint
        self.warmup_steps = int(float(s["warmup_factor"]) * workload.step_hint)
        cooldown_steps = int(float(s["cooldown_fraction"]) * workload.step_hint)
        # The cooldown never starts before warmup ends, however short the step hint.
        self.cooldown_start = max(workload.step_hint - cooldown_steps, self.warmup_steps)
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=self.learning_rate(0), eps=1e-8,
            betas=(1.0 - float(s["one_minus_beta1"]), float(s["beta2"])),
            weight_decay=float(s["weight_decay"]))

    def learning_rate(self, step_index: int) -> float:
        """The learning rate used by step `step_index` (0-based): warmup, stable, 1-sqrt."""
        if step_index < self.warmup_steps:
            return self.peak_lr * step_index / self.warmup_steps
        if step_index < self.cooldown_start:
            return self.peak_lr
        cooldown_steps = max(self.step_hint - self.cooldown_start, 1)
        progress = min((step_index - self.cooldown_start) / cooldown_steps, 1.0)
        return self.peak_lr * (1.0 - math.sqrt(progress))

    def step(self, batch: Batch, step_index: int) -> None:
        lr = self.learning_rate(step_index)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        self.workload.loss(self.model, batch).backward()
        self.optimizer.step()
