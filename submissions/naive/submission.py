"""Naive fine-tuning: train on each task in turn with Adam, nothing against forgetting.

The lower bound every continual method should beat (the "None" baseline of van de Ven et al.,
*Three scenarios for continual learning*). One Adam optimizer lives across all tasks: its
moment estimates carry over from task to task, as they would for a model that simply keeps
training on a changing stream.

Hyperparameters: `lr` (Adam learning rate; default 1e-3, Adam's usual default, when absent).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, MultiHead, TaskData, TaskInfo

DEFAULT_LR = 1e-3


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(),
                                          lr=float(hparams.get("lr", DEFAULT_LR)))
        self.heads = MultiHead(ctx)  # task-incremental: a head per task; identity otherwise

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.model.train()
        self.heads.add_task(task)
        for x, y in data:
            self.optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(self.heads(self.model(x), y), y).backward()
            self.optimizer.step()

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        return self.model(x)
