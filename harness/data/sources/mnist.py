"""MNIST from the four official IDX files (`train-images-idx3-ubyte.gz`, ...).

IDX format (big-endian): a 4-byte magic number (2051 for uint8 images, 2049 for uint8 labels:
two zero bytes, the type code 0x08, the number of dimensions), one uint32 per dimension, then
the uint8 values in row-major order. `read_idx` checks the magic number and that the payload
has exactly the size the header announces, so a truncated file is reported, not mis-shaped.

Every file's md5 is checked against the published value (`MNIST_MD5`, the values of
yann.lecun.com/exdb/mnist, as listed in /work/shared/data/mnist/README.md) before it is read.
Images become uint8 (N, 1, 28, 28): 0 is background, 255 full ink, as in the files.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from harness.data.cache import CachedDataset, default_cache_root
from harness.data.sources.importing import (
    Converted,
    SourceFormatError,
    finish_import,
    resolve_file,
    verify_md5,
)

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
UINT8_TYPE_CODE = 0x08

# (images file, labels file) of each official split.
MNIST_FILES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
})
MNIST_MD5: Mapping[str, str] = MappingProxyType({
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
})
MNIST_CLASSES = tuple("0123456789")
_FIX = "download the four files again from the official MNIST site or a mirror"


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The uint8 array stored in a gzipped IDX file whose magic number must be `magic`."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceFormatError(f"{path}: not a complete gzip file ({exc}); {_FIX}") from exc
    if len(raw) < 4:
        raise SourceFormatError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise SourceFormatError(f"{path}: IDX magic number is {found}, expected {magic} "
                                f"({'images' if magic == IMAGES_MAGIC else 'labels'})")
    ndim = magic & 0xFF
    header_bytes = 4 + 4 * ndim
    if len(raw) < header_bytes:
        raise SourceFormatError(f"{path}: truncated inside the IDX header; {_FIX}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected_bytes = header_bytes + int(np.prod(dims))
    if len(raw) != expected_bytes:
        raise SourceFormatError(
            f"{path}: {len(raw)} bytes after decompression, but its header {dims} needs "
            f"{expected_bytes}; the file is truncated or corrupt; {_FIX}"
        )
    return np.frombuffer(raw, np.uint8, offset=header_bytes).reshape(dims)


def _read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if len(images) != len(labels):
        raise SourceFormatError(f"{images_path} holds {len(images)} images but {labels_path} "
                                f"holds {len(labels)} labels")
    return images[:, None, :, :].copy(), labels.astype(np.int64)


def import_mnist(
    path: Path,
    root: Path | None = None,
    *,
    name: str = "mnist",
    expected_md5: Mapping[str, str] | None = MNIST_MD5,
    class_names: tuple[str, ...] = MNIST_CLASSES,
) -> CachedDataset:
    """Import the folder `path` holding the four MNIST `.gz` files into the cache at `root`.

    `expected_md5` ({file name: md5}) defaults to the published values; None skips the check
    (for other datasets in the IDX format, pass their own values and `class_names`).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise SourceFormatError(f"{folder}: not a folder; PATH must be the folder holding "
                                f"{', '.join(MNIST_MD5)}")
    files = {split: tuple(resolve_file(folder, n) for n in pair)
             for split, pair in MNIST_FILES.items()}
    digests = {}
    for images_path, labels_path in files.values():
        for file in (images_path, labels_path):
            expected = None if expected_md5 is None else expected_md5[file.name]
            digests[file.name] = verify_md5(file, expected, _FIX)

    def convert() -> Converted:
        return Converted(train=_read_split(*files["train"]), test=_read_split(*files["test"]),
                         class_names=class_names)

    source = {"format": "idx", "md5_verified": expected_md5 is not None}
    return finish_import(root or default_cache_root(), name, "idx", digests, convert, source)
