"""Materializing a stream task: its source → four splits at the stream's image shape, cached.

A task's source (procedural generator, cached dataset, Hugging Face dataset) is read, its
images fitted to the stream's (C, H, W) by the task's `ImagePolicy`, and its samples divided into
the four NEVIS splits (`carve_splits`). The result is an ordinary cached dataset
(`harness.data.cache`) with splits ``train``, ``dev``, ``dev_test`` and ``test``, named
``nevis-<task>`` and versioned by a hash of everything that decides its bytes, so every run
records its fingerprint and a change of source, policy or shape rebuilds it.

Splits (fractions are stratified per class, seeded by the suite's `split_seed`):

- ``test``: the source's test split; if the source has none, 15 % of its train split;
- ``dev`` (in-task model selection): the source's dev split; if none, 15 % of the train split
  (so a single-split source ends 70 / 15 / 15 train / dev / test);
- ``dev_test`` (what the dev stream is scored on): 15 % of what remains of train, always
  carved from train, as in NEVIS'22; the test stream trains on ``train`` + ``dev_test``.

A task whose data cannot be had (a dataset not imported, the Hub unreachable) raises
`TaskUnavailable` with a one-line reason; `harness.nevis.evaluation` reports it and runs the
stream on the tasks that are available.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import sys
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from harness.data.cache import CachedDataset, DatasetCache, load_cached, write_dataset
from harness.data.procedural import ProceduralSpec
from harness.data.sources.importing import carve_validation
from harness.errors import DatasetMissingError, UserError
from harness.nevis.generators import GENERATORS
from harness.nevis.stream import (
    DatasetSource,
    HubSource,
    ImagePolicy,
    NevisSuite,
    ProceduralSource,
    StreamTask,
)

SPLIT_FRACTION = 0.15
STREAM_SPLITS = ("train", "dev", "dev_test", "test")
_CHUNK = 2048


class TaskUnavailable(UserError):
    """A stream task's data cannot be had on this machine (one-line reason)."""


@dataclass(frozen=True)
class MaterializedTask:
    task: StreamTask
    dataset: CachedDataset  # splits train, dev, dev_test, test at the stream's image shape

    @property
    def num_classes(self) -> int:
        return self.dataset.num_classes


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "task"


def fit_images(images: np.ndarray, shape: tuple[int, int, int],
               policy: ImagePolicy) -> np.ndarray:
    """uint8 (N, C, H, W) images → uint8 (N, *shape) by `policy` (see `ImagePolicy`)."""
    channels, height, width = shape
    out = np.empty((len(images), *shape), np.uint8)
    for lo in range(0, len(images), _CHUNK):
        x = torch.from_numpy(np.ascontiguousarray(images[lo:lo + _CHUNK])).float()
        if x.shape[1] != channels:
            x = x.mean(dim=1, keepdim=True) if channels == 1 else x[:, :1].expand(-1, 3, -1, -1)
        if policy is ImagePolicy.CROP:
            side = min(x.shape[2:])
            top, left = (x.shape[2] - side) // 2, (x.shape[3] - side) // 2
            x = x[:, :, top:top + side, left:left + side]
        if policy is ImagePolicy.PAD:
            x = _pad_or_crop(x, height, width)
        elif tuple(x.shape[2:]) != (height, width):
            x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True,
                              align_corners=False)
        out[lo:lo + _CHUNK] = x.round().clamp(0, 255).to(torch.uint8).numpy()
    return out


def _pad_or_crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    canvas = torch.zeros((*x.shape[:2], height, width), dtype=x.dtype)
    h, w = min(height, x.shape[2]), min(width, x.shape[3])
    sy, sx = (x.shape[2] - h) // 2, (x.shape[3] - w) // 2
    ty, tx = (height - h) // 2, (width - w) // 2
    canvas[:, :, ty:ty + h, tx:tx + w] = x[:, :, sy:sy + h, sx:sx + w]
    return canvas


