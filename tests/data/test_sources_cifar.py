"""CIFAR-10/100 python archives: round trips on tiny fakes, checksums, corrupt and hostile files."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from harness.data.sources.cifar import (
    CIFAR10_ARCHIVE,
    CIFAR10_MD5,
    CIFAR100_ARCHIVE,
    import_cifar10,
    import_cifar100,
)
from harness.data.sources.importing import ChecksumError, SourceFormatError, carve_validation

PER_BATCH = 10  # 5 train batches -> 50 train images, 5 per class


def _batch(rng, n, **labels) -> dict:
    """A batch dict as the official (Python 2) pickles hold it: byte-string keys."""
    batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    batch.update({key.encode(): values for key, values in labels.items()})
    return batch


def _py2_style_pickle(obj) -> bytes:
    """Protocol 2, naming numpy's array rebuilder by its numpy-1 module, as the originals do."""
    raw = pickle.dumps(obj, protocol=2)
    return raw.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def _tar(path: Path, members: dict[str, object]) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            raw = obj if isinstance(obj, bytes) else _py2_style_pickle(obj)
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_fake_cifar10(folder: Path, seed: int = 0):
    """A CIFAR-10 archive with 10 images per batch; returns (batches, md5)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {f"data_batch_{i}": _batch(rng, PER_BATCH, labels=list(range(10)))
               for i in range(1, 6)}
    batches["test_batch"] = _batch(rng, 4, labels=[3, 1, 4, 1])
    meta = {b"label_names": [n.encode() for n in "abcdefghij"], b"num_cases_per_batch": 10}
    members = {f"cifar-10-batches-py/{n}": b for n, b in batches.items()}
    members["cifar-10-batches-py/batches.meta"] = meta
    return batches, _tar(folder / CIFAR10_ARCHIVE, members)


def write_fake_cifar100(folder: Path, seed: int = 0):
    """A CIFAR-100 archive with 3 fine classes in 2 superclasses; returns (train, test, md5)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    fine = [0, 1, 2] * 5
    coarse = [1, 0, 1] * 5
    train = _batch(rng, 15, fine_labels=fine, coarse_labels=coarse)
    test = _batch(rng, 3, fine_labels=[2, 1, 0], coarse_labels=[1, 0, 1])
    meta = {b"fine_label_names": [b"apple", b"bee", b"cloud"],
            b"coarse_label_names": [b"insects", b"things"]}
    md5 = _tar(folder / CIFAR100_ARCHIVE, {"cifar-100-python/train": train,
                                           "cifar-100-python/test": test,
                                           "cifar-100-python/meta": meta})
    return train, test, md5


def test_cifar10_round_trip_keeps_order_channels_and_labels(tmp_path):
    batches, md5 = write_fake_cifar10(tmp_path / "src")
    ds = import_cifar10(tmp_path / "src", tmp_path / "cache", expected_md5=md5)
    assert ds.class_names == tuple("abcdefghij") and ds.image_shape == (3, 32, 32)
    assert ds.split_sizes == {"train": 40, "val": 10, "test": 4}
    test = batches["test_batch"]
    np.testing.assert_array_equal(ds.images("test").reshape(4, 3072), test[b"data"])
    # The first 1024 values of a row are the red plane, row-major.
    assert ds.images("test")[0, 0, 0, 5] == test[b"data"][0, 5]
    assert ds.images("test")[0, 1, 0, 0] == test[b"data"][0, 1024]
    np.testing.assert_array_equal(ds.labels("test"), [3, 1, 4, 1])
    train_x = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    train_y = np.concatenate([batches[f"data_batch_{i}"][b"labels"] for i in range(1, 6)])
    train_idx, val_idx = carve_validation(train_y)
    np.testing.assert_array_equal(ds.images("val").reshape(-1, 3072), train_x[val_idx])
    np.testing.assert_array_equal(ds.images("train").reshape(-1, 3072), train_x[train_idx])
    np.testing.assert_array_equal(ds.labels("train"), train_y[train_idx])
    assert ds.source["md5_verified"] is True


