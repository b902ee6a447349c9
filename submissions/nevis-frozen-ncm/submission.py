"""Frozen features + nearest class mean (NEVIS'22's "frozen pretrained features" baseline, with
the features learned on the stream's own first tasks instead of an external dataset).

The first `pretrain_tasks` tasks are learned by fine-tuning the backbone with Adam (their
predictions use the trained head). From then on the backbone is frozen: a task is learned by
one forward pass over its training data, averaging the L2-normalized features of each class;
prediction is the cosine similarity to the task's class means. Very cheap in compute; as good
as the first tasks' features are general.

Hyperparameters: `lr` (Adam learning rate while pretraining; default 3e-3), `pretrain_tasks`
(how many first tasks train the features; default 1).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, MultiHead, TaskData, TaskInfo

DEFAULT_LR = 3e-3
TEMPERATURE = 10.0  # scales cosine similarities into logits (argmax is unaffected)


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.heads = MultiHead(ctx)
        self.pretrain_tasks = int(hparams.get("pretrain_tasks", 1))
        self.means = torch.zeros(ctx.num_outputs, self.model.feature_dim, device=ctx.device)
        self.ncm_tasks: set[int] = set()

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.heads.add_task(task)
        if task.index < self.pretrain_tasks:
            self._pretrain(data)
        else:
            self._class_means(task, data)

    def _pretrain(self, data: TaskData) -> None:
        optimizer = torch.optim.Adam(self.model.parameters(),
                                     lr=float(self.hparams.get("lr", DEFAULT_LR)))
        self.model.train()
        for x, y in data:
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(self.heads(self.model(x), y), y).backward()
            optimizer.step()

    def _class_means(self, task: TaskInfo, data: TaskData) -> None:
        self.model.eval()
        sums = torch.zeros_like(self.means)
        counts = torch.zeros(self.ctx.num_outputs, device=self.ctx.device)
        steps_per_epoch = -(-data.num_samples // data.batch_size)
        with torch.no_grad():
            for step, (x, y) in enumerate(data):
                if step == steps_per_epoch:  # one epoch covers every sample once: enough
                    break
                features = F.normalize(self.model.features(x), dim=1)
                sums.index_add_(0, y, features)
                counts.index_add_(0, y, torch.ones_like(y, dtype=counts.dtype))
        seen = counts > 0
        self.means[seen] = F.normalize(sums[seen] / counts[seen, None], dim=1)
        self.ncm_tasks.add(task.index)

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        if task is None or task not in self.ncm_tasks:
            return self.model(x)
        return TEMPERATURE * F.normalize(self.model.features(x), dim=1) @ self.means.T
