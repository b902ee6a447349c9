"""Independent learner (NEVIS'22's "independent" baseline): every task is learned from scratch.

A fresh copy of the suite's backbone and a fresh Adam optimizer per task; nothing carries over,
so its error on a task is what that task's own data gives. The knowledge-accumulation view
compares every other method with it.

Hyperparameters: `lr` (Adam learning rate; default 3e-3).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, MultiHead, TaskData, TaskInfo

DEFAULT_LR = 3e-3


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.heads = MultiHead(ctx)

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.model = self.ctx.make_backbone().to(self.ctx.device)  # from scratch, every task
        optimizer = torch.optim.Adam(self.model.parameters(),
                                     lr=float(self.hparams.get("lr", DEFAULT_LR)))
        self.heads.add_task(task)
        self.model.train()
        for x, y in data:
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(self.heads(self.model(x), y), y).backward()
            optimizer.step()

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        return self.model(x)
