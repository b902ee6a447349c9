"""Image folders with an index CSV (the cifar10-jpeg layout): tarball and extracted folder."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.data.sources.imagefolder import (
    CIFAR10_JPEG_ARCHIVE,
    CIFAR10_JPEG_INDEX,
    import_cifar10_jpeg,
    import_image_folder,
)
from harness.data.sources.importing import ChecksumError, SourceFormatError

REAL = Path("/work/shared/data/cifar10-jpeg")
CLASSES = ("cat", "dog")
COUNTS = {"train": 10, "test": 4}


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def write_folder(folder: Path, *, gray=False, archive=True, size=(6, 8), rows_hook=None):
    """A tiny image folder in the cifar10-jpeg layout; returns {split: (images, labels)}.

    The index lists rows in reverse order, so the importer must sort by the index column.
    """
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    truth, rows, files = {}, [], {}
    for split, n in COUNTS.items():
        shape = (n, *size) if gray else (n, *size, 3)
        images = rng.integers(0, 256, shape, dtype=np.uint8)
        labels = np.arange(n) % 2
        truth[split] = (images[:, None] if gray else images.transpose(0, 3, 1, 2), labels)
        for i in range(n):
            path = f"{split}/{CLASSES[labels[i]]}/{i:04d}.png"
            files[path] = png_bytes(images[i])
            rows.append({"split": split, "index": i, "label": int(labels[i]),
                         "label_name": CLASSES[labels[i]], "path": path})
    if rows_hook:
        rows = rows_hook(rows)
    with gzip.open(folder / CIFAR10_JPEG_INDEX, "wt", newline="") as f:
        writer = csv.DictWriter(f, ["split", "index", "label", "label_name", "path"])
        writer.writeheader()
        writer.writerows(reversed(rows))
    if archive:
        with tarfile.open(folder / CIFAR10_JPEG_ARCHIVE, "w:gz") as tar:
            for path, raw in files.items():
                info = tarfile.TarInfo(path)
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))
    else:
        for path, raw in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(raw)
    return truth


def _import(folder: Path, root: Path):
    return import_image_folder(folder, root, name="pics", index_file=CIFAR10_JPEG_INDEX,
                               archive_file=CIFAR10_JPEG_ARCHIVE)


def _check(ds, truth):
    assert ds.class_names == CLASSES
    assert ds.split_sizes == {"train": 8, "val": 2, "test": 4}
    np.testing.assert_array_equal(ds.images("test"), truth["test"][0])
    np.testing.assert_array_equal(ds.labels("test"), truth["test"][1])
    merged = np.concatenate([ds.images("train"), ds.images("val")])
    assert sorted(map(bytes, merged)) == sorted(map(bytes, truth["train"][0]))


def test_tarball_round_trip_in_index_order(tmp_path):
    truth = write_folder(tmp_path / "src")
    ds = _import(tmp_path / "src", tmp_path / "cache")
    assert ds.image_shape == (3, 6, 8)
    _check(ds, truth)
    assert ds.source["images"] == CIFAR10_JPEG_ARCHIVE


def test_extracted_folder_gives_the_same_data(tmp_path):
    write_folder(tmp_path / "a")
    from_tar = _import(tmp_path / "a", tmp_path / "cache")
    truth = write_folder(tmp_path / "b", archive=False)
    from_folder = _import(tmp_path / "b", tmp_path / "cache")
    _check(from_folder, truth)
    assert from_folder.split_fingerprints == from_tar.split_fingerprints
    again = _import(tmp_path / "b", tmp_path / "cache")
    assert again.root == from_folder.root, "re-importing the same folder is idempotent"


def test_grayscale_images_get_one_channel(tmp_path):
    truth = write_folder(tmp_path / "src", gray=True)
    ds = _import(tmp_path / "src", tmp_path / "cache")
    assert ds.image_shape == (1, 6, 8)
    _check(ds, truth)


def test_images_of_different_sizes_are_an_error_not_resized(tmp_path):
    write_folder(tmp_path / "src", archive=False)
    odd = tmp_path / "src" / "test" / "dog" / "0003.png"
    odd.write_bytes(png_bytes(np.zeros((6, 7, 3), np.uint8)))
    with pytest.raises(SourceFormatError) as info:
        _import(tmp_path / "src", tmp_path / "cache")
    message = str(info.value)
    assert "test/dog/0003.png" in message and "7x6" in message and "8x6" in message
    assert "resize" in message


def test_missing_image_is_named(tmp_path):
    write_folder(tmp_path / "src", archive=False)
    (tmp_path / "src" / "train" / "cat" / "0002.png").unlink()
    with pytest.raises(SourceFormatError, match=r"1 image\(s\) .* missing, e.g. train/cat/0002"):
        _import(tmp_path / "src", tmp_path / "cache")


def test_undecodable_image_is_named(tmp_path):
    write_folder(tmp_path / "src", archive=False)
    (tmp_path / "src" / "train" / "dog" / "0001.png").write_bytes(b"not a png")
    with pytest.raises(SourceFormatError, match="train/dog/0001.png: not a readable image"):
        _import(tmp_path / "src", tmp_path / "cache")


def test_index_problems_are_clear(tmp_path):
    def rename(rows):
        rows[0]["label_name"] = "kitten"
        return rows

    write_folder(tmp_path / "a", rows_hook=rename)
    with pytest.raises(SourceFormatError, match="label 0 is called both"):
        _import(tmp_path / "a", tmp_path / "cache")

    def escape(rows):
        rows[0]["path"] = "../secret.png"
        return rows

    write_folder(tmp_path / "b", rows_hook=escape)
    with pytest.raises(SourceFormatError, match="relative path inside the folder"):
        _import(tmp_path / "b", tmp_path / "cache")


def test_cifar10_jpeg_checks_the_copy_md5s(tmp_path):
    write_folder(tmp_path / "src")
    actual = hashlib.md5((tmp_path / "src" / CIFAR10_JPEG_INDEX).read_bytes()).hexdigest()
    with pytest.raises(ChecksumError) as info:
        import_cifar10_jpeg(tmp_path / "src", tmp_path / "cache")
    assert CIFAR10_JPEG_INDEX in str(info.value) and actual in str(info.value)


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason=f"the CIFAR-10 JPEG copy is not at {REAL}")
def test_real_cifar10_jpeg_imports_50000_and_10000(tmp_path):
    ds = import_cifar10_jpeg(REAL, tmp_path)
    sizes = ds.split_sizes
    assert sizes == {"train": 45000, "val": 5000, "test": 10000}
    assert ds.image_shape == (3, 32, 32)
    assert ds.class_names[0] == "airplane" and ds.class_names[9] == "truck"
    assert np.bincount(ds.labels("val")).tolist() == [500] * 10
    assert np.bincount(ds.labels("test")).tolist() == [1000] * 10
    assert ds.labels("test")[:2].tolist() == [3, 8], "test order is the original order"
    assert 100 < ds.images("test").mean() < 140
