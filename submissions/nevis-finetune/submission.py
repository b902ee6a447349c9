"""Fine-tuning (NEVIS'22's "fine-tune from previous" baseline): one network for the whole stream.

Each task starts from the weights the previous task left; its classes have their own rows of
the output layer (multi-headed: samples compete only among their task's classes), and a fresh
Adam optimizer per task, so only the representation carries over. The learning rate is tuned
once, on the dev stream, and fixed.

Hyperparameters: `lr` (Adam learning rate; default 1e-3).
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
        self.heads = MultiHead(ctx)

    def learn(self, task: TaskInfo, data: TaskData) -> None:
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
