"""Copy-me template of a continual-learning submission: plain fine-tuning with Adam.

The contract (harness/api.py) in brief:

- Define one class named `Learner` that subclasses `ContinualLearner`.
- `__init__(ctx, hparams)`: build the model with `ctx.make_backbone()` (every method gets the
  same network) and move it to `ctx.device`. `hparams` holds one setting drawn from
  search_space.json during tuning, or the selected setting during evaluation.
- `learn(task, data)`: called once per task, in order. Iterate `data` exactly once
  (`for x, y in data:`); it yields `data.num_epochs` epochs of batches, already on the device
  and labelled as the scenario says. A second pass fails the run.
- `predict(x, task=None)`: return logits of shape (len(x), ctx.num_outputs). In the
  task-incremental scenario the harness gives `task` and itself takes the argmax over that
  task's classes only, so nothing scenario-specific is needed here.
- Use `ctx.generator` for any randomness of your own, never the global RNG, so runs repeat.
- Import only `harness.api`, torch and numpy.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, MultiHead, TaskData, TaskInfo

# Used when `hparams` has no "lr" (e.g. a run outside the tuning protocol).
DEFAULT_LR = 1e-3
# The keys search_space.json may name; keep the two in step.
KNOWN_HPARAMS = {"lr"}


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)  # keeps `self.ctx` and `self.hparams`
        unknown = sorted(set(hparams) - KNOWN_HPARAMS)
        if unknown:  # a misspelt search-space key would otherwise "tune" nothing but noise
            raise ValueError(f"unknown hyperparameters {unknown}; known: {sorted(KNOWN_HPARAMS)}")
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(),
                                          lr=float(hparams.get("lr", DEFAULT_LR)))
        # Task-incremental scenarios use a head per task (each sample competes only among its
        # task's classes); in the other scenarios this is the identity.
        self.heads = MultiHead(ctx)

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.model.train()
        self.heads.add_task(task)
        for x, y in data:  # the one pass over this task's data
            self.optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(self.heads(self.model(x), y), y)
            loss.backward()
            self.optimizer.step()

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        # The harness calls this under torch.inference_mode(); eval mode fixes batch-norm
        # statistics so predictions do not depend on the evaluation batch.
        self.model.eval()
        return self.model(x)
