"""Image files listed by an index CSV: `split/class/*.jpg|png`, as a tarball or a folder.

The layout is the one of /work/shared/data/cifar10-jpeg: a folder holding
- an index CSV (optionally gzipped) with columns `split` ("train" or "test"), `label` (0..K-1),
  `path` (relative to the image root) and optionally `index` (the order of the images within
  their split; file order if absent) and `label_name` (class names; "0", "1", ... if absent);
- the images, either in a tar archive (`archive_file`, read without extracting) or extracted
  next to the index.

Images are decoded with Pillow. The first image decides the channels (grayscale modes give 1,
everything else is converted to RGB, 3) and the size; sizes are kept as they are, so an image
of another size is an error (resize the files first), never silently resampled.

Versioning: the md5s of the index and the archive; for an extracted folder, a sha256 over
every image's path and bytes in index order.

`import_cifar10_jpeg` binds the file names and md5s of the shared CIFAR-10 JPEG copy (lossy,
quality-75 re-encodings of the original pixels: see its README; results on it are not
comparable with published CIFAR-10 numbers).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import tarfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
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

REQUIRED_COLUMNS = ("split", "label", "path")
SPLITS = ("train", "test")
_GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})

CIFAR10_JPEG_INDEX = "cifar10_index.csv.gz"
CIFAR10_JPEG_ARCHIVE = "cifar10_jpg.tar.gz"
# From /work/shared/data/cifar10-jpeg/README.md (the copy, not an official release).
CIFAR10_JPEG_MD5: Mapping[str, str] = MappingProxyType({
    CIFAR10_JPEG_ARCHIVE: "97a885386ac940ec95312e53cd0d3606",
    CIFAR10_JPEG_INDEX: "05314c168eb80f8473f56e52e02f8306",
})


@dataclass(frozen=True)
class IndexRow:
    split: str
    order: int
    label: int
    label_name: str
    path: str


def read_index(path: Path) -> list[IndexRow]:
    """Rows of the index CSV at `path` (gzipped if it ends in .gz), checked."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise SourceFormatError(f"{path}: no column {', '.join(missing)}; the index "
                                        f"needs {', '.join(REQUIRED_COLUMNS)}")
            return [_parse_row(path, line, row) for line, row in enumerate(reader, start=2)]
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise SourceFormatError(f"{path}: unreadable index ({type(exc).__name__}: {exc})"
                                ) from exc


def _parse_row(path: Path, line: int, row: dict[str, Any]) -> IndexRow:
    try:
        split, label = row["split"], int(row["label"])
        order = int(row["index"]) if row.get("index") not in (None, "") else line
    except (TypeError, ValueError) as exc:
        raise SourceFormatError(f"{path}:{line}: {exc}") from exc
    image_path = PurePosixPath(row["path"] or "")
    if split not in SPLITS or not row["path"] or image_path.is_absolute() \
            or ".." in image_path.parts:
        raise SourceFormatError(f"{path}:{line}: split must be train or test and path a "
                                f"relative path inside the folder, got {split!r}, "
                                f"{row['path']!r}")
    return IndexRow(split, order, label, row.get("label_name") or str(label), str(image_path))


def class_names_of(rows: list[IndexRow], where: Path) -> tuple[str, ...]:
    names: dict[int, str] = {}
    for row in rows:
        if names.setdefault(row.label, row.label_name) != row.label_name:
            raise SourceFormatError(f"{where}: label {row.label} is called both "
                                    f"{names[row.label]!r} and {row.label_name!r}")
    if sorted(names) != list(range(len(names))):
        raise SourceFormatError(f"{where}: labels must be 0..K-1 with none missing, got "
                                f"{sorted(names)[:10]}")
    return tuple(names[label] for label in range(len(names)))


class MixedImageSizes(SourceFormatError):
    """The images of one split differ in size (and no common size was asked for)."""


def stack_images(items: Iterable[Any], count: int, describe: Callable[[int], str],
                 size: int | None = None) -> np.ndarray:
    """uint8 (N, C, H, W) from `count` PIL images, encoded image bytes or HWC/HW arrays.

    The first image decides C (1 for grayscale modes, else 3) and the size; `describe(i)`
    names item i in errors. With `size`, images of any sizes and modes are taken: each becomes
    RGB, its shorter side scaled to `size` and its centre cropped to `size` × `size` (photo
    datasets, whose images differ in size).
    """
    from PIL import Image, UnidentifiedImageError

    out: np.ndarray | None = None
    mode = "L"
    filled = 0
    for i, item in enumerate(items):
        try:
            image = _as_pil(item, Image)
            if size is not None:
                image = _square(image.convert("RGB"), size, Image)
            if out is None:
                mode = "L" if image.mode in _GRAY_MODES else "RGB"
                channels = 1 if mode == "L" else 3
                out = np.empty((count, channels, image.height, image.width), np.uint8)
            pixels = np.asarray(image if image.mode == mode else image.convert(mode))
        except (OSError, UnidentifiedImageError, ValueError, TypeError) as exc:
            raise SourceFormatError(f"{describe(i)}: not a readable image ({exc})") from exc
        if pixels.shape[:2] != out.shape[2:]:
            raise MixedImageSizes(
                f"{describe(i)}: image is {pixels.shape[1]}x{pixels.shape[0]} but the first "
                f"is {out.shape[3]}x{out.shape[2]} (width x height); images are not resized "
                "on import, so resize them all to one size first"
            )
        out[i] = pixels[None] if mode == "L" else pixels.transpose(2, 0, 1)
        filled = i + 1
    if out is None or filled != count:
        raise SourceFormatError(f"{describe(filled)}: expected {count} images, got {filled}")
    return out


