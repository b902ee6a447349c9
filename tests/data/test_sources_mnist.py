"""MNIST from IDX files: round trip, checksums, corrupt files, the real files when present."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from harness.data.cache import load_cached
from harness.data.sources.importing import ChecksumError, SourceFormatError, carve_validation
from harness.data.sources.mnist import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    MNIST_FILES,
    MNIST_MD5,
    import_mnist,
    read_idx,
)

REAL = Path("/work/shared/data/mnist")


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """The IDX encoding of a uint8 array: big-endian magic, dimensions, then the values."""
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()


def write_fake_mnist(folder: Path, sizes=(("train", 50), ("test", 10)), seed=0):
    """Tiny MNIST in the official file layout; returns ({split: (images, labels)}, md5s)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, md5s = {}, {}
    for split, n in sizes:
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        arrays[split] = (images, labels)
        images_name, labels_name = MNIST_FILES[split]
        for name, data in ((images_name, idx_bytes(images, IMAGES_MAGIC)),
                           (labels_name, idx_bytes(labels, LABELS_MAGIC))):
            (folder / name).write_bytes(gzip.compress(data))
            md5s[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    return arrays, md5s


def test_round_trip_keeps_pixels_and_labels_and_carves_val(tmp_path):
    arrays, md5s = write_fake_mnist(tmp_path / "src")
    ds = import_mnist(tmp_path / "src", tmp_path / "cache", expected_md5=md5s)
    assert ds.name == "mnist" and ds.image_shape == (1, 28, 28)
    assert ds.class_names == tuple("0123456789")
    assert ds.split_sizes == {"train": 40, "val": 10, "test": 10}
    np.testing.assert_array_equal(ds.images("test")[:, 0], arrays["test"][0])
    np.testing.assert_array_equal(ds.labels("test"), arrays["test"][1])
    # train and val are the official train split, divided as documented.
    train_images, train_labels = arrays["train"]
    train_idx, val_idx = carve_validation(train_labels)
    for split, idx in (("train", train_idx), ("val", val_idx)):
        np.testing.assert_array_equal(ds.images(split)[:, 0], train_images[idx])
        np.testing.assert_array_equal(ds.labels(split), train_labels[idx])
    assert ds.source["md5_verified"] is True and ds.source["digests"] == md5s
    assert load_cached(ds.root).fingerprint == ds.fingerprint


def test_val_split_is_the_same_on_every_import(tmp_path):
    _, md5s = write_fake_mnist(tmp_path / "src")
    first = import_mnist(tmp_path / "src", tmp_path / "a", expected_md5=md5s)
    second = import_mnist(tmp_path / "src", tmp_path / "b", expected_md5=md5s)
    assert first.root.name == second.root.name, "same files -> same version"
    assert first.split_fingerprints == second.split_fingerprints


def test_reimport_is_idempotent_and_other_files_get_another_version(tmp_path):
    _, md5s = write_fake_mnist(tmp_path / "src")
    first = import_mnist(tmp_path / "src", tmp_path / "cache", expected_md5=md5s)
    mtime = (first.root / "meta.json").stat().st_mtime_ns
    again = import_mnist(tmp_path / "src", tmp_path / "cache", expected_md5=md5s)
    assert again.root == first.root and (again.root / "meta.json").stat().st_mtime_ns == mtime
    _, other_md5s = write_fake_mnist(tmp_path / "other", seed=1)
    other = import_mnist(tmp_path / "other", tmp_path / "cache", expected_md5=other_md5s)
    assert other.root != first.root
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_published_md5s_are_checked_by_default(tmp_path):
    write_fake_mnist(tmp_path / "src")
    with pytest.raises(ChecksumError) as info:
        import_mnist(tmp_path / "src", tmp_path / "cache")
    message = str(info.value)
    assert "\n" not in message and MNIST_MD5["train-images-idx3-ubyte.gz"] in message
    assert "train-images-idx3-ubyte.gz" in message and "download" in message
    assert not (tmp_path / "cache").exists()


def test_truncated_gzip_is_a_clear_error(tmp_path):
    _, md5s = write_fake_mnist(tmp_path / "src")
    path = tmp_path / "src" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(SourceFormatError, match="not a complete gzip file"):
        import_mnist(tmp_path / "src", tmp_path / "cache", expected_md5=None)


def test_payload_shorter_than_the_header_says_is_a_clear_error(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(images, IMAGES_MAGIC)[:-5]))
    with pytest.raises(SourceFormatError, match=r"header \(3, 28, 28\) needs 2368"):
        read_idx(path, IMAGES_MAGIC)


def test_wrong_magic_number_is_a_clear_error(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8), LABELS_MAGIC)))
    with pytest.raises(SourceFormatError, match="magic number is 2049, expected 2051"):
        read_idx(path, IMAGES_MAGIC)
    assert read_idx(path, LABELS_MAGIC).shape == (4,)


def test_images_and_labels_of_different_lengths_are_rejected(tmp_path):
    _, _ = write_fake_mnist(tmp_path / "src")
    labels = np.zeros(7, np.uint8)
    (tmp_path / "src" / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels, LABELS_MAGIC)))
    with pytest.raises(SourceFormatError, match="10 images but .* 7 labels"):
        import_mnist(tmp_path / "src", tmp_path / "cache", expected_md5=None)


def test_missing_file_names_the_file(tmp_path):
    write_fake_mnist(tmp_path / "src")
    (tmp_path / "src" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        import_mnist(tmp_path / "src", tmp_path / "cache", expected_md5=None)


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the real MNIST files are not at {REAL}")
def test_real_mnist_imports_with_official_md5s(tmp_path):
    ds = import_mnist(REAL, tmp_path)
    assert ds.source["md5_verified"] is True and ds.source["digests"] == dict(MNIST_MD5)
    sizes = ds.split_sizes
    assert sizes["train"] + sizes["val"] == 60000 and sizes["test"] == 10000
    assert sizes["val"] == 6000
    train_counts = np.bincount(np.concatenate([ds.labels("train"), ds.labels("val")]))
    assert train_counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(ds.labels("test")).tolist() == [980, 1135, 1032, 1010, 982, 892, 958,
                                                       1028, 974, 1009]
    assert ds.image_shape == (1, 28, 28) and ds.images("test").max() == 255
