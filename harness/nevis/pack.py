"""A stream's worker files and the parent's scoring plan, for one side of the protocol.

The dev stream (tuning) trains on each task's ``train`` split and is scored on ``dev_test``;
the test stream (evaluation) trains on ``train`` + ``dev_test`` and is scored on ``test``. Both
offer the task's ``dev`` split to the in-task search helper. Labels follow the task-incremental
convention of `harness.api`: task t's classes are the global ids ``offset_t .. offset_t + k_t -
1`` (its own label space, placed side by side), `predict` is given the task index and the
argmax is taken over the task's classes.

Files (one folder per packing, named by a hash of its content's fingerprints, written once,
atomically), in the keys the worker sandbox binds (`harness.runner.sandbox.DATA_FILE_KEYS`):
``train_images`` (every task's training and dev images, uint8), ``train_tasks`` (per task the
indices of its training and dev images, their labels and the task's classes) and
``eval_inputs`` (every task's scored inputs, in task order). The scored labels stay in the
parent's `StreamPlan`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from harness.nevis.tasks import MaterializedTask

Side = Literal["dev", "test"]


@dataclass(frozen=True)
class StreamPlan:
    """What the parent needs to run and score one side of a stream."""

    side: Side
    task_names: tuple[str, ...]
    task_years: tuple[int, ...]
    num_classes: tuple[int, ...]
    num_train: tuple[int, ...]
    eval_labels: np.ndarray    # global ids, every task's scored samples in task order
    eval_task_ids: np.ndarray  # task index of each scored sample
    files: dict[str, str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    fingerprints: dict[str, str]  # "dataset/split" -> fingerprint, of every split read

    @property
    def num_tasks(self) -> int:
        return len(self.task_names)

    @property
    def num_outputs(self) -> int:
        return int(sum(self.num_classes))

    @property
    def num_eval(self) -> tuple[int, ...]:
        return tuple(int((self.eval_task_ids == t).sum()) for t in range(self.num_tasks))


def _parts(task: MaterializedTask, side: Side) -> tuple[list[str], str]:
    return (["train"] if side == "dev" else ["train", "dev_test"]), \
        ("dev_test" if side == "dev" else "test")


def pack_stream(tasks: list[MaterializedTask], side: Side, root: Path) -> StreamPlan:
    """Write (once) and describe the worker files of `tasks` as the `side` stream."""
    fingerprints: dict[str, str] = {}
    for m in tasks:
        train_splits, scored = _parts(m, side)
        for split in [*train_splits, "dev", scored]:
            fingerprints[f"{m.dataset.name}/{split}"] = m.dataset.split_fingerprints[split]
    # The files follow the task order (eval inputs, task_{t} entries, label offsets): the key
    # is the ordered list, so the same tasks in another order never share a folder.
    ordered = [[m.dataset.name, m.num_classes,
                [m.dataset.split_fingerprints[s] for s in (*_parts(m, side)[0], "dev",
                                                            _parts(m, side)[1])]]
               for m in tasks]
    key = hashlib.sha256(json.dumps([side, ordered]).encode()).hexdigest()[:16]
    folder = root / f"nevis-{side}-{key}"
    eval_labels, eval_task_ids, num_train = [], [], []
    offset = 0
    for t, m in enumerate(tasks):
        train_splits, scored = _parts(m, side)
        num_train.append(sum(m.dataset.split_sizes[s] for s in train_splits))
        labels = m.dataset.labels(scored)
        eval_labels.append(labels + offset)
        eval_task_ids.append(np.full(len(labels), t, np.int64))
        offset += m.num_classes
    if not (folder / "eval_inputs.npy").exists():
        _write(tasks, side, folder)
    stats = np.load(folder / "stats.npy")
    return StreamPlan(
        side=side, task_names=tuple(m.task.name for m in tasks),
        task_years=tuple(m.task.year for m in tasks),
        num_classes=tuple(m.num_classes for m in tasks), num_train=tuple(num_train),
        eval_labels=np.concatenate(eval_labels), eval_task_ids=np.concatenate(eval_task_ids),
        files={k: str(folder / f"{k}.{ext}") for k, ext in
               (("train_images", "npy"), ("train_tasks", "npz"), ("eval_inputs", "npy"))},
        mean=tuple(float(v) for v in stats[0]), std=tuple(float(v) for v in stats[1]),
        fingerprints=fingerprints)


def _write(tasks: list[MaterializedTask], side: Side, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    images, scored_inputs, arrays = [], [], {}
    count, offset = 0, 0
    for t, m in enumerate(tasks):
        train_splits, scored = _parts(m, side)
        for role, splits in (("train", train_splits), ("dev", ["dev"])):
            x = np.concatenate([m.dataset.images(s) for s in splits])
            y = np.concatenate([m.dataset.labels(s) for s in splits]) + offset
            images.append(x)
            arrays[f"task_{t}_{role}_indices"] = np.arange(count, count + len(x))
            arrays[f"task_{t}_{role}_labels"] = y
            count += len(x)
        arrays[f"task_{t}_classes"] = np.arange(offset, offset + m.num_classes)
        scored_inputs.append(np.asarray(m.dataset.images(scored)))
        offset += m.num_classes
    train_images = np.concatenate(images)
    pixels = train_images.astype(np.float32).transpose(1, 0, 2, 3).reshape(
        train_images.shape[1], -1) / 255.0
    np.save(tmp / "stats.npy", np.stack([pixels.mean(axis=1), pixels.std(axis=1)]))
    np.save(tmp / "train_images.npy", train_images)
    np.savez(tmp / "train_tasks.npz", **arrays)
    np.save(tmp / "eval_inputs.npy", np.concatenate(scored_inputs))  # written last: the marker
    try:
        tmp.rename(folder)
    except OSError:  # packed concurrently by another process
        shutil.rmtree(tmp, ignore_errors=True)


def plan_payload(plan: StreamPlan) -> dict[str, Any]:
    """The stream facts the worker needs (no task names: the job file is readable by the
    submission, and a learner has no business special-casing a task by name)."""
    return {**plan.files, "num_tasks": plan.num_tasks, "num_outputs": plan.num_outputs,
            "mean": list(plan.mean), "std": list(plan.std),
            "groups": [[t, int(np.flatnonzero(plan.eval_task_ids == t)[0]),
                        int(np.flatnonzero(plan.eval_task_ids == t)[-1]) + 1]
                       for t in range(plan.num_tasks)]}