def _square(image: Any, size: int, image_module: Any) -> Any:
    """The centre square of `image`, scaled to `size` × `size`."""
    side = min(image.width, image.height)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.resize((size, size), image_module.Resampling.BICUBIC,
                        box=(left, top, left + side, top + side))


def _as_pil(item: Any, image_module: Any) -> Any:
    if isinstance(item, image_module.Image):
        return item
    if isinstance(item, bytes | bytearray):
        return image_module.open(io.BytesIO(item))
    if isinstance(item, dict) and item.get("bytes"):  # an undecoded Hugging Face image
        return image_module.open(io.BytesIO(item["bytes"]))
    return image_module.fromarray(np.asarray(item))


def _read_archive(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    blobs = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for info in tar:
                key = str(PurePosixPath(info.name))
                if key in wanted and info.isfile():
                    blobs[key] = tar.extractfile(info).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise SourceFormatError(f"{archive}: truncated or corrupt archive "
                                f"({type(exc).__name__}: {exc})") from exc
    return blobs


def _read_folder(folder: Path, wanted: set[str]) -> dict[str, bytes]:
    return {p: (folder / p).read_bytes() for p in sorted(wanted) if (folder / p).is_file()}


def _by_split(rows: list[IndexRow], blobs: Mapping[str, bytes], where: Path) -> Converted:
    splits = {}
    for split in SPLITS:
        part = sorted((r for r in rows if r.split == split), key=lambda r: r.order)
        if not part:
            raise SourceFormatError(f"{where}: the index lists no {split} images")
        if len({r.order for r in part}) != len(part):
            raise SourceFormatError(f"{where}: the {split} split repeats an index value")
        images = stack_images((blobs[r.path] for r in part), len(part),
                              lambda i, part=part: f"{where}:{part[i].path}")
        splits[split] = (images, np.array([r.label for r in part], np.int64))
    return Converted(train=splits["train"], test=splits["test"],
                     class_names=class_names_of(rows, where))


def import_image_folder(
    path: Path, root: Path | None = None, *, name: str, index_file: str,
    archive_file: str | None = None, expected_md5: Mapping[str, str] | None = None,
) -> CachedDataset:
    """Import the folder `path` (index CSV + tar archive or extracted images) into the cache.

    `expected_md5` ({file name: md5}) is checked for the files it names.
    """
    folder = Path(path)
    index = resolve_file(folder, index_file)
    folder = index.parent
    md5s = dict(expected_md5 or {})
    fix = "copy the folder again"
    digests = {index.name: verify_md5(index, md5s.get(index.name), fix)}
    rows = read_index(index)
    wanted = {r.path for r in rows}
    archive = folder / archive_file if archive_file else None
    blobs: dict[str, bytes] | None = None
    if archive is not None and archive.is_file():
        digests[archive.name] = verify_md5(archive, md5s.get(archive.name), fix)
        where = archive
    else:  # extracted images: their bytes are the version, and are read once here
        where, blobs = folder, _read_folder(folder, wanted)
        digests["images"] = _content_digest(rows, blobs)

    def convert() -> Converted:
        found = blobs if blobs is not None else _read_archive(where, wanted)
        missing = sorted(wanted - set(found))
        if missing:
            raise SourceFormatError(f"{where}: {len(missing)} image(s) named in {index.name} "
                                    f"are missing, e.g. {missing[0]}")
        return _by_split(rows, found, where)

    source = {"format": "image-folder", "index": index.name, "images": where.name,
              "md5_verified": sorted(set(md5s) & set(digests))}
    return finish_import(root or default_cache_root(), name, "image-folder", digests, convert,
                         source)


def _content_digest(rows: list[IndexRow], blobs: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{row.path}\0{len(blobs.get(row.path, b''))}\0".encode())
        digest.update(blobs.get(row.path, b""))
    return digest.hexdigest()


def import_cifar10_jpeg(
    path: Path, root: Path | None = None, *, name: str = "cifar10-jpeg",
    expected_md5: Mapping[str, str] | None = CIFAR10_JPEG_MD5,
) -> CachedDataset:
    """Import the shared CIFAR-10 JPEG copy (its folder: index, tarball, batches.meta)."""
    return import_image_folder(path, root, name=name, index_file=CIFAR10_JPEG_INDEX,
                               archive_file=CIFAR10_JPEG_ARCHIVE, expected_md5=expected_md5)
