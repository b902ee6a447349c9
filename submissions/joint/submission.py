"""Joint training: the usual upper bound of continual learning (flagged `continual = false`).

The learner keeps every training sample of every task seen so far, ignoring the replay budget,
and at each task trains `data.num_epochs` epochs over the union of all of them, in batches of
`data.batch_size` drawn from its own permutations (from `ctx.generator`). After the last task
the model has been trained on all the data at once, as a non-continual learner would be.

The harness's iterator is still consumed exactly once: the current task's samples are collected
from its first epoch (the first `data.num_samples` samples it yields, which cover the task once)
and the remaining epochs are drawn but not trained on, since training happens on the union
afterwards. One Adam optimizer persists across tasks (training continues from the previous
task's model, so late tasks converge as joint training would from a warm start).

Hyperparameters: `lr` (Adam learning rate; default 1e-3, Adam's usual default).
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
        self.memory_x: torch.Tensor | None = None
        self.memory_y: torch.Tensor | None = None
        self.heads = MultiHead(ctx)  # task-incremental: a head per task; identity otherwise

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.heads.add_task(task)
        task_x, task_y = self._collect_first_epoch(data)
        if task_x is not None and task_y is not None:
            self._remember(task_x, task_y)
        if self.memory_x is not None and self.memory_y is not None:
            self._train(self.memory_x, self.memory_y, data.num_epochs, data.batch_size)

    def _collect_first_epoch(self, data: TaskData
                             ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        xs, ys = [], []
        num_collected = 0
        for x, y in data:  # the one pass over the harness's iterator
            take = min(len(x), data.num_samples - num_collected)
            if take > 0:
                xs.append(x[:take].detach())
                ys.append(y[:take].detach())
                num_collected += take
        if not xs:
            return None, None
        return torch.cat(xs), torch.cat(ys)

    def _remember(self, x: torch.Tensor, y: torch.Tensor) -> None:
        if self.memory_x is None or self.memory_y is None:
            self.memory_x, self.memory_y = x, y
        else:
            self.memory_x = torch.cat([self.memory_x, x])
            self.memory_y = torch.cat([self.memory_y, y])

    def _train(self, x: torch.Tensor, y: torch.Tensor, num_epochs: int, batch_size: int) -> None:
        self.model.train()
        device = self.ctx.generator.device
        for _ in range(num_epochs):
            order = torch.randperm(len(x), generator=self.ctx.generator, device=device)
            order = order.to(x.device)
            for start in range(0, len(x), batch_size):
                index = order[start:start + batch_size]
                self.optimizer.zero_grad(set_to_none=True)
                logits = self.heads(self.model(x[index]), y[index])
                F.cross_entropy(logits, y[index]).backward()
                self.optimizer.step()

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        return self.model(x)

    def state_size_bytes(self) -> int:
        if self.memory_x is None or self.memory_y is None:
            return 0
        return sum(t.numel() * t.element_size() for t in (self.memory_x, self.memory_y))
