"""Datasets from the Hugging Face Hub, through the `datasets` library.

`convert_hf` is the pure conversion: a `datasets.DatasetDict` with "train" and "test" splits,
an image column (PIL images, encoded bytes or arrays) and an integer label column → the cache,
with the same validation carve-out as every other importer. Class names come from the label
column's `ClassLabel` feature when it has one. The cache version hashes the converted arrays
(sha256), so importing the same Hub revision twice lands in the same folder.

`from_hub` downloads with `datasets.load_dataset` (which keeps its own download cache under
`~/.cache/huggingface`); any failure to load, an unreachable Hub above all, becomes one line
that names the offline import command.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from harness.configfile import did_you_mean
from harness.data.cache import CachedDataset, default_cache_root
from harness.data.sources.imagefolder import MixedImageSizes, stack_images
from harness.data.sources.importing import (
    Converted,
    MissingDependencyError,
    SourceFormatError,
    finish_import,
)
from harness.errors import UserError

_BATCH_ROWS = 1024
_REASON_CHARS = 200


class HubUnreachableError(UserError, ConnectionError):
    """`datasets.load_dataset` failed: no network, no such dataset, or a Hub error."""


def check_hub_reachable(hub_id: str, offline_hint: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds, with one line, when the Hub's host cannot be reached at all.

    Without this, `load_dataset` retries with backoff for about half a minute and logs every
    retry. Skipped when offline mode (HF_HUB_OFFLINE, HF_DATASETS_OFFLINE: use the local
    Hugging Face cache) or a proxy is configured, since a direct connection says nothing then.
    """
    offline = any(os.environ.get(v, "").lower() not in ("", "0", "false", "no")
                  for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
    proxy = any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                                            "all_proxy"))
    if offline or proxy:
        return
    # The same endpoint huggingface_hub uses (its `constants.ENDPOINT`).
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        raise HubUnreachableError(
            f"cannot download {hub_id}: the Hugging Face Hub ({endpoint.hostname}) is "
            f"unreachable from this machine ({_reason(exc)}); {offline_hint}"
        ) from exc


def _reason(exc: BaseException) -> str:
    """The exception as one short line."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:_REASON_CHARS]}"


def _split_arrays(
    ds: Any, split: str, image_column: str, label_column: str, size: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    columns = list(ds.column_names)
    for column in (image_column, label_column):
        if column not in columns:
            raise SourceFormatError(f'the {split} split has no column "{column}"'
                                    f"{did_you_mean(column, columns)}; it has "
                                    f"{', '.join(columns)}")
    labels: list[int] = []

    def images():
        for batch in ds.select_columns([image_column, label_column]).iter(_BATCH_ROWS):
            labels.extend(batch[label_column])
            yield from batch[image_column]

    array = stack_images(images(), len(ds), lambda i: f"{split} row {i}", size=size)
    try:
        label_array = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise SourceFormatError(f'the {split} split\'s "{label_column}" column is not integer '
                                f"class labels ({exc})") from exc
    return array, label_array


def _class_names(ds: Any, label_column: str, given: Sequence[str] | None,
                 labels: Sequence[np.ndarray]) -> tuple[str, ...]:
    feature = ds.features.get(label_column)
    if getattr(feature, "names", None):
        return tuple(str(n) for n in feature.names)
    if given:
        return tuple(given)
    return tuple(str(i) for i in range(int(max(y.max() for y in labels)) + 1))


def _content_digest(converted: Converted) -> str:
    digest = hashlib.sha256()
    for images, labels in (converted.train, converted.test):
        for array in (images, labels):
            digest.update(f"{array.dtype.str}{array.shape}|".encode())
            digest.update(np.ascontiguousarray(array).data)
    digest.update("\n".join(converted.class_names).encode())
    return digest.hexdigest()


def convert_hf(
    dataset_dict: Mapping[str, Any], root: Path | None = None, *, name: str,
    image_column: str = "image", label_column: str = "label",
    class_names: Sequence[str] | None = None, hub_id: str | None = None,
    config: str | None = None, image_size: int | None = None,
    splits: Mapping[str, str] | None = None,
) -> CachedDataset:
    """Cache a `DatasetDict` under `name`; the cached dataset. `splits` names the Hub splits
    cached as "train" and "test" (default: those names); `image_size` takes images of any
    size, each cropped to its centre square at that size (`stack_images`)."""
    chosen = {"train": "train", "test": "test", **(splits or {})}
    missing = [s for s in chosen.values() if s not in dataset_dict]
    if missing:
        raise SourceFormatError(f"{hub_id or name}: no {' or '.join(missing)} split; it has "
                                f"{', '.join(dataset_dict) or 'none'}")
    def convert(size: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
        return [_split_arrays(dataset_dict[chosen[s]], chosen[s], image_column, label_column,
                              size) for s in ("train", "test")]

    # Images of one size are kept as they are, whatever `image_size` says, so a conversion
    # gives the same bytes on every machine and matches copies converted before sizes were
    # handled; only a dataset of mixed sizes is brought to `image_size`.
    try:
        (train, test), used_size = convert(None), None
    except MixedImageSizes:
        if image_size is None:
            raise
        (train, test), used_size = convert(image_size), image_size
    names = _class_names(dataset_dict[chosen["train"]], label_column, class_names,
                         [train[1], test[1]])
    converted = Converted(train=train, test=test, class_names=names)
    source = {"format": "huggingface", "hub_id": hub_id, "config": config,
              "columns": [image_column, label_column]}
    if used_size is not None or splits:
        source.update(image_size=used_size, hub_splits=chosen)
    return finish_import(root or default_cache_root(), name, f"huggingface:{hub_id}:{config}",
                         {"content_sha256": _content_digest(converted)}, lambda: converted,
                         source)


def from_hub(
    hub_id: str, root: Path | None = None, *, name: str | None = None,
    config: str | None = None, image_column: str = "image", label_column: str = "label",
    class_names: Sequence[str] | None = None, offline_hint: str | None = None,
    image_size: int | None = None, splits: Mapping[str, str] | None = None,
) -> CachedDataset:
    """Download `hub_id` with `datasets.load_dataset` and cache it (name: `name` or the id's
    last part). `offline_hint` (what to do instead) ends the error when the Hub cannot be
    reached."""
    offline = offline_hint or ("import the dataset's files instead with "
                               "`harness data import NAME PATH`")
    check_hub_reachable(hub_id, offline)  # before `import datasets`, which takes seconds
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependencyError("importing from the Hub needs the `datasets` package: "
                                     "`pip install datasets`") from exc
    try:
        loaded = datasets.load_dataset(hub_id, config)
    except Exception as exc:  # network, auth, not-found, cache errors: all end the import
        raise HubUnreachableError(
            f"could not load {hub_id} from the Hugging Face Hub ({_reason(exc)}); the Hub may "
            f"be unreachable from this machine: {offline}"
        ) from exc
    if not isinstance(loaded, Mapping):  # a DatasetDict is a dict
        raise SourceFormatError(f"{hub_id}: load_dataset returned a {type(loaded).__name__}, "
                                "expected a DatasetDict with train and test splits")
    return convert_hf(loaded, root, name=name or hub_id.rsplit("/", 1)[-1],
                      image_column=image_column, label_column=label_column,
                      class_names=class_names, hub_id=hub_id, config=config,
                      image_size=image_size, splits=splits)
