"""Fine-tuning with in-task search (NEVIS'22's strongest simple baseline, scaled down).

On every task, three trials through the harness's search helper (`data.search`, train split →
dev split, every FLOP counted): fine-tune the previous network at `lr / 3` and at `lr`, or
train a fresh network at `lr`. The trial with the lowest dev error becomes the network for this
task and the start of the next, so the learner itself decides, task by task, whether what it
knows helps. Without the helper (a non-stream suite) it falls back to plain fine-tuning.

Hyperparameters: `lr` (Adam learning rate at the centre of the in-task grid; default 1e-3).
"""

from __future__ import annotations

import copy

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, MultiHead, TaskData, TaskInfo

DEFAULT_LR = 1e-3


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.heads = MultiHead(ctx)
        self.chosen: list[int] = []  # the winning candidate of every task (for inspection)

    def _train(self, model: torch.nn.Module, lr: float, data: TaskData) -> torch.nn.Module:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        for x, y in data:
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(self.heads(model(x), y), y).backward()
            optimizer.step()
        model.eval()
        return model

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.heads.add_task(task)
        lr = float(self.hparams.get("lr", DEFAULT_LR))
        search = getattr(data, "search", None)
        if search is None:
            self.model = self._train(self.model, lr, data)
            return
        candidates = [{"lr": lr / 3, "init": "previous"}, {"lr": lr, "init": "previous"},
                      {"lr": lr, "init": "scratch"}][:search.max_trials]
        trained: list[torch.nn.Module] = []

        def trial(hparams: HParams, trial_data: TaskData):
            start = self.model if hparams["init"] == "previous" else self.ctx.make_backbone()
            model = self._train(copy.deepcopy(start).to(self.ctx.device), float(hparams["lr"]),
                                trial_data)
            trained.append(model)
            return model

        result = search.run(candidates, trial)
        self.model = trained[result.best_index]
        self.chosen.append(result.best_index)

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        return self.model(x)
