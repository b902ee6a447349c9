"""The on-disk dataset cache: compact uint8 arrays, one folder per dataset version.

Layout (one folder per dataset and version; images and labels in separate files so that a
worker process can open the inputs without ever seeing the labels):

    <root>/<name>-<version>/meta.json
                           /train_images.npy   uint8 (N, C, H, W), memory-mappable
                           /train_labels.npy   int64 (N,)
                           /val_images.npy ... (one pair per split)

`<version>` is decided by whoever writes the data: for procedural datasets a hash of the
generating code's source and the spec (`procedural.dataset_version`), so editing a generator
rebuilds its cache; for imported datasets whatever identifies the source (e.g. the archive's
md5). `meta.json` is written last and the folder appears by one atomic `os.rename`, so a reader
never sees a half-written dataset. The root is `$HARNESS_CACHE_DIR`, else
`~/.cache/harness/data`.

Fingerprints: a split's fingerprint is sha256 over its images' shape, dtype and bytes, then its
labels'; the dataset fingerprint is sha256 over the sorted `split:fingerprint` lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.configfile import did_you_mean
from harness.data import procedural
from harness.data.procedural import PROCEDURAL_DATASETS, ProceduralSpec
from harness.errors import DatasetMissingError

META_FILE = "meta.json"
FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9]+$")  # no "-": the folder name splits at its last "-"
_SPLIT = re.compile(r"^[a-z][a-z0-9_]*$")
_STATS_CHUNK = 4096  # images per chunk when computing mean/std: bounded float64 memory


def default_cache_root() -> Path:
    """`$HARNESS_CACHE_DIR` if set, else `~/.cache/harness/data`."""
    configured = os.environ.get("HARNESS_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "harness" / "data"


@dataclass(frozen=True)
class CachedDataset:
    """A dataset in the cache: its metadata, and its arrays opened on demand.

    `mean` and `std` are per channel over the train split (over all splits if there is none),
    in [0, 1] intensity units, for input normalisation.
    """

    name: str
    root: Path
    fingerprint: str
    split_fingerprints: dict[str, str]
    class_names: tuple[str, ...]
    split_sizes: dict[str, int]
    image_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: dict

    @property
    def version(self) -> str:
        return self.root.name.rsplit("-", 1)[-1]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def _check_split(self, split: str) -> None:
        if split not in self.split_sizes:
            raise DatasetMissingError(
                f'dataset "{self.name}" has no split "{split}"'
                f"{did_you_mean(split, self.split_sizes)}; it has "
                f"{', '.join(sorted(self.split_sizes))}"
            )

    def images_path(self, split: str) -> Path:
        self._check_split(split)
        return self.root / f"{split}_images.npy"

    def labels_path(self, split: str) -> Path:
        self._check_split(split)
        return self.root / f"{split}_labels.npy"

    def images(self, split: str, mmap: bool = True) -> np.ndarray:
        """uint8 (N, C, H, W); memory-mapped read-only unless `mmap` is False."""
        return np.load(self.images_path(split), mmap_mode="r" if mmap else None)

    def labels(self, split: str) -> np.ndarray:
        """int64 (N,) class indices into `class_names`."""
        return np.load(self.labels_path(split))

    def verify(self) -> None:
        """Re-hash every file; a mismatch with meta.json raises DatasetMissingError."""
        for split in self.split_sizes:
            actual = _split_fingerprint(self.images(split), self.labels(split))
            if actual != self.split_fingerprints[split]:
                raise DatasetMissingError(
                    f"{self.root}: split {split} does not match its fingerprint (the files "
                    "changed on disk); delete the folder so it is rebuilt or re-imported"
                )


def _split_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in (images, labels):
        digest.update(f"{array.dtype.str}{array.shape}|".encode())
        # Chunks keep memory flat when `images` is a memory map of a large split.
        for start in range(0, len(array), _STATS_CHUNK):
            digest.update(np.ascontiguousarray(array[start : start + _STATS_CHUNK]).data)
    return digest.hexdigest()


def _dataset_fingerprint(split_fingerprints: Mapping[str, str]) -> str:
    lines = "".join(f"{split}:{fp}\n" for split, fp in sorted(split_fingerprints.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _channel_stats(images: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 (N, C, H, W) in [0, 1] units, in bounded memory."""
    channels = images.shape[1]
    total = np.zeros(channels)
    total_sq = np.zeros(channels)
    for start in range(0, len(images), _STATS_CHUNK):
        chunk = np.asarray(images[start : start + _STATS_CHUNK], dtype=np.float64) / 255.0
        total += chunk.sum(axis=(0, 2, 3))
        total_sq += np.square(chunk).sum(axis=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def _validate_splits(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]], num_classes: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Check shapes, dtypes and label range; returns labels as int64. Raises ValueError."""
    if not splits:
        raise ValueError("a dataset needs at least one split")
    shapes = {}
    checked = {}
    for split, (images, labels) in splits.items():
        if not _SPLIT.match(split):
            raise ValueError(f'split name "{split}" must match {_SPLIT.pattern}')
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(
                f"{split} images must be uint8 (N, C, H, W) with C = 1 or 3, "
                f"got {images.dtype} {images.shape}"
            )
        if not np.issubdtype(labels.dtype, np.integer) or labels.shape != images.shape[:1]:
            raise ValueError(
                f"{split} labels must be integers of shape ({len(images)},), "
                f"got {labels.dtype} {labels.shape}"
            )
        if len(labels) == 0:
            raise ValueError(f"{split} split is empty")
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(
                f"{split} labels must be in 0..{num_classes - 1} ({num_classes} class names), "
                f"got {labels.min()}..{labels.max()}"
            )
        shapes[split] = images.shape[1:]
        checked[split] = (images, labels.astype(np.int64))
    if len(set(shapes.values())) > 1:
        raise ValueError(f"all splits must have the same image shape, got {shapes}")
    return checked


def write_dataset(
    root: Path,
    name: str,
    version: str,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    class_names: Sequence[str],
    source: dict,
) -> CachedDataset:
    """Write `splits` ({split: (images uint8 (N,C,H,W), labels int (N,))}) into the cache.

    Atomic: the files go into a temporary folder next to the target, which is then renamed.
    If another process wrote the same name and version first, theirs is kept and returned.
    Raises ValueError for bad names, shapes, dtypes or labels.
    """
    if not _NAME.match(name):
        raise ValueError(f'dataset name "{name}" must match {_NAME.pattern}')
    if not _VERSION.match(version):
        raise ValueError(f'dataset version "{version}" must be letters and digits only')
    class_names = tuple(class_names)
    if not class_names or len(set(class_names)) != len(class_names):
        raise ValueError(f"class_names must be distinct and non-empty, got {class_names}")
    checked = _validate_splits(splits, len(class_names))
    meta = _describe(name, checked, class_names, source)
    json.dumps(meta)  # fail before writing anything if `source` is not JSON-serialisable
    root = Path(root)
    target = root / f"{name}-{version}"
    if (target / META_FILE).is_file():
        return load_cached(target)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-{version}-", dir=root))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        for split, (images, labels) in checked.items():
            _save_array(staging / f"{split}_images.npy", images)
            _save_array(staging / f"{split}_labels.npy", labels)
        _save_text(staging / META_FILE, json.dumps(meta, indent=2) + "\n")
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
            # Another process won the race and renamed a complete folder first: use theirs
            # (`load_cached` below reports it if that folder is not a complete dataset).
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_cached(target)


def _describe(
    name: str,
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    class_names: tuple[str, ...],
    source: dict,
) -> dict[str, Any]:
    split_fingerprints = {s: _split_fingerprint(x, y) for s, (x, y) in splits.items()}
    stats_split = splits["train"][0] if "train" in splits else None
    if stats_split is None:
        stats_split = np.concatenate([images for images, _ in splits.values()])
    mean, std = _channel_stats(stats_split)
    return {
        "format_version": FORMAT_VERSION,
        "name": name,
        "class_names": list(class_names),
        "split_sizes": {s: len(y) for s, (_, y) in splits.items()},
        "image_shape": list(next(iter(splits.values()))[0].shape[1:]),
        "split_fingerprints": split_fingerprints,
        "fingerprint": _dataset_fingerprint(split_fingerprints),
        "mean": list(mean),
        "std": list(std),
        "source": source,
    }


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _save_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def load_cached(folder: Path) -> CachedDataset:
    """Open a cache folder. A missing or corrupted file raises DatasetMissingError.

    Checks meta.json and every array's header (shape, dtype) against it; it does not re-hash
    the data (see `CachedDataset.verify`).
    """
    folder = Path(folder)
    fix = "delete the folder so it is rebuilt (procedural) or re-imported (`harness data import`)"
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        dataset = _from_meta(folder, meta)
        for split, size in dataset.split_sizes.items():
            _check_array(dataset.images(split), np.uint8, (size, *dataset.image_shape))
            _check_array(np.load(dataset.labels_path(split), mmap_mode="r"), np.int64, (size,))
    except FileNotFoundError as exc:
        raise DatasetMissingError(f"{folder}: incomplete dataset ({exc.strerror}: "
                                  f"{Path(exc.filename or '').name}); {fix}") from exc
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DatasetMissingError(f"{folder}: corrupted dataset ({exc}); {fix}") from exc
    return dataset


def _from_meta(folder: Path, meta: dict[str, Any]) -> CachedDataset:
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format_version {meta.get('format_version')!r}, "
                         f"this harness reads {FORMAT_VERSION}")
    if set(meta["split_sizes"]) != set(meta["split_fingerprints"]):
        raise ValueError("split_sizes and split_fingerprints name different splits")
    return CachedDataset(
        name=str(meta["name"]),
        root=folder,
        fingerprint=str(meta["fingerprint"]),
        split_fingerprints={str(k): str(v) for k, v in meta["split_fingerprints"].items()},
        class_names=tuple(str(c) for c in meta["class_names"]),
        split_sizes={str(k): int(v) for k, v in meta["split_sizes"].items()},
        image_shape=tuple(int(d) for d in meta["image_shape"]),
        mean=tuple(float(m) for m in meta["mean"]),
        std=tuple(float(s) for s in meta["std"]),
        source=dict(meta["source"]),
    )


def _check_array(array: np.ndarray, dtype: type, shape: tuple[int, ...]) -> None:
    if array.dtype != dtype or array.shape != shape:
        raise ValueError(f"array is {array.dtype} {array.shape}, meta.json says {shape}")


class DatasetCache:
    """The datasets under one cache root; procedural ones are generated on first use.

    `sizes_override` ({split: samples per class}) shrinks or grows procedural datasets, for
    tests and quick runs; it is part of the version, so it never clobbers the default-sized
    data. `specs` replaces the registry of procedural datasets (default: PROCEDURAL_DATASETS).
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        sizes_override: Mapping[str, int] | None = None,
        specs: Mapping[str, ProceduralSpec] | None = None,
    ):
        self.root = Path(root) if root is not None else default_cache_root()
        self.sizes_override = dict(sizes_override or {})
        self.specs = dict(PROCEDURAL_DATASETS if specs is None else specs)
        for spec in self.specs.values():
            spec.per_class(self.sizes_override)  # reject a bad override now, not on first use

    def get(self, name: str) -> CachedDataset:
        """The dataset called `name`: procedural ones are generated and cached on first use."""
        if name in self.specs:
            return self._procedural(self.specs[name])
        found = [d for d in self._folders() if d.name.rsplit("-", 1)[0] == name]
        if found:
            # Several versions of an imported dataset: the most recently written one.
            newest = max(found, key=lambda d: (d / META_FILE).stat().st_mtime)
            return load_cached(newest)
        suggestion = did_you_mean(name, self.specs)
        if suggestion:
            raise DatasetMissingError(
                f'no dataset "{name}"{suggestion}; procedural datasets: '
                f"{', '.join(sorted(self.specs))}"
            )
        from harness.data.sources import missing_dataset_message  # lazy: sources imports us

        raise DatasetMissingError(missing_dataset_message(name, self.root))

    def _procedural(self, spec: ProceduralSpec) -> CachedDataset:
        version = procedural.dataset_version(spec, self.sizes_override)
        folder = self.root / f"{spec.name}-{version}"
        if folder.exists():
            return load_cached(folder)
        splits = procedural.generate(spec, self.sizes_override)
        source = procedural.provenance(spec, self.sizes_override)
        return write_dataset(self.root, spec.name, version, splits, spec.class_names, source)

    def _folders(self) -> list[Path]:
        """Dataset folders under the root (temporary and hidden ones excluded)."""
        if not self.root.is_dir():
            return []
        return sorted(
            d
            for d in self.root.iterdir()
            if d.is_dir() and not d.name.startswith(".") and (d / META_FILE).is_file()
        )

    def list(self) -> list[CachedDataset]:
        """Every dataset in the cache, sorted by folder name; unreadable folders are skipped
        (`damaged` lists them with the reason)."""
        datasets = []
        for folder in self._folders():
            try:
                datasets.append(load_cached(folder))
            except DatasetMissingError:
                continue
        return datasets

    def damaged(self) -> list[tuple[Path, str]]:
        """Dataset folders that cannot be opened (truncated or missing files, a broken
        meta.json), with the reason."""
        found = []
        for folder in self._folders():
            try:
                load_cached(folder)
            except DatasetMissingError as exc:
                found.append((folder, str(exc)))
        return found
