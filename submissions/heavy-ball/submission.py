"""SGD with heavy-ball momentum, linear warmup, then linear decay (AlgoPerf's momentum baseline).

Polyak's heavy-ball method in torch's form: v <- beta1 * v + g; theta <- theta - lr * v (the
gradient at the current point, unlike Nesterov's look-ahead; see submissions/sgd-nesterov).
The schedule and search space are those of the Nesterov baseline, so the two differ only in
the momentum: the learning rate rises linearly from 0 at step 0 to `learning_rate` at step
`warmup_steps = int(warmup_factor * step_hint)`, then falls linearly to
`end_factor * learning_rate` over `decay_steps_factor` of the remaining steps, and stays there.

Hyperparameters (AlgoPerf's names; `DEFAULTS` fills absent keys, unknown keys are refused):
    learning_rate       peak learning rate
    one_minus_beta1     1 - momentum (log-scaled in the search space: momentum near 1 matters)
    weight_decay        L2 penalty added to the gradient (torch's SGD `weight_decay`), as in
                        AlgoPerf's reference
    warmup_factor, decay_steps_factor, end_factor   the schedule above
    batch_size          the handle gives no workload-specific batch size, so it is a setting
AlgoPerf's `label_smoothing` and `dropout_rate` are not hyperparameters here: the workload owns
its loss and model.
"""

from __future__ import annotations

import torch
from torch import nn

from harness.api import Batch, HParams, TrainingAlgorithm, WorkloadHandle

DEFAULTS: dict[str, float | int] = {
    "learning_rate": 0.1, "one_minus_beta1": 0.1, "weight_decay": 1e-6, "warmup_factor": 0.05,
    "decay_steps_factor": 0.9, "end_factor": 1e-2, "batch_size": 128,
}
NESTEROV = False  # heavy-ball: the only difference from sgd-nesterov


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
        self.warmup_steps = int(float(s["warmup_factor"]) * workload.step_hint)
        self.decay_steps = int((workload.step_hint - self.warmup_steps)
                               * float(s["decay_steps_factor"]))
        self.optimizer = torch.optim.SGD(
            model.parameters(), lr=self.learning_rate(0),
            momentum=1.0 - float(s["one_minus_beta1"]), weight_decay=float(s["weight_decay"]),
            nesterov=NESTEROV)

    def learning_rate(self, step_index: int) -> float:
        """The learning rate used by step `step_index` (0-based)."""
        if step_index < self.warmup_steps:
            return self.peak_lr * step_index / self.warmup_steps
        progress = min((step_index - self.warmup_steps) / max(self.decay_steps, 1), 1.0)
        return self.peak_lr * (1.0 - (1.0 - float(self.settings["end_factor"])) * progress)

    def step(self, batch: Batch, step_index: int) -> None:
        lr = self.learning_rate(step_index)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        self.workload.loss(self.model, batch).backward()
        self.optimizer.step()
