"""The in-task hyperparameter search helper (`harness.api.InTaskSearch`), worker side.

NEVIS'22 allows a learner to select hyperparameters inside each task on the task's own
train/dev split, as long as that compute is counted. `TaskSearch` gives each trial a fresh
`DeviceTaskData` over the task's train split — with the same per-step FLOP sampling as the
task's own data (`harness.runner.instrument`) and its own seeded batch order — and scores the
trial's predictor on the dev split with every FLOP of those predictions counted too. Trials
beyond the suite's ``search_trials_per_task`` fail the run (a budget overrun).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from harness.api import HParams, SearchResult, TaskData
from harness.data.batches import DeviceTaskData, Normalizer
from harness.errors import BudgetExceededError, SubmissionFailure
from harness.runner.instrument import StepInstrument

Predictor = Callable[[torch.Tensor], torch.Tensor]


class TaskSearch:
    """`data.search` of one task: see `harness.api.InTaskSearch`."""

    def __init__(self, *, train: tuple[torch.Tensor, torch.Tensor],
                 dev: tuple[torch.Tensor, torch.Tensor], classes: torch.Tensor,
                 max_trials: int, batch_size: int, num_epochs: int, normalize: Normalizer,
                 seed: int, learner: Any, clock: Callable[[], float],
                 eval_batch_size: int = 512):
        self._train, self._dev, self._classes = train, dev, classes
        self.max_trials = max_trials
        self.num_dev_samples = len(dev[1])
        self._batch_size, self._num_epochs = batch_size, num_epochs
        self._normalize, self._seed, self._learner, self._clock = normalize, seed, learner, clock
        self._eval_batch_size = eval_batch_size
        self.trials_run = 0
        self.flops = 0.0
        self.samples = 0

    def run(self, candidates: Sequence[HParams],
            train: Callable[[HParams, TaskData], Predictor]) -> SearchResult:
        candidates = list(candidates)
        if not candidates:
            raise SubmissionFailure("data.search.run was given no candidates")
        errors = [self._trial(hparams, train) for hparams in candidates]
        best = min(range(len(errors)), key=lambda i: (errors[i], i))
        return SearchResult(best=dict(candidates[best]), best_index=best,
                            dev_errors=tuple(errors))

    def _trial(self, hparams: HParams, train: Callable[[HParams, TaskData], Predictor]) -> float:
        if self.trials_run >= self.max_trials:
            raise BudgetExceededError(
                f"the learner ran more than {self.max_trials} in-task search trials on one task "
                "(the suite's search_trials_per_task)")
        trial = self.trials_run
        self.trials_run += 1
        images, labels = self._train
        num_steps = self._num_epochs * -(-len(labels) // self._batch_size)
        instrument = StepInstrument(num_steps, evaluate=None, every_steps=0,
                                    learner=self._learner, clock=self._clock)
        data = DeviceTaskData(
            images, labels, batch_size=self._batch_size, num_epochs=self._num_epochs,
            normalize=self._normalize, instrument=instrument,
            generator=torch.Generator().manual_seed(self._seed * 7_919 + trial + 1))
        predictor = train(dict(hparams), data)
        instrument.end_of_learn(data)
        self.flops += instrument.estimated_flops
        self.samples += data.samples_yielded
        if not callable(predictor):
            raise SubmissionFailure("the train function given to data.search.run must return "
                                    f"a predict function, not {type(predictor).__name__}")
        return self._dev_error(predictor)

    def _dev_error(self, predictor: Predictor) -> float:
        images, labels = self._dev
        wrong = 0
        counter = FlopCounterMode(display=False)
        with torch.inference_mode(), counter:
            for lo in range(0, len(labels), self._eval_batch_size):
                logits = predictor(self._normalize(images[lo:lo + self._eval_batch_size]))
                if not isinstance(logits, torch.Tensor) or not torch.isfinite(logits).all():
                    return 1.0  # a diverged trial loses; the search goes on
                chosen = self._classes[logits[:, self._classes].argmax(dim=1)]
                wrong += int((chosen != labels[lo:lo + self._eval_batch_size]).sum())
        self.flops += counter.get_total_flops()
        return wrong / max(1, len(labels))
