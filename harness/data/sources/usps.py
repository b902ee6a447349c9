"""USPS digits from `usps.h5`, the widely shared Kaggle repackaging (`bistaumanga/usps-dataset`).

Layout: groups `train` and `test`, each with `data` (N, 256) floats in [0, 1] (a 16x16 image,
row-major, 0 = background) and `target` (N,) integer labels 0-9; the standard split is 7,291
train and 2,007 test images. Pixels become uint8 as `rint(255 * x)`, so images that were
stored as `uint8 / 255` come back exactly; images are (N, 1, 16, 16).

No official checksum exists for this file: its md5 is recorded (and versions the cache) but not
checked. Reading HDF5 needs the optional package `h5py`; without it the import stops with a
one-line error that says to install it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.data.cache import CachedDataset, default_cache_root
from harness.data.sources.importing import (
    Converted,
    MissingDependencyError,
    SourceFormatError,
    file_md5,
    finish_import,
    resolve_file,
)

USPS_FILE = "usps.h5"
USPS_CLASSES = tuple("0123456789")
IMAGE_SIDE = 16
_RANGE_TOLERANCE = 1e-4  # float32 round-off around 0 and 1


def pixels_to_uint8(data: np.ndarray, where: str) -> np.ndarray:
    """(N, 256) floats in [0, 1] -> uint8 (N, 1, 16, 16); SourceFormatError otherwise."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != IMAGE_SIDE * IMAGE_SIDE:
        raise SourceFormatError(f"{where}: data has shape {data.shape}, expected "
                                f"(N, {IMAGE_SIDE * IMAGE_SIDE})")
    if not np.all(np.isfinite(data)):
        raise SourceFormatError(f"{where}: data holds NaN or infinite values")
    low, high = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
    if low < -_RANGE_TOLERANCE or high > 1 + _RANGE_TOLERANCE:
        raise SourceFormatError(f"{where}: pixels span {low:.3g}..{high:.3g}, expected [0, 1] "
                                "(this importer reads the Kaggle usps.h5 layout)")
    pixels = np.rint(np.clip(data, 0.0, 1.0) * 255.0).astype(np.uint8)
    return pixels.reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE)


def _h5py():
    try:
        import h5py
    except ImportError as exc:
        raise MissingDependencyError(
            "reading usps.h5 needs the h5py package, which is not installed; run "
            "`pip install h5py`, then import again"
        ) from exc
    return h5py


def read_usps_h5(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train"|"test": (float data (N, 256), labels (N,))} as stored in the file."""
    h5py = _h5py()
    splits = {}
    try:
        with h5py.File(path, "r") as f:
            for split in ("train", "test"):
                if f"{split}/data" not in f or f"{split}/target" not in f:
                    raise SourceFormatError(f"{path}: no {split}/data and {split}/target "
                                            "datasets; expected the Kaggle usps.h5 layout")
                splits[split] = (f[f"{split}/data"][()], f[f"{split}/target"][()])
    except OSError as exc:  # h5py reports unreadable, truncated and non-HDF5 files so
        raise SourceFormatError(f"{path}: not a readable HDF5 file ({exc})") from exc
    return splits


def _convert(path: Path) -> Converted:
    converted = {}
    for split, (data, target) in read_usps_h5(path).items():
        where = f"{path}:{split}"
        target = np.asarray(target)
        if target.ndim != 1 or not np.issubdtype(target.dtype, np.number):
            raise SourceFormatError(f"{where}: target has shape {target.shape} and dtype "
                                    f"{target.dtype}, expected (N,) integer labels")
        labels = target.astype(np.int64)
        if not np.array_equal(labels, target):
            raise SourceFormatError(f"{where}: target holds non-integer labels")
        converted[split] = (pixels_to_uint8(data, where), labels)
    return Converted(train=converted["train"], test=converted["test"],
                     class_names=USPS_CLASSES)


def import_usps(path: Path, root: Path | None = None, *, name: str = "usps") -> CachedDataset:
    """Import `usps.h5` (PATH is the file or the folder holding it) into the cache at `root`."""
    file = resolve_file(Path(path), USPS_FILE)
    _h5py()  # fail on the missing package before hashing anything
    digests = {file.name: file_md5(file)}
    source = {"format": "usps-h5", "md5_verified": False}
    return finish_import(root or default_cache_root(), name, "usps-h5", digests,
                         lambda: _convert(file), source)
