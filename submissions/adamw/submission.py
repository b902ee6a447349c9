"""AdamW with linear warmup and cosine decay (AlgoPerf's AdamW baseline).

Loshchilov & Hutter, *Decoupled Weight Decay Regularization*: Adam whose weight decay shrinks
the weights directly (theta <- theta * (1 - lr * weight_decay)) instead of entering the
gradient; `torch.optim.AdamW` with eps = 1e-8, as AlgoPerf's reference.

Schedule, scaled by `workload.step_hint`: the learning rate rises linearly from 0 at step 0 to
`learning_rate` at step `warmup_steps = int(warmup_factor * step_hint)`, then follows a cosine
to 0 at step `step_hint` and stays at 0 (the end value held, as optax's cosine decay does;
torch's `CosineAnnealingLR` would climb again).

Hyperparameters (AlgoPerf's names; `DEFAULTS` fills absent keys, unknown keys are refused):
`learning_rate` (peak), `one_minus_beta1`, `beta2`, `weight_decay`, `warmup_factor`, and
`batch_size` (the handle gives no workload-specific batch size, so it is a setting).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from harness.api import Batch, HParams, TrainingAlgorithm, WorkloadHandle

DEFAULTS: dict[str, float | int] = {
    "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.1,
    "warmup_factor": 0.05, "batch_size": 128,
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
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=self.learning_rate(0), eps=1e-8,
            betas=(1.0 - float(s["one_minus_beta1"]), float(s["beta2"])),
            weight_decay=float(s["weight_decay"]))

    def learning_rate(self, step_index: int) -> float:
        """The learning rate used by step `step_index` (0-based): warmup, then cosine."""
        if step_index < self.warmup_steps:
            return self.peak_lr * step_index / self.warmup_steps
        decay_steps = max(self.step_hint - self.warmup_steps, 1)
        progress = min((step_index - self.warmup_steps) / decay_steps, 1.0)
        return self.peak_lr * 0.5 * (1.0 + math.cos(math.pi * progress))

    def step(self, batch: Batch, step_index: int) -> None:
        lr = self.learning_rate(step_index)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        self.workload.loss(self.model, batch).backward()
        self.optimizer.step()
