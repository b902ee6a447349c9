"""Per-step instrumentation inside the worker: sampled FLOP counts and continual evaluation.

`StepInstrument(step, batch_samples)` is the context manager `DeviceTaskData` wraps around the
learner's processing of each batch, so neither needs the learner's cooperation.

- **FLOPs**: `torch.utils.flop_counter.FlopCounterMode` is active for `FLOP_SAMPLES_PER_TASK`
  steps spread evenly over each task (the first, and evenly up to the one before the last);
  the task's training FLOPs are estimated per sample: the sampled steps' FLOPs per batch sample
  × the samples of every batch the learner took (`samples_seen`; a loop that breaks before
  using the batch it was handed is charged for it). (Estimated per step, short batches skewed
  the mean: in a two-epoch task the middle and last samples are both an epoch's short last
  batch, which counted nevis-mini's training a third too low; and a learner that stopped
  after one of several epochs was charged for all of them.)
  Counting every step would slow training several-fold; a few samples cost little and capture
  steps whose cost changes during a task (e.g. replay once the buffer fills). The last step is
  sampled only when it is the only one: a learner that takes its batches with `next()` never
  asks for the batch after the last, so that step ends only when `learn` returns
  (`end_of_learn`), and a FLOP counter left on would slow all the learner does after it.
  Work a learner does outside the steps (GDumb's retraining from its memory, joint's
  retraining, EWC's Fisher) is not counted: its time is measured instead (`batches_time_s`,
  from the first batch to the end of the last; the worker reports the rest of the training
  time as `uncounted_train_time_s`), so the site can say whose FLOPs are a lower bound.
- **Continual evaluation**: every `every_steps` steps the learner predicts the fixed subsample;
  its time is measured so the worker can exclude it from training time. Train/eval flags of
  every module the learner holds (anywhere in its state: attributes, dicts, helper objects)
  are restored afterwards, so a mid-task `predict` (which typically calls `model.eval()`)
  cannot change how training continues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from harness.runner.audit import reachable_modules

FLOP_SAMPLES_PER_TASK = 3


class StepInstrument:
    """Instrumentation for one task's steps; create one per task."""

    def __init__(self, num_steps: int, *, evaluate: Callable[[], np.ndarray] | None,
                 every_steps: int, learner: Any, clock: Callable[[], float]):
        self.num_steps = num_steps
        candidates = max(num_steps - 1, 1) if num_steps else 0  # all but the last step
        self.sampled = set(np.linspace(0, candidates - 1, min(FLOP_SAMPLES_PER_TASK, candidates),
                                       dtype=int).tolist()) if candidates else set()
        self.sampled_flops: list[int] = []
        self.sampled_samples = 0  # batch samples of the sampled steps
        self.samples = 0  # batch samples of every step the learner took
        self._learn_returned = False
        self._dropped_last = False  # the last step's pass ended while its batch was held
        self.evaluate = evaluate
        self.every_steps = every_steps
        self.learner = learner
        self.clock = clock
        self.eval_time_s = 0.0
        # The span from the first batch to the end of the last one (two clock readings per
        # task: the clock synchronizes a GPU, which per step would stall it), and the
        # evaluation time inside it.
        self._span_start: float | None = None
        self._span_end: float | None = None
        self._eval_in_span_s = 0.0
        self._modules: list[nn.Module] | None = None
        self.rows: list[tuple[int, np.ndarray]] = []  # (step within task, predictions)

    @property
    def estimated_flops(self) -> float:
        if not self.sampled_samples:
            return 0.0
        return float(sum(self.sampled_flops)) / self.sampled_samples * self.samples

    @property
    def batches_time_s(self) -> float | None:
        """Seconds from the first batch to the end of the last, less evaluations; None if the
        learner did not finish the task's batches."""
        if self._span_start is None or self._span_end is None:
            return None
        return self._span_end - self._span_start - self._eval_in_span_s

    @contextmanager
    def __call__(self, step: int, batch_samples: int) -> Iterator[None]:
        if step == 0:
            self._span_start = self.clock()
        counter = FlopCounterMode(display=False) if step in self.sampled else None
        try:
            if counter is None:
                yield
            else:
                with counter:
                    yield
                self._sample(counter, batch_samples)
        except GeneratorExit:
            # The pass ended while the learner held this batch: a loop that stopped there,
            # `islice`, a `next()`-style learner that stopped early, or one that took every
            # batch and returned. The batch was taken, so it counts (as in `samples_seen`);
            # its FLOP sample counts if anything was computed while it was held (a loop that
            # breaks before using the batch computed nothing). At the last batch,
            # `end_of_learn` runs the step's evaluation: nothing that can fail runs here, in
            # a generator's finalizer, where errors are lost.
            self.samples += batch_samples
            if counter is not None and counter.get_total_flops() > 0:
                self._sample(counter, batch_samples)
            if step == self.num_steps - 1:
                self._dropped_last = True
            raise
        self.samples += batch_samples
        self._end_step(step)

    def _sample(self, counter: FlopCounterMode, batch_samples: int) -> None:
        self.sampled_flops.append(counter.get_total_flops())
        self.sampled_samples += batch_samples

    def _end_step(self, step: int) -> None:
        # Not after `learn` returned (`end_of_learn`): where the last batch ended is unknown.
        if step == self.num_steps - 1 and not self._learn_returned:
            self._span_end = self.clock()
            self._eval_in_span_s = self.eval_time_s
        if self.evaluate is not None and self.every_steps and (step + 1) % self.every_steps == 0:
            self.evaluate_now(step + 1)

    def end_of_learn(self, data: Any) -> None:
        """Call when the learner's `learn` returns, with the task's `DeviceTaskData`.

        A learner that took every batch with `next()` never asked for the batch after the last,
        so the last step's instrumentation is still pending: it ends now. Its continual
        evaluation runs (on the state `learn` left), but the end of its batches is unknown
        (`batches_time_s` is None). A learner that stopped early has its pending step closed
        (the batch it held counts as taken).
        """
        self._learn_returned = True
        data.finish()
        if self._dropped_last:
            self._end_step(self.num_steps - 1)
            self._dropped_last = False

    def evaluate_now(self, step: int) -> None:
        start = self.clock()
        if self._modules is None:  # found once per task: the walk covers the learner's state
            self._modules = reachable_modules(self.learner)
        modes = [(m, m.training) for m in self._modules]
        self.rows.append((step, self.evaluate()))
        _restore_modes(modes)
        self.eval_time_s += self.clock() - start


def _restore_modes(modes: list[tuple[nn.Module, bool]]) -> None:
    """Put every module back in the train/eval mode it had. `train()` is called only where the
    mode changed (it recurses into children, so calling it on every module costs O(depth ×
    modules) per evaluation); `modes` lists parents before children (`Module.modules()` order),
    so a parent's call that flips its children is corrected when the loop reaches them."""
    for module, training in modes:
        if module.training != training:
            module.train(training)
