"""GDumb: Prabhu, Torr & Dokania 2020, *GDumb: A Simple Approach that Questions Our Progress in
Continual Learning*, ECCV; training recipe from the authors' code (github.com/drimpossible/GDumb).

Two parts, as in the paper:

1. **Greedy class-balanced sampler** (the paper's Alg. 1). Each training sample is offered once,
   in stream order. With k = `ctx.budget.replay_samples` and Y the labels seen so far (this
   sample's included): if the memory holds fewer than k samples, the sample is stored; otherwise,
   if its class holds fewer than k / |Y| samples, a random sample (from `ctx.generator`) of the
   currently largest class is replaced by it; otherwise it is dropped. The memory never holds
   more than k samples and stays balanced over the classes seen.
2. **Learner.** At the end of each task (so that it can be evaluated after every task), a fresh
   network from `ctx.make_backbone()` is trained *from scratch on the memory only*: SGD with
   momentum 0.9 and weight decay 1e-6, batch 16, gradient norm clipped at 10, `memory_epochs`
   passes (the authors' Split-MNIST setting: 128); the first pass at 0.1 × `lr` (warm start),
   then cosine annealing with warm restarts (T_0 = 1, T_mult = 2, down to `min_lr`), stepped
   per pass. The loss is the cross-entropy over all output units, as in the authors' code.

Choices where the paper is ambiguous or where the harness differs:

- **Offers:** the stream is the first epoch of each task (later epochs repeat the same samples);
  the remaining epochs are drawn from the harness's iterator but not used.
- **Prediction:** the network's logits, with classes absent from memory given a large negative
  finite logit (the paper's classifier covers the labels seen so far).
- **No CutMix:** the authors use it for CIFAR-size images only; augmentation is not part of this
  harness, and the authors' MNIST runs have none.
- **Domain-incremental:** classes are the within-task labels, as the scenario defines them.

Hyperparameters: `lr` (the peak SGD learning rate, default 0.05), `min_lr` (default 0.0005),
`memory_epochs` (default 128), `memory_batch_size` (default 16).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, TaskData, TaskInfo

DEFAULT_LR = 0.05
DEFAULT_MIN_LR = 0.0005
DEFAULT_MEMORY_EPOCHS = 128
DEFAULT_MEMORY_BATCH_SIZE = 16
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-6
CLIP_NORM = 10.0
UNSEEN_LOGIT = -1e9  # large, finite: the harness rejects non-finite logits


class GreedyClassBalancedMemory:
    """GDumb's sampler: at most `capacity` samples, greedily balanced over the classes seen."""

    def __init__(self, capacity: int, generator: torch.Generator):
        self.capacity = capacity
        self.generator = generator
        self.x: torch.Tensor | None = None
        self.y: torch.Tensor | None = None
        self.slots: dict[int, list[int]] = {}  # class -> memory slots holding it
        self.num_stored = 0

    def add(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Offer a batch, sample by sample in order."""
        if self.capacity == 0:
            return
        if self.x is None or self.y is None:
            self.x = torch.empty((self.capacity, *x.shape[1:]), dtype=x.dtype, device=x.device)
            self.y = torch.empty((self.capacity,), dtype=y.dtype, device=y.device)
        for i, label in enumerate(y.tolist()):
            self.slots.setdefault(label, [])
            if self.num_stored < self.capacity:
                slot = self.num_stored
                self.num_stored += 1
            elif len(self.slots[label]) < self.capacity / len(self.slots):
                largest = max(self.slots, key=lambda c: len(self.slots[c]))
                victims = self.slots[largest]
                pick = int(torch.randint(len(victims), (1,), generator=self.generator))
                slot = victims.pop(pick)
            else:
                continue
            self.slots[label].append(slot)
            self.x[slot] = x[i]
            self.y[slot] = label

    def counts(self) -> dict[int, int]:
        return {label: len(slots) for label, slots in self.slots.items() if slots}

    def nbytes(self) -> int:
        if self.x is None or self.y is None:
            return 0
        return self.x.numel() * self.x.element_size() + self.y.numel() * self.y.element_size()


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model: nn.Module = ctx.make_backbone().to(ctx.device)
        self.lr = float(hparams.get("lr", DEFAULT_LR))
        self.min_lr = float(hparams.get("min_lr", DEFAULT_MIN_LR))
        self.memory_epochs = int(hparams.get("memory_epochs", DEFAULT_MEMORY_EPOCHS))
        self.memory_batch_size = int(hparams.get("memory_batch_size",
                                                 DEFAULT_MEMORY_BATCH_SIZE))
        self.memory = GreedyClassBalancedMemory(ctx.budget.replay_samples, ctx.generator)
        self.num_retrains = 0

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        num_offered = 0
        for x, y in data:  # the one pass; only the first epoch is offered to the sampler
            new = max(0, min(len(x), data.num_samples - num_offered))
            if new:
                self.memory.add(x[:new].detach(), y[:new].detach())
                num_offered += new
        self.retrain()

    def retrain(self) -> None:
        """A fresh network trained from scratch on the memory (see the module docstring)."""
        self.model = self.ctx.make_backbone().to(self.ctx.device)
        self.num_retrains += 1
        memory = self.memory
        if memory.num_stored == 0 or memory.x is None or memory.y is None:
            return
        x, y = memory.x[:memory.num_stored], memory.y[:memory.num_stored]
        optimizer = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=MOMENTUM,
                                    weight_decay=WEIGHT_DECAY)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            optimizer, T_0=1, T_mult=2, eta_min=self.min_lr)
        self.model.train()
        for epoch in range(self.memory_epochs):
            if epoch <= 1:  # warm start: one pass at lr / 10, then the peak
                for group in optimizer.param_groups:
                    group["lr"] = self.lr * (0.1 if epoch == 0 else 1.0)
            else:
                scheduler.step()
            order = torch.randperm(len(x), generator=self.ctx.generator,
                                   device=self.ctx.generator.device).to(x.device)
            for start in range(0, len(x), self.memory_batch_size):
                index = order[start:start + self.memory_batch_size]
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(self.model(x[index]), y[index]).backward()
                nn.utils.clip_grad_norm_(self.model.parameters(), CLIP_NORM)
                optimizer.step()

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        logits = self.model(x)
        labels = list(self.memory.counts())
        if labels:
            present = torch.zeros(logits.shape[1], dtype=torch.bool, device=logits.device)
            present[labels] = True
            logits = logits.masked_fill(~present, UNSEEN_LOGIT)
        return logits

    def state_size_bytes(self) -> int:
        return self.memory.nbytes()
