"""Device-resident training batches: the `TaskData` the harness hands to `learn`.

The task's images live on the device; each epoch is a `randperm` over them and each batch is an
index gather. No per-sample Python, no DataLoader workers. A task whose float32 copy fits in
`PRENORMALIZE_MAX_BYTES` is normalized once up front (the per-batch conversion costs ~7 % of a
small MLP's step); a larger one stays uint8 (4× less memory) and each batch gets a fused
conversion and normalization. Both give bit-identical batches.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

import torch

from harness.data.augment import BatchAugmenter
from harness.errors import BudgetExceededError

PRENORMALIZE_MAX_BYTES = 512 * 2**20


class Normalizer:
    """uint8 (B, C, H, W) → float32, scaled to [0, 1] then standardized per channel."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], device: torch.device):
        shape = (1, len(mean), 1, 1)
        std_t = torch.tensor(std, dtype=torch.float32, device=device).clamp_min(1e-6)
        # x/255 - mean) / std == x * scale + shift, one fused multiply-add per element.
        self.scale = (1.0 / (255.0 * std_t)).view(shape)
        self.shift = (-torch.tensor(mean, dtype=torch.float32, device=device) / std_t).view(shape)

    def __call__(self, images_uint8: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.shift, images_uint8.float(), self.scale)


class DeviceTaskData:
    """One task's training data on the device, iterable once for `num_epochs` epochs.

    Implements `harness.api.TaskData`. Batch order comes from the harness's own generator (seeded
    by run seed and task), so every method sees the same batches for a given seed.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *, batch_size: int,
                 num_epochs: int, normalize: Normalizer, generator: torch.Generator,
                 instrument: Callable[[int], AbstractContextManager] | None = None,
                 augment: BatchAugmenter | None = None):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        # Private: the batches are a learner's only way to the task's data (`harness.api`);
        # public tensors let a learner train on the whole task without spending its budget.
        self._images = images
        self._labels = labels
        self.num_samples = len(images)
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self._normalize = normalize
        if images.numel() * 4 <= PRENORMALIZE_MAX_BYTES:
            self._images, self._normalize = normalize(images), identity
        self._generator = generator
        # instrument(step) wraps the learner's processing of batch `step` (from the yield to
        # the request for the next batch): the worker counts FLOPs and runs continual
        # evaluation there without the learner's cooperation.
        self._instrument = instrument
        self._augment = augment  # applied to each normalized batch (see harness.data.augment)
        self._iterated = False
        # The learner's pass, weakly: a loop that stops early drops it, which closes it there.
        self._pass: weakref.ref | None = None
        self._pending_step: int | None = None  # the step whose batch the learner holds
        self.samples_yielded = 0

    def __len__(self) -> int:
        """Number of batches over all epochs."""
        return self.num_epochs * -(-self.num_samples // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self._iterated:
            raise BudgetExceededError(
                f"the learner iterated a task's data a second time (a second iter(data), even "
                f"after one batch, starts a new pass); the budget is one pass of "
                f"{self.num_epochs} epoch(s) × {self.num_samples} samples per task: take every "
                f"batch from one iterator (batches = iter(data); next(batches))"
            )
        self._iterated = True
        batches = self._batches()
        self._pass = weakref.ref(batches)
        return batches

    def finish(self) -> None:
        """End the learner's pass when `learn` returns, so no step's instrumentation (a FLOP
        counter, a pending continual evaluation) outlives it. A pass held at the last batch
        (a learner that called `next()` exactly `len(data)` times) is run to its end: that
        step's instrumentation finishes. A pass held earlier (the learner stopped) is closed."""
        batches = self._pass() if self._pass is not None else None
        if batches is None:
            return
        if self._pending_step == len(self) - 1:
            next(batches, None)
        batches.close()

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        device = self._images.device
        step = 0
        for epoch in range(self.num_epochs):
            order = torch.randperm(self.num_samples, generator=self._generator).to(device)
            for start in range(0, self.num_samples, self.batch_size):
                index = order[start:start + self.batch_size]
                self.samples_yielded += len(index)
                x = self._normalize(self._images[index])
                batch = (x if self._augment is None else self._augment(x, index, epoch)), \
                    self._labels[index]
                self._pending_step = step
                if self._instrument is None:
                    yield batch
                else:
                    with self._instrument(step, len(index)):
                        yield batch
                self._pending_step = None
                step += 1


def identity(x: torch.Tensor) -> torch.Tensor:
    return x
