"""Synaptic Intelligence (SI): Zenke, Poole & Ganguli 2017, *Continual Learning Through Synaptic
Intelligence*, ICML; following the authors' code (github.com/ganguli-lab/pathint) and van de
Ven et al.'s reference implementation (github.com/GMvandeVen/continual-learning).

During task t every parameter accumulates its contribution to the decrease of the loss along
the optimization path (a path integral, summed over the optimizer's steps s):

    w_i += −g_i(s) · Δθ_i(s)        g: gradient of the *unregularized* task loss before step s,
                                    Δθ(s) = θ(s+1) − θ(s): the update the optimizer made

At the end of task t, with Δ_i = θ_i(end of t) − θ_i(end of t−1) (the start values for t = 0):

    Ω_i ← max(0, Ω_i + w_i / (Δ_i² + ξ)),    w ← 0,    θ̃ ← θ(end of t)

and while learning later tasks the surrogate loss is added:

    L(θ) = CE(θ) + c · Σ_i Ω_i (θ_i − θ̃_i)²

Choices where the paper is ambiguous:

- **Gradient in the path integral.** The unregularized loss's gradient, as in the authors' code
  (`unreg_grads`); van de Ven's code uses the total loss's gradient. The surrogate's gradient,
  2c Ω (θ − θ̃), is added analytically after the task-loss backward pass, so one backward pass
  gives both.
- **Clipping Ω at zero.** As in the authors' code (`tf.nn.relu` of the running sum); the paper's
  equation has no clip.
- **Damping ξ.** 0.1 by default (the authors' permuted-MNIST setting and van de Ven's default);
  not tuned, as in both references.
- **Output units.** As in van de Ven's code: task-incremental trains on the current task's
  classes only (multi-headed); class-incremental on every class seen so far; domain-incremental
  on all outputs. In class-incremental, classes not yet seen get a large negative logit at
  prediction.
- **Optimizer.** One Adam optimizer kept across tasks (both references use Adam, lr 1e-3).

Hyperparameters: `lr` (Adam learning rate, default 1e-3), `c` (surrogate strength, default 1.0;
the search space, 1e-2 … 1e6, spans the values the references selected: 0.1 and 1 in Zenke et
al., 5 … 50000 in van de Ven et al.), `xi` (damping ξ, default 0.1).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, Scenario, TaskData, TaskInfo

DEFAULT_LR = 1e-3
DEFAULT_C = 1.0
DEFAULT_XI = 0.1
UNSEEN_LOGIT = -1e9  # large, finite: the harness rejects non-finite logits


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(),
                                          lr=float(hparams.get("lr", DEFAULT_LR)))
        self.c = float(hparams.get("c", DEFAULT_C))
        self.xi = float(hparams.get("xi", DEFAULT_XI))
        self.params = {n: p for n, p in self.model.named_parameters() if p.requires_grad}
        # θ̃: values at the end of the previous task (the start values before the first task).
        self.anchor = {n: p.detach().clone() for n, p in self.params.items()}
        self.omega = {n: torch.zeros_like(p) for n, p in self.params.items()}
        self.path = {n: torch.zeros_like(p) for n, p in self.params.items()}  # w, this task
        self.seen = torch.zeros(ctx.num_outputs, dtype=torch.bool, device=ctx.device)

    def active_mask(self, task: TaskInfo) -> torch.Tensor:
        """Output units trained on this task (see the module docstring)."""
        if self.ctx.scenario is Scenario.DOMAIN:
            return torch.ones_like(self.seen)
        mask = torch.zeros_like(self.seen)
        mask[list(task.classes)] = True
        return mask | self.seen if self.ctx.scenario is Scenario.CLASS else mask

    def surrogate_loss(self) -> torch.Tensor:
        """Σ_i Ω_i (θ_i − θ̃_i)² (without the factor c)."""
        return sum(((self.omega[n] * (p - self.anchor[n]) ** 2).sum()
                    for n, p in self.params.items()), torch.zeros((), device=self.ctx.device))

    def step(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> None:
        """One optimizer step on the regularized loss; accumulates −g·Δθ into `path`."""
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(x).masked_fill(~mask, UNSEEN_LOGIT)
        F.cross_entropy(logits, y).backward()
        unregularized = {}
        before = {}
        for n, p in self.params.items():
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            unregularized[n] = p.grad.detach().clone()
            before[n] = p.detach().clone()
            # d/dθ of c Σ Ω (θ − θ̃)², added to the task loss's gradient.
            p.grad.add_(2 * self.c * self.omega[n] * (p.detach() - self.anchor[n]))
        self.optimizer.step()
        for n, p in self.params.items():
            self.path[n].add_(-unregularized[n] * (p.detach() - before[n]))

    def consolidate(self) -> None:
        """End of task: Ω ← max(0, Ω + w / (Δ² + ξ)); w ← 0; θ̃ ← θ."""
        for n, p in self.params.items():
            change = p.detach() - self.anchor[n]
            self.omega[n] = (self.omega[n] + self.path[n] / (change ** 2 + self.xi)).clamp_min(0)
            self.anchor[n] = p.detach().clone()
            self.path[n].zero_()

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        mask = self.active_mask(task)
        # seen from the start of the task: mid-task predictions (continual evaluation) may
        # pick the classes being learned
        if self.ctx.scenario is Scenario.DOMAIN:
            self.seen[:] = True
        else:
            self.seen[list(task.classes)] = True
        self.model.train()
        for x, y in data:
            self.step(x, y, mask)
        self.consolidate()

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        logits = self.model(x)
        if self.ctx.scenario is Scenario.CLASS and self.seen.any():
            logits = logits.masked_fill(~self.seen, UNSEEN_LOGIT)
        return logits

    def state_size_bytes(self) -> int:
        return sum(t.numel() * t.element_size()
                   for tensors in (self.anchor, self.omega, self.path)
                   for t in tensors.values())
