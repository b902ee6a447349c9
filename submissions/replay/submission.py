"""Experience replay with a reservoir buffer (Chaudhry et al. 2019, *On Tiny Episodic Memories
in Continual Learning*).

Each training step uses the current batch concatenated with a batch drawn without replacement
from the memory, and one loss over both. After the step the current batch is offered to the
memory by reservoir sampling, so at any time each training sample seen so far is in memory with
the same probability, capacity / samples seen, whatever task it came from. The memory holds at
most `ctx.budget.replay_samples` samples, as device tensors.

Only the first epoch of a task's data is offered to the memory: later epochs repeat the same
samples, and offering them again would fill the memory with duplicates.

Hyperparameters: `lr` (Adam learning rate; default 1e-3, Adam's usual default) and
`replay_batch_size` (samples drawn from memory per step; default: the size of the current
batch, as in the paper).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, MultiHead, TaskData, TaskInfo

DEFAULT_LR = 1e-3


class ReservoirBuffer:
    """At most `capacity` samples; after t offers, each offered sample is kept w.p. capacity/t."""

    def __init__(self, capacity: int, generator: torch.Generator):
        self.capacity = capacity
        self.generator = generator
        self.x: torch.Tensor | None = None
        self.y: torch.Tensor | None = None
        self.num_stored = 0
        self.num_seen = 0

    def add(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Offer a batch, sample by sample in order (Vitter's algorithm R, vectorized)."""
        if self.capacity == 0 or len(x) == 0:
            self.num_seen += len(x)
            return
        if self.x is None or self.y is None:
            self.x = torch.empty((self.capacity, *x.shape[1:]), dtype=x.dtype, device=x.device)
            self.y = torch.empty((self.capacity,), dtype=y.dtype, device=y.device)
        free = min(self.capacity - self.num_stored, len(x))
        self.x[self.num_stored:self.num_stored + free] = x[:free]
        self.y[self.num_stored:self.num_stored + free] = y[:free]
        self.num_stored += free
        self.num_seen += free
        rest = len(x) - free
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
                slots = torch.tensor(list(winners), device=x.device)
                sources = torch.tensor(list(winners.values()), device=x.device)
                self.x[slots] = x[sources]
                self.y[slots] = y[sources]
            self.num_seen += rest

    def sample(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`size` stored samples (all, if fewer are stored), drawn without replacement."""
        assert self.x is not None and self.y is not None and self.num_stored > 0
        device = self.generator.device
        index = torch.randperm(self.num_stored, generator=self.generator, device=device)[:size]
        index = index.to(self.x.device)
        return self.x[index], self.y[index]

    def nbytes(self) -> int:
        if self.x is None or self.y is None:
            return 0
        return self.x.numel() * self.x.element_size() + self.y.numel() * self.y.element_size()


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(),
                                          lr=float(hparams.get("lr", DEFAULT_LR)))
        replay_batch_size = hparams.get("replay_batch_size")
        self.replay_batch_size = None if replay_batch_size is None else int(replay_batch_size)
        self.buffer = ReservoirBuffer(ctx.budget.replay_samples, ctx.generator)
        self.heads = MultiHead(ctx)  # task-incremental: a head per task; identity otherwise

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        self.model.train()
        self.heads.add_task(task)
        num_offered = 0  # samples of this task offered to the memory (first epoch only)
        for x, y in data:
            inputs, targets = x, y
            if self.buffer.num_stored:
                memory_x, memory_y = self.buffer.sample(self.replay_batch_size or len(x))
                inputs, targets = torch.cat([x, memory_x]), torch.cat([y, memory_y])
            self.optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(self.heads(self.model(inputs), targets), targets).backward()
            self.optimizer.step()
            new = max(0, min(len(x), data.num_samples - num_offered))
            if new:
                self.buffer.add(x[:new].detach(), y[:new].detach())
                num_offered += new

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        self.model.eval()
        return self.model(x)

    def state_size_bytes(self) -> int:
        return self.buffer.nbytes()
