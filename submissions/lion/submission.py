"""Lion with linear warmup and cosine decay (Chen et al. 2023, *Symbolic Discovery of
Optimization Algorithms*).

Lion keeps one momentum buffer and moves every coordinate by exactly the learning rate: the
update is the sign of an interpolation between the momentum and the gradient (beta1 = 0.9),
and the momentum itself is tracked with a slower beta2 = 0.99. Because the sign makes the
update's norm larger than Adam's, the paper advises a learning rate 3-10x smaller and a
decoupled weight decay 3-10x larger than AdamW's; the search space follows that advice.

Schedule, scaled by `workload.step_hint`: linear warmup from 0 at step 0 to `learning_rate` at
`warmup_steps = int(warmup_factor * step_hint)`, then a cosine to 0 at `step_hint`, held at 0.

Hyperparameters (`DEFAULTS` fills absent keys, unknown keys are refused): `learning_rate`
(peak), `beta1`, `beta2`, `weight_decay`, `warmup_factor`, `batch_size`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from harness.api import Batch, HParams, TrainingAlgorithm, WorkloadHandle

DEFAULTS: dict[str, float | int] = {
    "learning_rate": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 1.0,
    "warmup_factor": 0.05, "batch_size": 128,
}


class Lion(torch.optim.Optimizer):
    """Lion (the paper's Algorithm 2). Per parameter, with gradient g:

        c     <- beta1 * m + (1 - beta1) * g
        theta <- theta * (1 - lr * weight_decay) - lr * sign(c)
        m     <- beta2 * m + (1 - beta2) * g
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float,
                 betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0):
        if lr < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid Lion settings: lr={lr}, betas={betas}, "
                             f"weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2) = group["lr"], group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["exp_avg"] = torch.zeros_like(param)
                grad, m = param.grad, state["exp_avg"]
                param.mul_(1.0 - lr * group["weight_decay"])
                param.add_(torch.lerp(m, grad, 1.0 - beta1).sign_(), alpha=-lr)
                m.lerp_(grad, 1.0 - beta2)
        return loss


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
        self.optimizer = Lion(model.parameters(), lr=self.learning_rate(0),
                              betas=(float(s["beta1"]), float(s["beta2"])),
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
