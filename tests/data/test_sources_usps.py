"""USPS from usps.h5: pixel conversion, the h5py-less error, round trips (with h5py if there)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.data.sources import usps
from harness.data.sources.importing import MissingDependencyError, SourceFormatError
from harness.errors import UserError

REAL = Path("/work/shared/data/usps/usps.h5")
HAS_H5PY = importlib.util.find_spec("h5py") is not None


def fake_splits(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (uint8 pixels (N, 256), labels)} and nothing else: the ground truth."""
    rng = np.random.default_rng(seed)
    return {split: (rng.integers(0, 256, (n, 256), dtype=np.uint8), np.arange(n) % 10)
            for split, n in (("train", 50), ("test", 20))}


def as_stored(splits):
    """What usps.h5 stores: float32 pixels in [0, 1] and int32 targets."""
    return {s: ((x / 255.0).astype(np.float32), y.astype(np.int32)) for s, (x, y) in
            splits.items()}


def check_round_trip(ds, truth):
    assert ds.image_shape == (1, 16, 16) and ds.class_names == tuple("0123456789")
    assert ds.split_sizes == {"train": 40, "val": 10, "test": 20}
    np.testing.assert_array_equal(ds.images("test").reshape(20, 256), truth["test"][0])
    np.testing.assert_array_equal(ds.labels("test"), truth["test"][1])
    merged = np.concatenate([ds.images("train"), ds.images("val")]).reshape(50, 256)
    assert sorted(map(bytes, merged)) == sorted(map(bytes, truth["train"][0]))


def test_pixels_to_uint8_inverts_division_by_255_exactly():
    pixels = np.arange(256, dtype=np.uint8)[None].repeat(3, axis=0)
    images = usps.pixels_to_uint8((pixels / 255.0).astype(np.float32), "here")
    assert images.shape == (3, 1, 16, 16) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(3, 256), pixels)
    assert images[0, 0, 0, 1] == 1 and images[0, 0, 1, 0] == 16, "rows are row-major"


@pytest.mark.parametrize("data, match", [
    (np.full((2, 256), -1.0), r"pixels span -1\.\.-1, expected \[0, 1\]"),
    (np.full((2, 256), 2.0), r"expected \[0, 1\]"),
    (np.zeros((2, 255)), r"shape \(2, 255\)"),
    (np.full((2, 256), np.nan), "NaN"),
])
def test_pixels_outside_the_layout_are_rejected(data, match):
    with pytest.raises(SourceFormatError, match=match):
        usps.pixels_to_uint8(data, "usps.h5:train")


def test_missing_h5py_is_one_line_naming_pip_install(tmp_path, monkeypatch):
    (tmp_path / "usps.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` raise ImportError
    with pytest.raises(MissingDependencyError) as info:
        usps.import_usps(tmp_path, tmp_path / "cache")
    assert isinstance(info.value, UserError) and isinstance(info.value, ImportError)
    assert "`pip install h5py`" in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "cache").exists()


def test_import_converts_what_the_file_holds(tmp_path, monkeypatch):
    """The conversion and caching, with the HDF5 reading replaced (h5py may be absent)."""
    truth = fake_splits()
    monkeypatch.setattr(usps, "_h5py", lambda: None)
    monkeypatch.setattr(usps, "read_usps_h5", lambda path: as_stored(truth))
    (tmp_path / "usps.h5").write_bytes(b"stands in for the file")
    ds = usps.import_usps(tmp_path / "usps.h5", tmp_path / "cache")
    check_round_trip(ds, truth)
    assert ds.source["md5_verified"] is False and "usps.h5" in ds.source["digests"]


def test_labels_that_are_not_integers_are_rejected(tmp_path, monkeypatch):
    stored = as_stored(fake_splits())
    stored["test"] = (stored["test"][0], stored["test"][1] + 0.5)
    monkeypatch.setattr(usps, "_h5py", lambda: None)
    monkeypatch.setattr(usps, "read_usps_h5", lambda path: stored)
    (tmp_path / "usps.h5").write_bytes(b"x")
    with pytest.raises(SourceFormatError, match="non-integer labels"):
        usps.import_usps(tmp_path, tmp_path / "cache")


@pytest.mark.skipif(not HAS_H5PY, reason="h5py is not installed (optional; reads usps.h5)")
def test_round_trip_through_a_real_hdf5_file(tmp_path):
    import h5py

    truth = fake_splits()
    with h5py.File(tmp_path / "usps.h5", "w") as f:
        for split, (data, target) in as_stored(truth).items():
            f.create_dataset(f"{split}/data", data=data, compression="gzip")
            f.create_dataset(f"{split}/target", data=target)
    check_round_trip(usps.import_usps(tmp_path, tmp_path / "cache"), truth)


@pytest.mark.skipif(not HAS_H5PY, reason="h5py is not installed (optional; reads usps.h5)")
def test_truncated_hdf5_file_is_a_clear_error(tmp_path):
    import h5py

    with h5py.File(tmp_path / "usps.h5", "w") as f:
        for split, (data, target) in as_stored(fake_splits()).items():
            f.create_dataset(f"{split}/data", data=data)
            f.create_dataset(f"{split}/target", data=target)
    raw = (tmp_path / "usps.h5").read_bytes()
    (tmp_path / "usps.h5").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(SourceFormatError, match="usps.h5"):
        usps.import_usps(tmp_path, tmp_path / "cache")


@pytest.mark.skipif(not (HAS_H5PY and REAL.is_file()),
                    reason=f"needs h5py (not installed) and the real file at {REAL}")
def test_real_usps_has_the_standard_split(tmp_path):
    ds = usps.import_usps(REAL, tmp_path)
    sizes = ds.split_sizes
    assert sizes["train"] + sizes["val"] == 7291 and sizes["test"] == 2007
    assert np.bincount(ds.labels("test")).tolist() == [359, 264, 198, 166, 200, 160, 170, 147,
                                                       166, 177]
