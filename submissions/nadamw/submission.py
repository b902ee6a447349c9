"""NAdamW with linear warmup and cosine decay: AlgoPerf's baseline (Dahl et al. 2023).

NAdamW is Adam with Nesterov momentum (Dozat 2016, in the form of Table 1 of Choi et al.
2019, *On Empirical Comparisons of Optimizers for Deep Learning*) and decoupled weight decay
(Loshchilov & Hutter). It is written out below as AlgoPerf's reference does, because
`torch.optim.NAdam(decoupled_weight_decay=True)` is a different algorithm: it multiplies the
momentum by Dozat's warming schedule mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
and bias-corrects with the product of the mu_t, so it does not reproduce the baseline.

Schedule, scaled by `workload.step_hint`: linear warmup from 0 at step 0 to `learning_rate` at
`warmup_steps = int(warmup_factor * step_hint)`, then a cosine to 0 at `step_hint`, held at 0
afterwards (as optax's cosine decay; torch's `CosineAnnealingLR` would climb again).

Hyperparameters (AlgoPerf's names; `DEFAULTS` fills absent keys, unknown keys are refused):
`learning_rate` (peak), `one_minus_beta1`, `beta2`, `weight_decay`, `warmup_factor`,
`batch_size` (the handle gives no workload-specific batch size, so it is a setting).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from harness.api import Batch, HParams, TrainingAlgorithm, WorkloadHandle

DEFAULTS: dict[str, float | int] = {
    "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.1,
    "warmup_factor": 0.05, "batch_size": 128,
}


class NAdamW(torch.optim.Optimizer):
    """NAdamW. Per parameter, at step t = 1, 2, ... with gradient g:

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        theta <- theta * (1 - lr * weight_decay)
                 - lr / (1 - beta1**t) * (beta1 * m + (1 - beta1) * g)
                   / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    The numerator is the Nesterov look-ahead of the momentum (AdamW would use m itself).
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid NAdamW settings: lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = group["lr"], group["eps"], group["betas"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if not state:  # a Python step count: no device sync for the bias corrections
                    state.update(step=0, exp_avg=torch.zeros_like(param),
                                 exp_avg_sq=torch.zeros_like(param))
                state["step"] += 1
                grad, m, v = param.grad, state["exp_avg"], state["exp_avg_sq"]
                param.mul_(1.0 - lr * group["weight_decay"])
                m.lerp_(grad, 1.0 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                look_ahead = torch.lerp(m, grad, 1.0 - beta1)  # beta1 * m + (1 - beta1) * g
                denom = (v.sqrt() / math.sqrt(1.0 - beta2 ** state["step"])).add_(eps)
                param.addcdiv_(look_ahead, denom, value=-lr / (1.0 - beta1 ** state["step"]))
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
        self.optimizer = NAdamW(
            model.parameters(), lr=self.learning_rate(0),
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
