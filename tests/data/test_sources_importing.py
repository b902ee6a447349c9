"""The steps all importers share: val carve-out, versions, checksums, the write."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from harness.data.sources.importing import (
    ChecksumError,
    Converted,
    SourceFormatError,
    carve_validation,
    file_md5,
    finish_import,
    import_version,
    resolve_file,
    verify_md5,
)
from harness.errors import DatasetMissingError, UserError


def test_carve_validation_is_a_stratified_deterministic_partition():
    labels = np.array([0] * 20 + [1] * 10 + [2] * 5)
    train, val = carve_validation(labels)
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(labels)))
    assert not set(train) & set(val)
    # 10 % of each class, rounded half up: 2, 1, 1 (0.5 rounds up).
    assert np.bincount(labels[val]).tolist() == [2, 1, 1]
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0), "original order is kept"
    again_train, again_val = carve_validation(labels)
    assert np.array_equal(val, again_val) and np.array_equal(train, again_train)
    _, other_seed = carve_validation(labels, seed=1)
    assert not np.array_equal(val, other_seed), "the seed picks the images"


def test_carve_validation_does_not_depend_on_other_splits_or_label_dtype():
    labels = np.repeat(np.arange(4), 30)
    _, val = carve_validation(labels.astype(np.uint8))
    _, val64 = carve_validation(labels)
    assert np.array_equal(val, val64) and len(val) == 12


def test_version_changes_with_any_digest_and_with_the_importer():
    base = import_version("idx", {"a.gz": "1", "b.gz": "2"})
    assert base == import_version("idx", {"b.gz": "2", "a.gz": "1"}), "order must not matter"
    assert len(base) == 12 and base.isalnum()
    assert base != import_version("idx", {"a.gz": "1", "b.gz": "3"})
    assert base != import_version("other", {"a.gz": "1", "b.gz": "2"})


def test_verify_md5_passes_and_fails_with_one_clear_line(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"hello")
    actual = hashlib.md5(b"hello").hexdigest()
    assert file_md5(path) == actual == verify_md5(path, actual.upper(), "redo")
    assert verify_md5(path, None, "redo") == actual
    with pytest.raises(ChecksumError) as info:
        verify_md5(path, "0" * 32, "download it again")
    message = str(info.value)
    assert isinstance(info.value, UserError) and "\n" not in message
    assert str(path) in message and actual in message and "0" * 32 in message
    assert "download it again" in message


def test_resolve_file_accepts_the_file_or_its_folder(tmp_path):
    (tmp_path / "data.h5").write_bytes(b"x")
    assert resolve_file(tmp_path, "data.h5") == tmp_path / "data.h5"
    assert resolve_file(tmp_path / "data.h5", "whatever.h5") == tmp_path / "data.h5"
    with pytest.raises(DatasetMissingError, match="other.h5"):
        resolve_file(tmp_path, "other.h5")


def _converted(labels_test=(0, 1)) -> Converted:
    rng = np.random.default_rng(0)
    train_labels = np.repeat(np.arange(2), 10)
    return Converted(
        train=(rng.integers(0, 256, (20, 1, 4, 4), dtype=np.uint8), train_labels),
        test=(rng.integers(0, 256, (2, 1, 4, 4), dtype=np.uint8), np.array(labels_test)),
        class_names=("a", "b"),
        source={"extra": 1},
    )


def test_finish_import_writes_three_splits_and_skips_work_when_cached(tmp_path):
    calls = []

    def convert():
        calls.append(1)
        return _converted()

    ds = finish_import(tmp_path, "toy", "fake", {"f": "d1"}, convert, {"note": "x"})
    assert ds.split_sizes == {"train": 18, "val": 2, "test": 2}
    assert ds.source["extra"] == 1 and ds.source["note"] == "x"
    assert ds.source["digests"] == {"f": "d1"} and ds.source["val_fraction"] == 0.1
    again = finish_import(tmp_path, "toy", "fake", {"f": "d1"}, convert, {"note": "x"})
    assert again.root == ds.root and calls == [1], "the second import must not convert"
    other = finish_import(tmp_path, "toy", "fake", {"f": "d2"}, convert, {})
    assert other.root != ds.root and calls == [1, 1]


def test_finish_import_rejects_labels_outside_the_classes(tmp_path):
    with pytest.raises(SourceFormatError, match=r"test labels span 0\.\.7"):
        finish_import(tmp_path, "toy", "fake", {"f": "d"}, lambda: _converted((0, 7)), {})
    assert not any(tmp_path.iterdir()), "nothing is written for a corrupt source"


def test_finish_import_needs_enough_train_images_for_a_validation_split(tmp_path):
    tiny = Converted(train=(np.zeros((2, 1, 4, 4), np.uint8), np.array([0, 1])),
                     test=(np.zeros((2, 1, 4, 4), np.uint8), np.array([0, 1])),
                     class_names=("a", "b"))
    with pytest.raises(SourceFormatError, match="too few"):
        finish_import(tmp_path, "toy", "fake", {"f": "d"}, lambda: tiny, {})
