"""The public contract between the harness and submitted methods.

This module is the only part of `harness` a submission may import (plus torch and numpy). It is
kept free of heavy imports beyond torch so that it loads quickly inside a worker.

Two kinds of submission exist (the `api` key of `submission.toml`): continual learners (below)
and training algorithms (`TrainingAlgorithm`, at the end of this module: AlgoPerf-style
time-to-result).

A continual-learning submission (`submission.py`) defines one class named `Learner` that
subclasses `ContinualLearner`:

    class Learner(ContinualLearner):
        def __init__(self, ctx: LearnerContext, hparams: dict[str, float | int | str]): ...
        def learn(self, task: TaskInfo, data: TaskData) -> None: ...
        def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor: ...

The harness calls `learn` once per task, in order, and `predict` on evaluation inputs after each
task (and once before the first). Evaluation labels never enter the worker process that runs this
code: the harness scores predictions in the parent process.

Label conventions by scenario (van de Ven et al., *Three scenarios for continual learning*):

- ``Scenario.TASK``   task-incremental: training labels are global class ids; `predict` is given
  the task index and the harness takes the argmax over `task.classes` only.
- ``Scenario.DOMAIN`` domain-incremental: labels are the position of the class inside its task
  (0 .. classes_per_task - 1); `predict` gets no task index; `ctx.num_outputs` is
  classes_per_task.
- ``Scenario.CLASS``  class-incremental: labels are global class ids; `predict` gets no task index
  and the argmax is taken over all `ctx.num_outputs` classes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import nn

HParams = dict[str, float | int | str | bool]

__all__ = [
    "Batch",
    "Budget",
    "ContinualLearner",
    "InTaskSearch",
    "SearchResult",
    "TrainingAlgorithm",
    "WorkloadHandle",
    "HParams",
    "LearnerContext",
    "MultiHead",
    "Scenario",
    "TaskData",
    "TaskInfo",
]


class Scenario(enum.Enum):
    """The three continual-learning scenarios."""

    TASK = "task"
    DOMAIN = "domain"
    CLASS = "class"

    @property
    def gives_task_at_test(self) -> bool:
        """Whether `predict` receives the task index in this scenario."""
        return self is Scenario.TASK


@dataclass(frozen=True)
class Budget:
    """What a learner may spend on each task.

    Attributes:
        epochs_per_task: passes over each task's training data that `TaskData` yields.
        batch_size: samples per training batch.
        replay_samples: the size of the memory in samples, which sets `state_bytes_allowed`.
            The audit is in bytes, not samples: a learner may spend them as it likes (more
            samples at lower precision, fewer samples and a stored model), as memory-budget
            comparisons in continual learning do; what it holds must fit the bytes.
        time_limit_s: wall-clock limit of one whole run; a run over it is killed and failed.
        state_bytes_allowed: bytes of state the learner may keep beyond its live network,
            audited after every task (replay buffers, stored models, Fisher matrices,
            optimizer moments…): ``replay_samples`` stored samples (float32 input, int64
            label, float32 logits) plus ``model_copies`` copies of the network's parameters
            (the suite's ``model_copies``, 8 unless it says otherwise). Each tensor counts its
            whole storage: a sample kept as a view of a batch (``x[i]``) holds the batch, so
            keep ``x[i].clone()``. A learner over it fails the run with the figure. None when
            not audited.
    """

    epochs_per_task: int
    batch_size: int
    replay_samples: int
    time_limit_s: float
    state_bytes_allowed: int | None = None


@dataclass(frozen=True)
class TaskInfo:
    """What a learner is told about the task it is learning.

    Attributes:
        index: position of the task in the sequence (0-based).
        classes: this task's labels in the scenario's convention, sorted: class ids in
            task- and class-incremental, positions 0 .. classes_per_task-1 in
            domain-incremental (see the module docstring).
        scenario: the continual-learning scenario.
        num_train_samples: size of this task's training set.
    """

    index: int
    classes: tuple[int, ...]
    scenario: Scenario
    num_train_samples: int


@runtime_checkable
class TaskData(Protocol):
    """The harness-owned training batches of one task, already on `ctx.device`.

    Iterating yields `(x, y)` pairs: `x` float32 of shape (batch, *input_shape), normalized;
    `y` int64 of shape (batch,), labelled as the scenario says (see module docstring). Batches
    come epoch by epoch, `num_epochs` epochs, each a fresh seeded permutation covering every
    sample once (the last batch of an epoch may be smaller). The data may be iterated **once**;
    a second pass exceeds the budget and fails the run. The pass ends when `learn` returns (an
    iterator kept for later yields nothing more). A learner may stop early (training FLOPs
    count every batch it took) and may take batches with `next()` instead of a `for` loop,
    from one iterator: a second `iter(data)`, even after one batch, is a second pass. The
    batches are the only way to the task's data: reading the object's private tensors
    trains outside the budget and is not allowed.

    In NEVIS-like streams (`harness.nevis`) the object also has ``search``, an `InTaskSearch`
    over this task's train and dev splits; elsewhere it has no such attribute
    (``getattr(data, "search", None)`` is None).
    """

    num_samples: int
    batch_size: int
    num_epochs: int

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...


@dataclass(frozen=True)
class SearchResult:
    """The outcome of an in-task search: the best candidate and every candidate's dev error
    (in the order given; ties go to the earlier candidate)."""

    best: HParams
    best_index: int
    dev_errors: tuple[float, ...]


@runtime_checkable
class InTaskSearch(Protocol):
    """Hyperparameter search inside one task of a NEVIS-like stream (``data.search``).

    ``run(candidates, train)`` calls ``train(hparams, trial_data)`` once per candidate;
    `trial_data` is a fresh `TaskData` over the task's *train* split (same epochs and batch
    size as the task's own data; its own seeded order) and `train` returns a function
    ``predict(x) -> logits`` of shape (batch, ctx.num_outputs). The helper scores it on the
    task's *dev* split (error rate, argmax over the task's classes) and returns a
    `SearchResult`. Every trial's training steps and dev predictions are counted in the run's
    FLOPs, samples and time — the point of NEVIS'22's rule that search is allowed but paid
    for. At most `max_trials` trials per task (the suite's ``search_trials_per_task``);
    another fails the run. The task's own `data` is still to be iterated for the final model.
    """

    max_trials: int
    num_dev_samples: int

    def run(self, candidates: Sequence[HParams],
            train: Callable[[HParams, TaskData], Callable[[torch.Tensor], torch.Tensor]]
            ) -> SearchResult: ...


@dataclass(frozen=True)
class LearnerContext:
    """Everything the harness gives a learner at construction.

    Attributes:
        device: where data arrives and where the model should live.
        seed: the run's seed; the harness has already seeded torch with it.
        generator: a torch generator seeded from `seed`, for the learner's own sampling.
        num_tasks: length of the task sequence.
        num_outputs: size of the output layer (see the scenario label conventions).
        input_shape: shape of one input, e.g. (3, 32, 32).
        scenario: the continual-learning scenario.
        budget: what the learner may spend.
        make_backbone: builds the suite's fixed network, freshly initialized from the torch
            seed, with `num_outputs` outputs; it has `.features(x)` and a linear `.head`.
            Every method gets the same network, so comparisons are about the method.
    """

    device: torch.device
    seed: int
    generator: torch.Generator
    num_tasks: int
    num_outputs: int
    input_shape: tuple[int, ...]
    scenario: Scenario
    budget: Budget
    make_backbone: Callable[[], nn.Module]


class ContinualLearner:
    """Base class of continual-learning submissions. Subclass it as `Learner`.

    Override `learn` and `predict`; the hooks below have sensible defaults.
    """

    def __init__(self, ctx: LearnerContext, hparams: HParams):
        self.ctx = ctx
        self.hparams = hparams

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        """Learn `task` from `data` (one pass of the iterator, `data.num_epochs` epochs)."""
        raise NotImplementedError

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        """Return logits of shape (len(x), ctx.num_outputs) for a batch of inputs.

        `task` is the task index where the scenario allows it (task-incremental), else None.
        Called under `torch.inference_mode()`, also before the first task. Logits must be
        finite or -inf (a mask); a row needs at least one finite logit among the classes
        scored, so mask unseen classes with -inf only once some class is seen (or with a
        large negative finite value). NaN or +inf fails the run as diverged.
        """
        raise NotImplementedError

    def end_of_task(self, task: TaskInfo) -> None:  # noqa: B027 - optional hook
        """Called after `learn(task, ...)` returns, before evaluation. Optional."""

    def state_size_bytes(self) -> int | None:
        """Bytes of state the learner keeps beyond the backbone (e.g. a replay buffer).

        Informational: the audit itself measures every tensor the learner holds (see
        `harness.runner.audit`), so a wrong figure here cannot pass it. None if not reported.
        """
        return None

    def checkpoint_state(self) -> dict:
        """Everything needed to continue after the last task, for a long stream's per-task
        checkpoint (`harness.nevis.checkpoint`, pickled with `torch.save`).

        Default: every attribute but `ctx` (modules, optimizers, tensors, generators, plain
        values — pickled together, so an optimizer keeps pointing at its model's parameters).
        Override both hooks if the learner holds something unpicklable (a lambda, an open
        file); a learner whose state cannot be pickled still runs, without checkpoints.
        """
        return {k: v for k, v in vars(self).items() if k != "ctx"}

    def restore_state(self, state: dict) -> None:
        """Undo `checkpoint_state` on a freshly constructed learner."""
        vars(self).update(state)


class MultiHead:
    """Task-incremental training with a multi-headed output (van de Ven et al., *Three
    scenarios for continual learning*): each training sample competes only among the classes
    of its own task, so learning a new task never pushes down old tasks' logits. Identity in
    the domain- and class-incremental scenarios, whose output layer is shared by definition.

    Usage: ``heads = MultiHead(ctx)``; at the start of ``learn``: ``heads.add_task(task)``;
    then ``F.cross_entropy(heads(logits, y), y)`` — replayed samples of earlier tasks work too.
    """

    def __init__(self, ctx: LearnerContext):
        self.enabled = ctx.scenario is Scenario.TASK
        self.task_of_class = torch.full((ctx.num_outputs,), -1, dtype=torch.long,
                                        device=ctx.device)

    def add_task(self, task: TaskInfo) -> None:
        self.task_of_class[list(task.classes)] = task.index

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """`logits` with every class outside each sample's task set to -inf."""
        if not self.enabled:
            return logits
        same_task = self.task_of_class[None, :] == self.task_of_class[labels][:, None]
        return logits.masked_fill(~same_task, float("-inf"))


# --------------------------------------------------------------------------------------------
# Training algorithms (time-to-result suites, AlgoPerf semantics)
# --------------------------------------------------------------------------------------------

Batch = tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class WorkloadHandle:
    """What a training algorithm may know about the workload it trains — and nothing else.

    The handle deliberately carries no name, dataset or task description: per-workload special
    casing (forbidden by AlgoPerf's rules, enforced there by review) is impossible here by
    construction. Held-out variants of a workload look exactly like their base workload.

    Attributes:
        loss: `loss(model, batch) -> scalar tensor`, the workload's training loss (mean over
            the batch), differentiable in the model's parameters.
        param_shapes: shape of every parameter of the model, by parameter name.
        step_hint: the number of steps a well-tuned baseline needs (AlgoPerf's `step_hint`);
            a schedule may scale with it.
        max_runtime_s: the submission-time budget; a run that has not reached the target by
            then scores infinity.
        device: where the model and batches live.
        generator: a seeded torch generator for the algorithm's own randomness.
    """

    loss: Callable[[nn.Module, Batch], torch.Tensor]
    param_shapes: dict[str, tuple[int, ...]]
    step_hint: int
    max_runtime_s: float
    device: torch.device
    generator: torch.Generator


class TrainingAlgorithm:
    """Base class of training-algorithm submissions. Subclass it as `Algorithm`.

    The harness calls, in order: `batch_size` and `init` (untimed), then repeatedly
    `select_batch` and `step` (timed), and before every evaluation `prepare_for_eval` (timed).
    Evaluation itself is untimed and is done by the harness on `model`. Only the timed calls
    count towards time-to-result.
    """

    def __init__(self, hparams: HParams):
        self.hparams = hparams

    def batch_size(self, workload: WorkloadHandle) -> int:
        """Training batch size for this workload (untimed)."""
        raise NotImplementedError

    def init(self, workload: WorkloadHandle, model: nn.Module) -> None:
        """Create optimizer state for `model` (untimed). Keep `workload` for its loss."""
        raise NotImplementedError

    def select_batch(self, batch: Batch, step_index: int) -> Batch:
        """Data selection (timed): return the batch to train on. Default: the offered batch."""
        return batch

    def step(self, batch: Batch, step_index: int) -> None:
        """One update of the model from `batch` (timed)."""
        raise NotImplementedError

    def prepare_for_eval(self) -> None:  # noqa: B027 - optional hook
        """Called before each evaluation (timed), e.g. to swap in averaged weights."""
