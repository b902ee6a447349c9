"""Averaged Gradient Episodic Memory (A-GEM): Chaudhry, Ranzato, Rohrbach & Elhoseiny 2019,
*Efficient Lifelong Learning with A-GEM*, ICLR; the update as in van de Ven et al.'s reference
code (github.com/GMvandeVen/continual-learning, `--agem`) and mammoth's `agem.py`.

Each training step computes the gradient g of the loss on the current batch and the gradient
g_ref of the loss on a batch drawn at random from the episodic memory, then steps along

    g̃ = g − (gᵀ g_ref / g_refᵀ g_ref) · g_ref   if gᵀ g_ref < 0,   else g̃ = g

so that, to first order, the step never increases the average loss on the memory
(g̃ᵀ g_ref ≥ 0). The gradients are the flattened gradients of every trainable parameter.

Episodic memory (the paper's M_k per task): after each task, `replay_samples // num_tasks`
samples of that task are added, chosen uniformly at random (from `ctx.generator`) among its
training samples, so the memory never holds more than the replay allowance. They are taken
while the first epoch streams past, at positions drawn in advance, so nothing else is copied.

Choices where the paper is ambiguous:

- **Reference batch size:** the current batch's size (mammoth's `minibatch_size` default is the
  batch size); `replay_batch_size` overrides it.
- **Output units:** as in van de Ven's code. Task-incremental: each sample, current or from
  memory, is scored on its own task's classes only (`harness.api.MultiHead`: one head per task,
  as in the paper's multi-head experiments); class-incremental: every class seen so far, for
  both; domain-incremental: all outputs. In class-incremental, unseen classes get a large
  negative logit at prediction.
- **Optimizer: plain SGD**, as in the paper (van de Ven's code and mammoth allow Adam). The
  guarantee g̃ᵀg_ref ≥ 0 is about the step itself only when the step is along g̃; Adam's
  per-coordinate scaling (and momentum) turns g̃ into a different direction. On a tiny
  class-incremental problem (5 tasks × 2 Gaussian classes, MLP) A-GEM with Adam fell to the
  accuracy of its own no-memory variant, while with SGD it kept most of every task.

Hyperparameters: `lr` (SGD learning rate, default 0.03, the paper's MNIST value),
`replay_batch_size` (reference batch size; default: the current batch's size).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import (
    ContinualLearner,
    HParams,
    LearnerContext,
    MultiHead,
    Scenario,
    TaskData,
    TaskInfo,
)

DEFAULT_LR = 0.03
UNSEEN_LOGIT = -1e9  # large, finite: the harness rejects non-finite logits


def project(g: torch.Tensor, g_ref: torch.Tensor) -> torch.Tensor:
    """A-GEM's projection: g if gᵀg_ref ≥ 0, else g − (gᵀg_ref / g_refᵀg_ref) g_ref."""
    dot = torch.dot(g, g_ref)
    if dot >= 0:
        return g
    return g - (dot / torch.dot(g_ref, g_ref)) * g_ref


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.SGD(self.model.parameters(),
                                         lr=float(hparams.get("lr", DEFAULT_LR)))
        replay_batch_size = hparams.get("replay_batch_size")
        self.replay_batch_size = None if replay_batch_size is None else int(replay_batch_size)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.per_task = ctx.budget.replay_samples // max(ctx.num_tasks, 1)
        self.memory_x: torch.Tensor | None = None
        self.memory_y: torch.Tensor | None = None
        self.heads = MultiHead(ctx)  # task-incremental: each sample scored on its own task
        self.seen = torch.zeros(ctx.num_outputs, dtype=torch.bool, device=ctx.device)

    def scored(self, logits: torch.Tensor, y: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
        """Logits restricted to the output units each sample is scored on (module docstring)."""
        logits = self.heads(logits, y)
        if self.ctx.scenario is Scenario.CLASS:
            logits = logits.masked_fill(~active, UNSEEN_LOGIT)
        return logits

    def flat_grad(self, loss: torch.Tensor) -> torch.Tensor:
        grads = torch.autograd.grad(loss, self.params, allow_unused=True)
        return torch.cat([torch.zeros_like(p).flatten() if g is None else g.flatten()
                          for p, g in zip(self.params, grads, strict=True)])

    def memory_gradient(self, batch_size: int, active: torch.Tensor) -> torch.Tensor:
        """g_ref: the gradient of the loss on a random batch of the memory."""
        assert self.memory_x is not None and self.memory_y is not None
        order = torch.randperm(len(self.memory_x), generator=self.ctx.generator,
                               device=self.ctx.generator.device)[:batch_size]
        index = order.to(self.memory_x.device)
        x, y = self.memory_x[index], self.memory_y[index]
        return self.flat_grad(F.cross_entropy(self.scored(self.model(x), y, active), y))

    def step(self, x: torch.Tensor, y: torch.Tensor, active: torch.Tensor) -> None:
        g = self.flat_grad(F.cross_entropy(self.scored(self.model(x), y, active), y))
        if self.memory_x is not None:
            g = project(g, self.memory_gradient(self.replay_batch_size or len(x), active))
        offset = 0
        for p in self.params:
            p.grad = g[offset:offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        self.optimizer.step()

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.heads.add_task(task)
        if self.ctx.scenario is Scenario.DOMAIN:
            self.seen[:] = True
        else:
            self.seen[list(task.classes)] = True
        active = self.seen.clone()  # class-incremental: every class seen so far
        quota = min(self.per_task, data.num_samples)
        keep = torch.randperm(data.num_samples, generator=self.ctx.generator,
                              device=self.ctx.generator.device)[:quota]
        keep = keep.sort().values.to(self.ctx.device)  # positions in the first epoch's stream
        kept_x, kept_y, num_seen = [], [], 0
        self.model.train()
        for x, y in data:
            if num_seen < data.num_samples:
                chosen = keep[(keep >= num_seen) & (keep < num_seen + len(x))] - num_seen
                kept_x.append(x[chosen].detach().clone())
                kept_y.append(y[chosen].clone())
            num_seen += len(x)
            self.step(x, y, active)
        self.remember(kept_x, kept_y)

    def remember(self, xs: list[torch.Tensor], ys: list[torch.Tensor]) -> None:
        if not xs or sum(len(x) for x in xs) == 0:
            return
        x, y = torch.cat(xs), torch.cat(ys)
        if self.memory_x is None or self.memory_y is None:
            self.memory_x, self.memory_y = x, y
        else:
            self.memory_x = torch.cat([self.memory_x, x])
            self.memory_y = torch.cat([self.memory_y, y])

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        logits = self.model(x)
        if self.ctx.scenario is Scenario.CLASS and self.seen.any():
            logits = logits.masked_fill(~self.seen, UNSEEN_LOGIT)
        return logits

    def state_size_bytes(self) -> int:
        if self.memory_x is None or self.memory_y is None:
            return 0
        return sum(t.numel() * t.element_size() for t in (self.memory_x, self.memory_y))
