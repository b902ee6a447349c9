"""Dark Experience Replay (DER): Buzzega, Boschini, Porrello, Abati & Calderara 2020, *Dark
Experience for General Continual Learning: a Strong, Simple Baseline*, NeurIPS; following the
authors' code (github.com/aimagelab/mammoth, `models/der.py`).

A reservoir buffer keeps (x, z) pairs: an input and the logits the network gave it at the time
it was inserted. Each step:

    L = CE(f(x), y) + α · MSE(f(x'), z')

with (x, y) the current batch and (x', z') a batch drawn without replacement from the buffer;
MSE is the mean over the batch and all output units (`F.mse_loss`), as in the reference. After
the step the current batch is offered to the buffer with z = the logits of the forward pass
that computed the loss (before the step), as the reference does (`outputs.data`).

Choices where the paper is ambiguous:

- **What is offered to the buffer:** every batch of every epoch, as mammoth's `observe` does (the
  reservoir's count of samples seen includes repeats), so a sample can be stored more than once
  and later epochs' logits can replace earlier ones. The buffer never holds more than
  `ctx.budget.replay_samples` samples.
- **Buffer batch size:** the current batch's size (mammoth's `minibatch_size`, which its
  configurations set to the batch size); `replay_batch_size` overrides it.
- **Output units:** all of them, in every scenario, for both terms, as in the reference (the
  harness masks task-incremental predictions itself).
- **Optimizer.** Adam kept across tasks, like the harness's baselines (the paper used SGD).
- **Augmented inputs.** mammoth stores the non-augmented input with the logits of the augmented
  one; the harness's `TaskData` yields only the (possibly augmented) batch, so that is what is
  stored, with its own logits.

Hyperparameters: `lr` (Adam learning rate, default 1e-3), `alpha` (α, default 0.2; the paper's
grid runs from 0.1 to 1), `replay_batch_size`.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, TaskData, TaskInfo

DEFAULT_LR = 1e-3
DEFAULT_ALPHA = 0.2


class ReservoirBuffer:
    """At most `capacity` samples of named fields; after t offers, each offered sample is kept
    with probability capacity / t (Vitter's algorithm R, vectorized per batch)."""

    def __init__(self, capacity: int, generator: torch.Generator):
        self.capacity = capacity
        self.generator = generator
        self.fields: dict[str, torch.Tensor] = {}
        self.num_stored = 0
        self.num_seen = 0

    def add(self, **batch: torch.Tensor) -> None:
        size = len(next(iter(batch.values())))
        if self.capacity == 0 or size == 0:
            self.num_seen += size
            return
        if not self.fields:
            self.fields = {name: torch.empty((self.capacity, *t.shape[1:]), dtype=t.dtype,
                                             device=t.device) for name, t in batch.items()}
        free = min(self.capacity - self.num_stored, size)
        for name, t in batch.items():
            self.fields[name][self.num_stored:self.num_stored + free] = t[:free]
        self.num_stored += free
        self.num_seen += free
        rest = size - free
        if rest:
            # Sample number t of the stream (1-based) replaces slot j ~ U{0..t-1} if j < capacity.
            device = self.generator.device
            t = self.num_seen + 1 + torch.arange(rest, dtype=torch.float64, device=device)
            u = torch.rand(rest, dtype=torch.float64, generator=self.generator, device=device)
            winners: dict[int, int] = {}
            for i, slot in enumerate((u * t).long().tolist()):
                if slot < self.capacity:
                    winners[slot] = free + i  # a later sample overwrites an earlier one
            if winners:
                anchor = next(iter(self.fields.values()))
                slots = torch.tensor(list(winners), device=anchor.device)
                sources = torch.tensor(list(winners.values()), device=anchor.device)
                for name, t in batch.items():
                    self.fields[name][slots] = t[sources]
            self.num_seen += rest

    def sample(self, size: int, *names: str) -> tuple[torch.Tensor, ...]:
        """`size` stored samples (all, if fewer are stored), without replacement."""
        assert self.num_stored > 0
        device = self.generator.device
        index = torch.randperm(self.num_stored, generator=self.generator, device=device)[:size]
        index = index.to(next(iter(self.fields.values())).device)
        return tuple(self.fields[name][index] for name in names)

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.fields.values())


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(),
                                          lr=float(hparams.get("lr", DEFAULT_LR)))
        self.alpha = float(hparams.get("alpha", DEFAULT_ALPHA))
        replay_batch_size = hparams.get("replay_batch_size")
        self.replay_batch_size = None if replay_batch_size is None else int(replay_batch_size)
        self.buffer = ReservoirBuffer(ctx.budget.replay_samples, ctx.generator)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        outputs = self.model(x)
        loss = F.cross_entropy(outputs, y)
        if self.buffer.num_stored:
            buf_x, buf_logits = self.buffer.sample(self.replay_batch_size or len(x),
                                                   "x", "logits")
            loss = loss + self.alpha * F.mse_loss(self.model(buf_x), buf_logits)
        loss.backward()
        self.optimizer.step()
        self.buffer.add(x=x.detach(), logits=outputs.detach())

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.model.train()
        for x, y in data:
            self.step(x, y)

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        return self.model(x)

    def state_size_bytes(self) -> int:
        return self.buffer.nbytes()
