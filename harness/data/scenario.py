"""Turning a dataset into a continual-learning scenario: class order, tasks, labels, eval order.

Everything here is determined by the suite (never by the run seed), so every method and seed
sees the same tasks and the same evaluation samples.

Labels follow `harness.api`: class- and task-incremental use the class's position in the
shuffled class order (0 .. C-1); domain-incremental uses the position inside its task.

Evaluation inputs are presented to the worker in an order that reveals nothing it should not
know: for class- and domain-incremental the samples of all tasks are shuffled together (so
grouping by task cannot leak which classes are possible); for task-incremental they are grouped
by task, since the task identity is given at test time in that scenario.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from harness.api import Scenario
from harness.data.cache import CachedDataset
from harness.errors import ConfigError


@dataclass(frozen=True)
class TaskSplit:
    """One task: its classes (scenario labels) and its training samples.

    `train_indices` index the dataset's train split; `train_labels` are scenario labels.
    """

    index: int
    classes: tuple[int, ...]
    train_indices: np.ndarray
    train_labels: np.ndarray


@dataclass(frozen=True)
class ScenarioPlan:
    """A scenario over one dataset.

    Attributes:
        class_order: dataset class ids in task order (len = num_tasks × classes_per_task).
        eval_indices: dataset indices of the eval split, in presentation order.
        eval_targets: scenario labels of those samples (kept in the parent process only).
        eval_task_ids: task of each presented eval sample (parent only).
        groups: (task or None, start, stop) slices of the presentation order; the task is given
            to `predict` only in task-incremental.
    """

    scenario: Scenario
    dataset: CachedDataset
    train_split: str
    eval_split: str
    class_order: tuple[int, ...]
    tasks: tuple[TaskSplit, ...]
    num_outputs: int
    eval_indices: np.ndarray
    eval_targets: np.ndarray
    eval_task_ids: np.ndarray
    groups: tuple[tuple[int | None, int, int], ...]

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    def continual_subset(self, samples_per_task: int) -> tuple[np.ndarray, tuple]:
        """Positions (into the presentation order) of a fixed per-task subsample, and groups.

        The first `samples_per_task` presented samples of each task, kept in presentation
        order, so the subsample reveals no more about tasks than the full evaluation does.
        """
        positions = np.sort(np.concatenate([
            np.flatnonzero(self.eval_task_ids == t)[:samples_per_task]
            for t in range(self.num_tasks)
        ]))
        if self.scenario is not Scenario.TASK:
            return positions, ((None, 0, len(positions)),)
        tasks = self.eval_task_ids[positions]
        bounds = np.cumsum([0] + [int((tasks == t).sum()) for t in range(self.num_tasks)])
        return positions, tuple((t, int(bounds[t]), int(bounds[t + 1]))
                                for t in range(self.num_tasks))

    def fingerprint(self) -> str:
        """Hash of everything the worker receives (dataset, splits, indices, labels, order)."""
        digest = hashlib.sha256()
        digest.update(f"{self.dataset.fingerprint}|{self.scenario.value}|".encode())
        digest.update(f"{self.train_split}|{self.eval_split}|{self.groups}".encode())
        for task in self.tasks:
            digest.update(task.train_indices.tobytes() + task.train_labels.tobytes())
        digest.update(self.eval_indices.tobytes())
        return digest.hexdigest()[:16]


def build_plan(data, scenario: Scenario, dataset: CachedDataset) -> ScenarioPlan:
    """Build the scenario described by a suite's `ScenarioData` over `dataset`."""
    for split in (data.train_split, data.eval_split):
        if split not in dataset.split_sizes:
            raise ConfigError(f'dataset "{dataset.name}" has no split "{split}"; it has '
                              f"{', '.join(sorted(dataset.split_sizes))}")
    num_classes = len(dataset.class_names)
    classes = list(data.classes) or list(range(num_classes))
    bad = [c for c in classes if not 0 <= c < num_classes]
    if bad:
        raise ConfigError(f'dataset "{dataset.name}" has classes 0..{num_classes - 1}; '
                          f"the suite names {bad}")
    if len(classes) % data.num_tasks:
        raise ConfigError(f"{len(classes)} classes cannot be split into {data.num_tasks} tasks")
    rng = np.random.default_rng(data.class_order_seed)
    class_order = tuple(int(c) for c in rng.permutation(classes))
    per_task = len(class_order) // data.num_tasks
    position = {c: i for i, c in enumerate(class_order)}

    def scenario_label(dataset_class: int) -> int:
        pos = position[dataset_class]
        return pos % per_task if scenario is Scenario.DOMAIN else pos

    train_labels_all = dataset.labels(data.train_split)
    tasks = []
    for t in range(data.num_tasks):
        task_classes = class_order[t * per_task:(t + 1) * per_task]
        idx = _select(train_labels_all, task_classes, data.max_train_per_class, rng)
        labels = np.array([scenario_label(int(c)) for c in train_labels_all[idx]], np.int64)
        shown = tuple(sorted({scenario_label(c) for c in task_classes}))
        tasks.append(TaskSplit(t, shown, idx, labels))

    eval_labels_all = dataset.labels(data.eval_split)
    per_task_eval = [
        _select(eval_labels_all, class_order[t * per_task:(t + 1) * per_task],
                data.max_eval_per_class, rng)
        for t in range(data.num_tasks)
    ]
    eval_indices, task_ids, groups = _presentation_order(per_task_eval, scenario, rng)
    eval_targets = np.array([scenario_label(int(c)) for c in eval_labels_all[eval_indices]],
                            np.int64)
    return ScenarioPlan(
        scenario=scenario, dataset=dataset, train_split=data.train_split,
        eval_split=data.eval_split, class_order=class_order, tasks=tuple(tasks),
        num_outputs=per_task if scenario is Scenario.DOMAIN else len(class_order),
        eval_indices=eval_indices, eval_targets=eval_targets, eval_task_ids=task_ids,
        groups=groups,
    )


def _select(labels: np.ndarray, classes, max_per_class: int | None,
            rng: np.random.Generator) -> np.ndarray:
    """Indices of samples of `classes`, at most `max_per_class` each, chosen by `rng`."""
    chosen = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if len(idx) == 0:
            raise ConfigError(f"class {c} has no samples in this split")
        if max_per_class is not None and len(idx) > max_per_class:
            idx = np.sort(rng.choice(idx, size=max_per_class, replace=False))
        chosen.append(idx)
    return np.concatenate(chosen).astype(np.int64)


def _presentation_order(per_task: list[np.ndarray], scenario: Scenario, rng: np.random.Generator):
    task_ids = np.concatenate([np.full(len(idx), t, np.int64) for t, idx in enumerate(per_task)])
    indices = np.concatenate(per_task)
    if scenario is Scenario.TASK:
        order = np.concatenate([rng.permutation(np.flatnonzero(task_ids == t))
                                for t in range(len(per_task))])
        bounds = np.cumsum([0] + [len(idx) for idx in per_task])
        groups = tuple((t, int(bounds[t]), int(bounds[t + 1])) for t in range(len(per_task)))
    else:
        order = rng.permutation(len(indices))
        groups = ((None, 0, len(indices)),)
    return indices[order], task_ids[order], groups