def test_cifar100_uses_fine_labels_and_keeps_the_coarse_map(tmp_path):
    train, test, md5 = write_fake_cifar100(tmp_path / "src")
    ds = import_cifar100(tmp_path / "src" / CIFAR100_ARCHIVE, tmp_path / "cache",
                         expected_md5=md5)
    assert ds.class_names == ("apple", "bee", "cloud")
    assert ds.source["coarse_label_names"] == ["insects", "things"]
    assert ds.source["fine_to_coarse"] == [1, 0, 1]
    np.testing.assert_array_equal(ds.labels("test"), [2, 1, 0])
    np.testing.assert_array_equal(ds.images("test").reshape(3, 3072), test[b"data"])
    assert ds.split_sizes == {"train": 12, "val": 3, "test": 3}


def test_cifar100_fine_class_in_two_superclasses_is_rejected(tmp_path):
    rng = np.random.default_rng(0)
    bad = _batch(rng, 10, fine_labels=[0, 1] * 5, coarse_labels=[0, 1] * 4 + [1, 1])
    meta = {b"fine_label_names": [b"a", b"b"], b"coarse_label_names": [b"x", b"y"]}
    md5 = _tar(tmp_path / CIFAR100_ARCHIVE, {"cifar-100-python/train": bad,
                                             "cifar-100-python/test": bad,
                                             "cifar-100-python/meta": meta})
    with pytest.raises(SourceFormatError, match="fine label 0 has two coarse labels"):
        import_cifar100(tmp_path, tmp_path / "cache", expected_md5=md5)


def test_bad_md5_is_one_line_with_file_both_md5s_and_what_to_do(tmp_path):
    _, actual = write_fake_cifar10(tmp_path)
    with pytest.raises(ChecksumError) as info:
        import_cifar10(tmp_path, tmp_path / "cache")  # the published md5 by default
    message = str(info.value)
    assert "\n" not in message and CIFAR10_ARCHIVE in message
    assert CIFAR10_MD5 in message and actual in message
    assert "download it again from https://www.cs.toronto.edu/~kriz/cifar.html" in message


def test_truncated_archive_is_a_clear_error(tmp_path):
    write_fake_cifar10(tmp_path)
    archive = tmp_path / CIFAR10_ARCHIVE
    raw = archive.read_bytes()
    archive.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SourceFormatError, match="truncated or corrupt archive"):
        import_cifar10(tmp_path, tmp_path / "cache",
                       expected_md5=hashlib.md5(archive.read_bytes()).hexdigest())


def test_archive_without_a_batch_names_it(tmp_path):
    rng = np.random.default_rng(0)
    md5 = _tar(tmp_path / CIFAR10_ARCHIVE,
               {"cifar-10-batches-py/data_batch_1": _batch(rng, 10, labels=list(range(10)))})
    with pytest.raises(SourceFormatError, match="no cifar-10-batches-py/data_batch_2"):
        import_cifar10(tmp_path, tmp_path / "cache", expected_md5=md5)


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    rng = np.random.default_rng(0)
    members = {f"cifar-10-batches-py/data_batch_{i}": _batch(rng, 10, labels=list(range(10)))
               for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = {b"data": Exploit()}
    members["cifar-10-batches-py/batches.meta"] = {b"label_names": [b"a"]}
    md5 = _tar(tmp_path / CIFAR10_ARCHIVE, members)
    with pytest.raises(SourceFormatError, match="is not allowed in a CIFAR batch"):
        import_cifar10(tmp_path, tmp_path / "cache", expected_md5=md5)
    assert not (tmp_path / "pwned").exists()


def test_wrong_data_shape_is_rejected(tmp_path):
    rng = np.random.default_rng(0)
    members = {f"cifar-10-batches-py/data_batch_{i}": _batch(rng, 10, labels=list(range(10)))
               for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = {
        b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}
    members["cifar-10-batches-py/batches.meta"] = {b"label_names": [b"a", b"b"]}
    md5 = _tar(tmp_path / CIFAR10_ARCHIVE, members)
    with pytest.raises(SourceFormatError, match=r"uint8 \(2, 100\), expected uint8 \(N, 3072\)"):
        import_cifar10(tmp_path, tmp_path / "cache", expected_md5=md5)