def carve_splits(labels: dict[str, np.ndarray], seed: int) -> dict[str, tuple[str, np.ndarray]]:
    """Role → (source split, indices into it) for the four stream splits (see module doc).

    `labels` maps role (train, and optionally dev and test) to that source split's labels.
    """
    train = np.arange(len(labels["train"]))
    out: dict[str, tuple[str, np.ndarray]] = {}
    for role, offset in (("test", 1), ("dev", 2)):
        if role in labels:
            out[role] = (role, np.arange(len(labels[role])))
        else:
            fraction = SPLIT_FRACTION * len(labels["train"]) / max(1, len(train))
            keep, carved = carve_validation(labels["train"][train], fraction, seed + offset)
            out[role], train = ("train", train[carved]), train[keep]
    keep, carved = carve_validation(labels["train"][train], SPLIT_FRACTION, seed + 3)
    out["dev_test"], out["train"] = ("train", train[carved]), ("train", train[keep])
    return out


def _limit(indices: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    if limit is None or len(indices) <= limit:
        return indices
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(indices, size=limit, replace=False))


def materialize(suite: NevisSuite, task: StreamTask, cache: DatasetCache) -> MaterializedTask:
    """The task's cached four-split dataset, built on first use; TaskUnavailable if no data."""
    source = _source_dataset(task, cache, suite.image_shape)
    # A Hub copy converted with its own split names (e.g. food-101's "validation" as the test
    # split) holds them as "train" and "test": the task's roles follow.
    renamed = {hub: cached for cached, hub in source.source.get("hub_splits", {}).items()}
    roles = {role: renamed.get(split, split) for role, split in task.splits.items()}
    if "dev" not in roles and "val" in source.split_sizes and not isinstance(
            task.source, ProceduralSource):
        roles["dev"] = "val"  # an importer's validation carve-out of the official train split
    missing = [s for s in roles.values() if s not in source.split_sizes]
    if missing:
        raise TaskUnavailable(f'task "{task.name}": its source {source.name} has no split '
                              f"{missing[0]} (it has {', '.join(sorted(source.split_sizes))})")
    recipe = {"source": source.fingerprint, "roles": roles, "shape": suite.image_shape,
              "policy": task.image_policy.value, "seed": suite.split_seed,
              "limits": [task.max_train_samples, task.max_test_samples],
              "code": hashlib.sha256(inspect.getsource(sys.modules[__name__]).encode())
              .hexdigest()}
    version = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    name = f"nevis-{slug(task.name)}"
    folder = cache.root / f"{name}-{version}"
    if (folder / "meta.json").is_file():
        return MaterializedTask(task, load_cached(folder))
    labels = {role: source.labels(split) for role, split in roles.items()}
    carved = carve_splits(labels, suite.split_seed)
    splits = {}
    for role, (source_role, indices) in carved.items():
        limit = task.max_train_samples if role == "train" else (
            task.max_test_samples if role == "test" else None)
        indices = _limit(indices, limit, suite.split_seed + len(role))
        split = roles[source_role]
        images = source.images(split)[np.sort(indices)] if len(indices) else \
            np.zeros((0, *source.image_shape), np.uint8)
        splits[role] = (fit_images(images, suite.image_shape, task.image_policy),
                        source.labels(split)[np.sort(indices)])
    empty = [role for role, (_, y) in splits.items() if len(y) == 0]
    if empty:
        raise TaskUnavailable(f'task "{task.name}": too few samples to carve its '
                              f"{', '.join(empty)} split(s)")
    provenance = {"kind": "nevis-task", "task": task.name, "year": task.year,
                  "source_dataset": source.name, "source_fingerprint": source.fingerprint,
                  **recipe}
    return MaterializedTask(task, write_dataset(cache.root, name, version, splits,
                                                source.class_names, provenance))


