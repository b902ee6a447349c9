"""iCaRL: Rebuffi, Kolesnikov, Sperl & Lampert 2017, *iCaRL: Incremental Classifier and
Representation Learning*, CVPR; checked against mammoth's `icarl.py` and van de Ven et al.'s
reference code (github.com/GMvandeVen/continual-learning, `--icarl`).

Three parts, as in the paper:

1. **Representation learning** (Alg. 3) on the current task's data together with the exemplars.
   With φ the backbone's features and g_y(x) = sigmoid(head(φ(x)))_y, the loss is the binary
   cross-entropy summed over the classes seen so far and averaged over the batch, with targets
   δ_{y = label} for the current task's classes and q_y = g_y^{old}(x) (the previous model's
   sigmoid outputs: distillation) for the classes of earlier tasks, on every training input,
   exemplars included.
2. **Exemplar management** (Alg. 4, 5). The memory holds K = `ctx.budget.replay_samples`
   samples, m = ⌊K / number of classes seen⌋ per class. After each task the old exemplar sets
   are cut to their first m (herding order makes every prefix a good set), and for each new
   class m exemplars are picked by herding on L2-normalized features:
   p_k = argmin_x ‖ μ − (φ(x) + Σ_{j<k} φ(p_j)) / k ‖, μ the class mean, no repeats.
3. **Classification by nearest mean of exemplars** (Alg. 1): μ_y is the mean of the normalized
   features of class y's exemplars, renormalized; `predict` returns −‖φ(x) − μ_y‖² as logits
   (φ(x) normalized), and a large negative finite value for classes without exemplars.

Choices where the paper is ambiguous or where the harness differs:

- **Batches.** The paper shuffles new data and exemplars together; here each batch of the
  harness's stream is joined by exemplars in proportion M / N (M exemplars, N task samples),
  drawn from a running permutation, so every exemplar is visited once per epoch, as in the paper.
- **Herding candidates.** Herding needs every sample of a new class under the final model, but
  the harness's data may be iterated once: the last epoch's samples are copied while training
  and dropped after herding (held only inside `learn`, never across tasks).
- **No flipped images** in the class means (the paper's code adds horizontal flips; augmentation
  is not part of this harness).
- **Optimizer.** Adam (lr 1e-3, as van de Ven's Split-MNIST setting) instead of the paper's
  SGD with lr 2.0 and step decay, kept across tasks like the harness's baselines.
- **Task-incremental:** trained exactly as class-incremental (as mammoth does); the harness
  restricts each prediction to its task's classes.
- **Domain-incremental.** iCaRL is a class-incremental method; here exemplar sets are keyed by
  (task, label), so earlier domains keep their share of the memory, means pool every task's
  exemplars of a label, and there is no distillation since each task has every label.
- **No memory** (K smaller than the number of classes): no exemplars, so `predict` falls back to
  the network's outputs.

Hyperparameters: `lr` (Adam learning rate, default 1e-3).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, Scenario, TaskData, TaskInfo

DEFAULT_LR = 1e-3
UNSEEN_LOGIT = -1e9  # large, finite: the harness rejects non-finite logits
EMBED_BATCH = 256


def herding(features: torch.Tensor, count: int) -> torch.Tensor:
    """Indices of `count` rows of `features` (n, d), in iCaRL's herding order.

    Step k picks the unpicked row whose addition brings the mean of the k picked rows closest
    to the mean of all rows.
    """
    mean = features.mean(dim=0)
    available = torch.ones(len(features), dtype=torch.bool, device=features.device)
    running = torch.zeros_like(mean)
    chosen = []
    for k in range(1, min(count, len(features)) + 1):
        cost = (mean - (running + features) / k).norm(dim=1)
        cost = cost.masked_fill(~available, float("inf"))
        index = cost.argmin()
        chosen.append(index)
        running = running + features[index]
        available[index] = False
    if not chosen:
        return torch.zeros(0, dtype=torch.long, device=features.device)
    return torch.stack(chosen)


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(),
                                          lr=float(hparams.get("lr", DEFAULT_LR)))
        self.old_model: nn.Module | None = None
        # (task index, label) -> that group's exemplars, in herding order.
        self.exemplars: dict[tuple[int, int], torch.Tensor] = {}
        self.class_means: torch.Tensor | None = None  # (num_outputs, feature_dim)
        self.has_mean = torch.zeros(ctx.num_outputs, dtype=torch.bool, device=ctx.device)
        self.seen = torch.zeros(ctx.num_outputs, dtype=torch.bool, device=ctx.device)
        self._order = torch.zeros(0, dtype=torch.long)
        self._cursor = 0

    def task_labels(self, task: TaskInfo) -> list[int]:
        if self.ctx.scenario is Scenario.DOMAIN:
            return list(range(self.ctx.num_outputs))
        return list(task.classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalized features, in eval mode, in chunks."""
        self.model.eval()
        with torch.no_grad():
            feats = [F.normalize(self.model.features(x[i:i + EMBED_BATCH]), dim=1)
                     for i in range(0, len(x), EMBED_BATCH)]
        return torch.cat(feats)

    def memory(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if not self.exemplars:
            return None, None
        xs = list(self.exemplars.values())
        ys = [torch.full((len(x),), label, dtype=torch.long, device=x.device)
              for (_, label), x in self.exemplars.items()]
        return torch.cat(xs), torch.cat(ys)

    def next_exemplars(self, count: int) -> torch.Tensor:
        """Indices into the memory from a running permutation (each visited once per lap)."""
        size = sum(len(x) for x in self.exemplars.values())
        picked = []
        while count > 0:
            if self._cursor >= len(self._order):
                self._order = torch.randperm(size, generator=self.ctx.generator,
                                             device=self.ctx.generator.device)
                self._cursor = 0
            take = self._order[self._cursor:self._cursor + count]
            picked.append(take)
            self._cursor += len(take)
            count -= len(take)
        return torch.cat(picked).to(self.ctx.device)

    def loss(self, x: torch.Tensor, y: torch.Tensor, active: torch.Tensor,
             old: torch.Tensor) -> torch.Tensor:
        """Sigmoid BCE over `active` outputs; targets of `old` outputs from the old model."""
        logits = self.model(x)
        targets = F.one_hot(y, self.ctx.num_outputs).to(logits.dtype)
        if self.old_model is not None and bool(old.any()):
            with torch.no_grad():
                targets = torch.where(old, torch.sigmoid(self.old_model(x)), targets)
        return F.binary_cross_entropy_with_logits(
            logits[:, active], targets[:, active], reduction="none").sum(dim=1).mean()

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        current = torch.zeros_like(self.seen)
        current[self.task_labels(task)] = True
        old, active = self.seen & ~current, self.seen | current
        memory_x, memory_y = self.memory()
        ratio = 0.0 if memory_x is None else len(memory_x) / max(data.num_samples, 1)
        self._order, self._cursor, credit = torch.zeros(0, dtype=torch.long), 0, 0.0
        last_epoch_start = (data.num_epochs - 1) * data.num_samples
        kept_x, kept_y, num_seen = [], [], 0
        self.model.train()
        for x, y in data:
            if num_seen >= last_epoch_start:
                kept_x.append(x.detach().clone())
                kept_y.append(y.clone())
            num_seen += len(x)
            inputs, targets = x, y
            credit += len(x) * ratio
            if memory_x is not None and memory_y is not None and int(credit) > 0:
                index = self.next_exemplars(int(credit))
                credit -= len(index)
                inputs, targets = torch.cat([x, memory_x[index]]), torch.cat([y, memory_y[index]])
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(inputs, targets, active, old).backward()
            self.optimizer.step()
        self.seen |= current
        if kept_x:
            self.update_exemplars(task, torch.cat(kept_x), torch.cat(kept_y))
        self.compute_means()
        self.old_model = copy.deepcopy(self.model).eval()
        self.old_model.requires_grad_(False)

    def update_exemplars(self, task: TaskInfo, x: torch.Tensor, y: torch.Tensor) -> None:
        """Cut old sets to m, then herd m exemplars of each label of this task."""
        labels = self.task_labels(task)
        new_keys = [(task.index, label) for label in labels if bool((y == label).any())]
        per_group = self.ctx.budget.replay_samples // max(len(self.exemplars) + len(new_keys), 1)
        # clone: a slice would keep the whole old set's storage alive.
        self.exemplars = {key: ex[:per_group].clone() for key, ex in self.exemplars.items()
                          if per_group > 0}
        if per_group == 0:
            return
        features = self.embed(x)
        for key in new_keys:
            rows = (y == key[1]).nonzero().flatten()
            self.exemplars[key] = x[rows[herding(features[rows], per_group)]]

    def compute_means(self) -> None:
        """μ_y: renormalized mean of the normalized features of label y's exemplars."""
        self.has_mean = torch.zeros_like(self.seen)
        if not self.exemplars:
            self.class_means = None
            return
        means = None
        for label in sorted({label for _, label in self.exemplars}):
            x = torch.cat([ex for (_, lab), ex in self.exemplars.items() if lab == label])
            mean = F.normalize(self.embed(x).mean(dim=0), dim=0)
            if means is None:
                means = torch.zeros(self.ctx.num_outputs, len(mean), device=mean.device)
            means[label] = mean
            self.has_mean[label] = True
        self.class_means = means

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        if self.class_means is None:
            logits = self.model(x)
            return logits.masked_fill(~self.seen, UNSEEN_LOGIT) if self.seen.any() else logits
        feats = F.normalize(self.model.features(x), dim=1)
        distances = torch.cdist(feats, self.class_means) ** 2
        return (-distances).masked_fill(~self.has_mean, UNSEEN_LOGIT)

    def state_size_bytes(self) -> int:
        size = sum(x.numel() * x.element_size() for x in self.exemplars.values())
        if self.class_means is not None:
            size += self.class_means.numel() * self.class_means.element_size()
        if self.old_model is not None:
            size += sum(t.numel() * t.element_size()
                        for t in (*self.old_model.parameters(), *self.old_model.buffers()))
        return size
