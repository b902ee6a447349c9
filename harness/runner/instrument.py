"""Per-step instrumentation inside the worker: sampled FLOP counts and continual evaluation.

`StepInstrument(step)` is the context manager `DeviceTaskData` wraps around the learner's
processing of each batch, so neither needs the learner's cooperation.

- **FLOPs**: `torch.utils.flop_counter.FlopCounterMode` is active for `FLOP_SAMPLES_PER_TASK`
  steps spread evenly over each task (the first, and evenly after it); the task's training
  FLOPs are estimated as the mean sampled step × the number of steps. Counting every step would
  slow training several-fold; a few samples cost little and capture steps whose cost changes
  during a task (e.g. replay once the buffer fills). Work a learner does outside the steps
  (GDumb's retraining from its memory, joint's retraining, EWC's Fisher) is not counted: its
  time is measured instead (`batches_time_s`, from the first batch to the end of the last; the
  worker reports the rest of the training time as `uncounted_train_time_s`), so the site can
  say whose FLOPs are a lower bound.
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
        self.sampled = set(np.linspace(0, num_steps - 1, min(FLOP_SAMPLES_PER_TASK, num_steps),
                                       dtype=int).tolist()) if num_steps else set()
        self.sampled_flops: list[int] = []
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
        if not self.sampled_flops:
            return 0.0
        return float(np.mean(self.sampled_flops)) * self.num_steps

    @property
    def batches_time_s(self) -> float | None:
        """Seconds from the first batch to the end of the last, less evaluations; None if the
        learner did not finish the task's batches."""
        if self._span_start is None or self._span_end is None:
            return None
        return self._span_end - self._span_start - self._eval_in_span_s

    @contextmanager
    def __call__(self, step: int) -> Iterator[None]:
        if step == 0:
            self._span_start = self.clock()
        if step in self.sampled:
            counter = FlopCounterMode(display=False)
            with counter:
                yield
            self.sampled_flops.append(counter.get_total_flops())
        else:
            yield
        if step == self.num_steps - 1:
            self._span_end = self.clock()
            self._eval_in_span_s = self.eval_time_s
        if self.evaluate is not None and self.every_steps and (step + 1) % self.every_steps == 0:
            self.evaluate_now(step + 1)

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