def _source_dataset(task: StreamTask, cache: DatasetCache,
                    image_shape: tuple[int, int, int]) -> CachedDataset:
    source = task.source
    if isinstance(source, ProceduralSource):
        kind = GENERATORS[source.generator]
        train, dev, test = source.per_class
        spec = ProceduralSpec(f"nevis-src-{slug(task.name)}", source.class_names, kind.render,
                              train_per_class=train, val_per_class=dev, test_per_class=test,
                              seed=source.seed, params=source.params)
        return DatasetCache(cache.root, specs={spec.name: spec}).get(spec.name)
    if isinstance(source, DatasetSource):
        try:
            return cache.get(source.dataset)
        except DatasetMissingError as exc:
            raise TaskUnavailable(f'task "{task.name}": {exc}') from exc
    return _hub_dataset(task, source, cache, image_shape)


_HUB_FAILURES: dict[str, str] = {}  # host-wide reasons, so one unreachable Hub costs one try


# Photo datasets of mixed image sizes are cached at this side or the stream's, if larger: the
# centre square, later fitted to the stream's shape by the task's crop policy. Datasets of one
# image size are cached as they are (`harness.data.sources.hub.convert_hf`).
HUB_PHOTO_SIZE = 64


def _hub_dataset(task: StreamTask, source: HubSource, cache: DatasetCache,
                 image_shape: tuple[int, int, int] = (3, HUB_PHOTO_SIZE, HUB_PHOTO_SIZE),
                 ) -> CachedDataset:
    """A cached copy of the Hub dataset (imported from files or from the Hub earlier), else a
    download through `datasets`; TaskUnavailable with the reason when neither works.

    A task with the crop policy takes photos of mixed sizes: they are converted at a fixed
    square size (`HUB_PHOTO_SIZE`); its Hub splits are the ones its `splits` name for train and
    test.
    """
    from harness.data.sources import KNOWN_DATASETS
    from harness.data.sources.hub import from_hub

    # A dataset with several label columns (CIFAR-100's fine and coarse labels) is several
    # datasets: a cached copy or an importer counts only if its labels are the task's.
    names = [*source.local, *(k.name for k in KNOWN_DATASETS.values()
                              if k.hub_id == source.hub and k.name not in source.local
                              and k.hub_label_column == source.label_column)]
    columns = [source.image_column, source.label_column]
    hub_splits = {"train": task.splits.get("train", "train"),
                  "test": task.splits.get("test", "test")}
    size = max(HUB_PHOTO_SIZE, *image_shape[1:]) if task.image_policy is ImagePolicy.CROP \
        else None
    for dataset in cache.list():
        converted = dataset.source
        if converted.get("hub_id") == source.hub and converted.get("config") == source.config \
                and converted.get("columns", columns)[1:] == columns[1:] \
                and converted.get("image_size") in (None, size) \
                and converted.get("hub_splits", {"train": "train", "test": "test"}) == hub_splits:
            return dataset
    for name in names:
        try:
            return cache.get(name)
        except DatasetMissingError:
            continue
    name = f"hub-{slug(source.hub)}" + (
        "" if source.label_column == "label" else f"-{slug(source.label_column)}")
    custom_splits = hub_splits if hub_splits != {"train": "train", "test": "test"} else None
    # No importer reads this dataset's files: a machine that reaches the Hub converts it into
    # the harness cache, whose folders are plain files that can be copied.
    hint = (f"import its files with `harness data import {names[0]} PATH`" if names else
            f"convert it where the Hub is reachable (a `harness evaluate` of this suite there) "
            f"and copy that cache's `{name}-*` folder into {cache.root}")
    if "hub" in _HUB_FAILURES:
        raise TaskUnavailable(f'task "{task.name}": {source.hub} is not in the cache and '
                              f"{_HUB_FAILURES['hub']}; {hint}")
    try:
        return from_hub(source.hub, cache.root, name=name,
                        config=source.config, image_column=source.image_column,
                        label_column=source.label_column, offline_hint=hint,
                        image_size=size, splits=custom_splits)
    except UserError as exc:
        if "unreachable" in str(exc):
            _HUB_FAILURES["hub"] = "the Hugging Face Hub is unreachable"
        raise TaskUnavailable(f'task "{task.name}": {exc}') from exc
