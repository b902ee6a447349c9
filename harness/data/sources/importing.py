"""What every importer shares: checksums, the validation carve-out, the cache version, the write.

An importer reads one published format and hands `finish_import` a `Converted` (official
train and test splits as uint8 (N, C, H, W) images and integer labels). `finish_import` then:

1. carves a **validation split** out of the official train split, so suites can tune without
   touching test data: for each class in increasing label order, a permutation of that class's
   train indices is drawn from one `numpy.random.default_rng(VAL_SEED)`, and its first
   `floor(VAL_FRACTION * n_class + 0.5)` indices go to "val" (10 %, rounded half up, so the
   class balance of train is kept). Both parts keep the original order. The official test
   split is never touched. Same labels → same carve-out, on every machine.
2. writes "train", "val" and "test" into the cache with `write_dataset`.

The cache **version** is 12 hex digits of sha256 over the importer's name, `IMPORT_FORMAT`, the
carve-out settings and the digests (md5s, or a content hash) of the source files. Re-importing
the same files therefore lands in the same folder, and `finish_import` returns that folder
without converting anything again (importing is idempotent). Bump `IMPORT_FORMAT` whenever a
converter's output changes, so old caches are not reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.cache import META_FILE, CachedDataset, load_cached, write_dataset
from harness.errors import DatasetMissingError, UserError

VAL_FRACTION = 0.1
VAL_SEED = 0
IMPORT_FORMAT = 1
_MD5_CHUNK_BYTES = 1 << 20


class ChecksumError(UserError, ValueError):
    """A source file's md5 differs from the published value."""


class SourceFormatError(UserError, ValueError):
    """A source file is truncated, corrupt or not in the layout its importer reads."""


class MissingDependencyError(UserError, ImportError):
    """An importer needs an optional package that is not installed."""


@dataclass(frozen=True)
class Converted:
    """The official splits of one source, decoded. Images uint8 (N, C, H, W); labels int (N,).

    `source` adds format-specific provenance (e.g. CIFAR-100's coarse labels) to meta.json.
    """

    train: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    class_names: tuple[str, ...]
    source: Mapping[str, Any] = field(default_factory=dict)


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_MD5_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path: Path, expected: str | None, fix: str) -> str:
    """The file's md5; raises ChecksumError naming both md5s and `fix` when they differ.

    `expected` None skips the comparison (formats that have no published checksum).
    """
    actual = file_md5(path)
    if expected is not None and actual != expected.lower():
        raise ChecksumError(
            f"{path}: md5 is {actual}, expected {expected.lower()} (the published value); "
            f"the file is incomplete or not the official one; {fix}"
        )
    return actual


def resolve_file(path: Path, filename: str) -> Path:
    """`path` itself if it is a file, else `path/filename`; DatasetMissingError if absent."""
    path = Path(path)
    candidate = path if path.is_file() else path / filename
    if not candidate.is_file():
        raise DatasetMissingError(f"{candidate}: no such file; PATH must be {filename} or the "
                                  "folder that holds it")
    return candidate


def carve_validation(
    labels: np.ndarray, fraction: float = VAL_FRACTION, seed: int = VAL_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, val indices) of a stratified split of `labels` (see the module doc).

    Both are sorted int64 arrays; together they are a partition of range(len(labels)).
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = int(np.floor(fraction * len(members) + 0.5))
        parts.append(rng.permutation(members)[:count])
    val = np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    keep = np.ones(len(labels), dtype=bool)
    keep[val] = False
    return np.flatnonzero(keep).astype(np.int64), val.astype(np.int64)


def import_version(importer: str, digests: Mapping[str, str]) -> str:
    """12 hex digits identifying the imported content (see the module doc)."""
    payload = {
        "importer": importer,
        "format": IMPORT_FORMAT,
        "val_fraction": VAL_FRACTION,
        "val_seed": VAL_SEED,
        "digests": dict(sorted(digests.items())),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def finish_import(
    root: Path,
    name: str,
    importer: str,
    digests: Mapping[str, str],
    convert: Callable[[], Converted],
    source: Mapping[str, Any],
) -> CachedDataset:
    """Convert (unless this version is cached already), carve "val", write; the cached dataset.

    `digests` identify the source files (name -> md5 or content hash); `source` is provenance
    for meta.json (the digests, the importer and the carve-out settings are added to it).
    """
    version = import_version(importer, digests)
    folder = Path(root) / f"{name}-{version}"
    if (folder / META_FILE).is_file():
        return load_cached(folder)
    converted = convert()
    train_images, train_labels = converted.train
    _check_labels(name, converted)
    train_idx, val_idx = carve_validation(train_labels)
    if len(val_idx) == 0:
        raise SourceFormatError(f"{name}: the train split has too few images per class "
                                f"({len(train_labels)} in all) to carve a validation split")
    splits = {
        "train": (train_images[train_idx], train_labels[train_idx]),
        "val": (train_images[val_idx], train_labels[val_idx]),
        "test": converted.test,
    }
    provenance = {
        "kind": "imported",
        "importer": importer,
        "digests": dict(digests),
        "val_fraction": VAL_FRACTION,
        "val_seed": VAL_SEED,
        "official_train_size": len(train_labels),
        **converted.source,
        **source,
    }
    try:
        return write_dataset(Path(root), name, version, splits, converted.class_names,
                             provenance)
    except ValueError as exc:  # shapes, dtypes: a converter bug or an unusual source
        raise SourceFormatError(f"{name}: cannot cache the converted data ({exc})") from exc


def _check_labels(name: str, converted: Converted) -> None:
    num_classes = len(converted.class_names)
    for split, (images, labels) in (("train", converted.train), ("test", converted.test)):
        if len(labels) != len(images):
            raise SourceFormatError(f"{name}: the {split} split has {len(images)} images but "
                                    f"{len(labels)} labels")
        if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
            raise SourceFormatError(
                f"{name}: {split} labels span {labels.min()}..{labels.max()}, expected "
                f"0..{num_classes - 1} ({num_classes} classes); the source is corrupt"
            )
