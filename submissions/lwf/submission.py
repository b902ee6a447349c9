"""Learning without Forgetting (LwF): Li & Hoiem 2017, *Learning without Forgetting*, IEEE
TPAMI 40(12); in the form of van de Ven et al.'s reference code
(github.com/GMvandeVen/continual-learning, `--lwf`: replay of the current inputs with
distillation targets from the previous model).

After each task the learner keeps a frozen copy of its model. While learning task t, every
batch x of the current task is also passed through that copy, and the loss is

    L = CE(f(x), y) + λ_o · Σ_g KD_T( f(x)[g], f_old(x)[g] )
    KD_T(s, z) = − mean_batch Σ_c softmax(z / T)_c · log softmax(s / T)_c

with temperature T = 2 (the paper's value) and λ_o = 1 (the paper's default), where g runs over
the groups of old output units: in task-incremental, one group per earlier task (its classes:
the paper's one head per old task); in class-incremental, one group holding every class seen
before task t (the old model's output layer); in domain-incremental, one group of all outputs.
The targets come from the frozen old model in eval mode, which equals the paper's recording of
the old network's responses on the new data before training.

Choices where the paper is ambiguous:

- **No T² factor** on the distillation term (the paper's L_old and the reference's default).
- **No warm-up** of the new head alone, and no weight decay: the paper's warm-up step is a
  detail of fine-tuning a pretrained network; van de Ven's reference trains everything jointly.
- **Output units for the new task:** task-incremental uses the current task's classes only;
  class-incremental every class seen so far (van de Ven's "active classes"); domain-
  incremental all outputs. In class-incremental, unseen classes get a large negative logit at
  prediction.
- **Optimizer.** One Adam optimizer kept across tasks (the reference's Split-MNIST setting).

Hyperparameters: `lr` (Adam learning rate, default 1e-3; the only one searched), `temperature`
(T, default 2), `distill_weight` (λ_o, default 1).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, Scenario, TaskData, TaskInfo

DEFAULT_LR = 1e-3
DEFAULT_TEMPERATURE = 2.0
DEFAULT_DISTILL_WEIGHT = 1.0
UNSEEN_LOGIT = -1e9  # large, finite: the harness rejects non-finite logits


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """−mean_batch Σ_c softmax(teacher/T)_c · log softmax(student/T)_c (Li & Hoiem's L_old)."""
    targets = F.softmax(teacher / temperature, dim=1)
    return -(targets * F.log_softmax(student / temperature, dim=1)).sum(dim=1).mean()


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(),
                                          lr=float(hparams.get("lr", DEFAULT_LR)))
        self.temperature = float(hparams.get("temperature", DEFAULT_TEMPERATURE))
        self.distill_weight = float(hparams.get("distill_weight", DEFAULT_DISTILL_WEIGHT))
        self.old_model: nn.Module | None = None
        self.old_groups: list[torch.Tensor] = []  # output-unit index groups to distill
        self.task_classes: list[tuple[int, ...]] = []
        self.seen = torch.zeros(ctx.num_outputs, dtype=torch.bool, device=ctx.device)

    def active_mask(self, task: TaskInfo) -> torch.Tensor:
        """Output units trained on this task (see the module docstring)."""
        if self.ctx.scenario is Scenario.DOMAIN:
            return torch.ones_like(self.seen)
        mask = torch.zeros_like(self.seen)
        mask[list(task.classes)] = True
        return mask | self.seen if self.ctx.scenario is Scenario.CLASS else mask

    def distillation_groups(self) -> list[torch.Tensor]:
        """The groups of old output units (see the module docstring); empty before task 1."""
        if not self.task_classes:
            return []
        device = self.ctx.device
        if self.ctx.scenario is Scenario.TASK:
            return [torch.tensor(classes, device=device) for classes in self.task_classes]
        if self.ctx.scenario is Scenario.CLASS:
            return [self.seen.nonzero().flatten()]
        return [torch.arange(self.ctx.num_outputs, device=device)]

    def loss(self, x: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        loss = F.cross_entropy(logits.masked_fill(~mask, UNSEEN_LOGIT), y)
        if self.old_model is not None and self.old_groups:
            with torch.no_grad():
                old_logits = self.old_model(x)
            for group in self.old_groups:
                loss = loss + self.distill_weight * distillation_loss(
                    logits[:, group], old_logits[:, group], self.temperature)
        return loss

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        mask = self.active_mask(task)
        self.old_groups = self.distillation_groups()  # before this task's classes are seen
        # seen from the start of the task: mid-task predictions (continual evaluation) may
        # pick the classes being learned
        if self.ctx.scenario is Scenario.DOMAIN:
            self.seen[:] = True
        else:
            self.seen[list(task.classes)] = True
        self.model.train()
        for x, y in data:
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(x, y, mask).backward()
            self.optimizer.step()
        self.task_classes.append(tuple(task.classes))
        self.old_model = copy.deepcopy(self.model).eval()
        self.old_model.requires_grad_(False)

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        logits = self.model(x)
        if self.ctx.scenario is Scenario.CLASS and self.seen.any():
            logits = logits.masked_fill(~self.seen, UNSEEN_LOGIT)
        return logits

    def state_size_bytes(self) -> int:
        if self.old_model is None:
            return 0
        return sum(t.numel() * t.element_size()
                   for t in (*self.old_model.parameters(), *self.old_model.buffers()))
