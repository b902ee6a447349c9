"""CIFAR-10 and CIFAR-100 from the official python archives of www.cs.toronto.edu/~kriz/cifar.

`cifar-10-python.tar.gz` holds `cifar-10-batches-py/{data_batch_1..5, test_batch,
batches.meta}`; `cifar-100-python.tar.gz` holds `cifar-100-python/{train, test, meta}`. Each
batch is a pickled dict (Python 2 strings, hence read with `encoding="bytes"`) whose `data` is
uint8 (N, 3072): 1024 red, then 1024 green, then 1024 blue values, each a 32x32 image in
row-major order, so a reshape to (N, 3, 32, 32) is the cache layout with no copy of pixels.

The archive's md5 is checked against the published value before anything is read. The pickles
are then read with `_BatchUnpickler`, which only rebuilds plain containers and numpy arrays, so
a crafted archive cannot run code even when a caller skips the checksum (tests do).

CIFAR-100 is cached with its 100 fine labels; the 20 coarse (superclass) names and the map
from each fine label to its coarse label are kept in the source metadata (`coarse_label_names`,
`fine_to_coarse`), after checking that every fine class lies in exactly one superclass.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from harness.data.cache import CachedDataset, default_cache_root
from harness.data.sources.importing import (
    Converted,
    SourceFormatError,
    finish_import,
    resolve_file,
    verify_md5,
)

CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR100_ARCHIVE = "cifar-100-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
_FIX = "download it again from https://www.cs.toronto.edu/~kriz/cifar.html"
_IMAGE_SHAPE = (3, 32, 32)
# What a CIFAR pickle may rebuild: numpy arrays (under numpy 1 and 2 module names) and the
# codec that Python 3 uses for Python 2 byte strings.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR batch")
        return super().find_class(*_ALLOWED_GLOBALS[(module, name)])


def _load_pickle(raw: bytes) -> dict[str, Any]:
    obj = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    if not isinstance(obj, dict):
        raise pickle.UnpicklingError(f"a batch is a {type(obj).__name__}, expected a dict")
    return {k.decode() if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def read_archive(path: Path, folder: str, members: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{member: unpickled dict} for `folder/member` of the tar.gz at `path`."""
    wanted = {f"{folder}/{m}": m for m in members}
    found: dict[str, dict[str, Any]] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:
                key = str(PurePosixPath(info.name))
                if key in wanted and info.isfile():
                    found[wanted[key]] = _load_pickle(tar.extractfile(info).read())
    except (tarfile.TarError, OSError, EOFError, zlib.error, pickle.UnpicklingError,
            ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        # A corrupt pickle can fail in any of these ways; none of them is a harness bug.
        raise SourceFormatError(f"{path}: truncated or corrupt archive "
                                f"({type(exc).__name__}: {exc}); {_FIX}") from exc
    missing = [m for m in wanted if wanted[m] not in found]
    if missing:
        raise SourceFormatError(f"{path}: the archive has no {', '.join(missing)}; is it the "
                                f"official {Path(path).name}?")
    return found


def _batch_arrays(batch: dict[str, Any], label_key: str, where: str) -> tuple[np.ndarray, ...]:
    try:
        data = np.asarray(batch["data"])
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceFormatError(f"{where}: not a CIFAR batch ({type(exc).__name__}: {exc})"
                                ) from exc
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != np.prod(_IMAGE_SHAPE):
        raise SourceFormatError(f"{where}: data is {data.dtype} {data.shape}, expected uint8 "
                                f"(N, {np.prod(_IMAGE_SHAPE)})")
    if labels.shape != (len(data),):
        raise SourceFormatError(f"{where}: {len(data)} images but labels of shape "
                                f"{labels.shape}")
    return data.reshape(-1, *_IMAGE_SHAPE), labels


def _names(meta: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    try:
        return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in meta[key])
    except (KeyError, TypeError) as exc:
        raise SourceFormatError(f"{where}: meta has no list {key}") from exc


def import_cifar10(
    path: Path, root: Path | None = None, *, name: str = "cifar10",
    expected_md5: str | None = CIFAR10_MD5,
) -> CachedDataset:
    """Import `cifar-10-python.tar.gz` (PATH: the archive or its folder) into the cache."""
    archive = resolve_file(Path(path), CIFAR10_ARCHIVE)
    digest = verify_md5(archive, expected_md5, _FIX)
    batches = [f"data_batch_{i}" for i in range(1, 6)]

    def convert() -> Converted:
        found = read_archive(archive, "cifar-10-batches-py",
                             [*batches, "test_batch", "batches.meta"])
        train = [_batch_arrays(found[b], "labels", f"{archive}:{b}") for b in batches]
        return Converted(
            train=(np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])),
            test=_batch_arrays(found["test_batch"], "labels", f"{archive}:test_batch"),
            class_names=_names(found["batches.meta"], "label_names", str(archive)),
        )

    source = {"format": "cifar-python", "md5_verified": expected_md5 is not None}
    return finish_import(root or default_cache_root(), name, "cifar10-python",
                         {archive.name: digest}, convert, source)


def import_cifar100(
    path: Path, root: Path | None = None, *, name: str = "cifar100",
    expected_md5: str | None = CIFAR100_MD5,
) -> CachedDataset:
    """Import `cifar-100-python.tar.gz` (fine labels; coarse ones in the source metadata)."""
    archive = resolve_file(Path(path), CIFAR100_ARCHIVE)
    digest = verify_md5(archive, expected_md5, _FIX)

    def convert() -> Converted:
        found = read_archive(archive, "cifar-100-python", ["train", "test", "meta"])
        fine_to_coarse = _fine_to_coarse(found, archive)
        coarse_names = _names(found["meta"], "coarse_label_names", str(archive))
        return Converted(
            train=_batch_arrays(found["train"], "fine_labels", f"{archive}:train"),
            test=_batch_arrays(found["test"], "fine_labels", f"{archive}:test"),
            class_names=_names(found["meta"], "fine_label_names", str(archive)),
            source={"coarse_label_names": list(coarse_names), "fine_to_coarse": fine_to_coarse},
        )

    source = {"format": "cifar-python", "md5_verified": expected_md5 is not None}
    return finish_import(root or default_cache_root(), name, "cifar100-python",
                         {archive.name: digest}, convert, source)


def _fine_to_coarse(found: dict[str, dict[str, Any]], archive: Path) -> list[int]:
    """coarse label of each fine label; SourceFormatError if a fine class has two or none."""
    pairs = set()
    for split in ("train", "test"):
        fine = np.asarray(found[split].get("fine_labels", []), dtype=np.int64)
        coarse = np.asarray(found[split].get("coarse_labels", []), dtype=np.int64)
        if fine.shape != coarse.shape:
            raise SourceFormatError(f"{archive}:{split}: fine_labels and coarse_labels differ "
                                    "in length")
        pairs |= set(zip(fine.tolist(), coarse.tolist(), strict=True))
    mapping: dict[int, int] = {}
    for fine_label, coarse_label in sorted(pairs):
        if mapping.setdefault(fine_label, coarse_label) != coarse_label:
            raise SourceFormatError(f"{archive}: fine label {fine_label} has two coarse labels")
    num_fine = len(_names(found["meta"], "fine_label_names", str(archive)))
    if sorted(mapping) != list(range(num_fine)):
        raise SourceFormatError(f"{archive}: not every fine label 0..{num_fine - 1} occurs")
    return [mapping[f] for f in range(num_fine)]
