"""The on-disk cache: layout, round trip, atomic writes, fingerprints, errors a user sees."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from harness.data import cache as cache_module
from harness.data.cache import (
    CachedDataset,
    DatasetCache,
    default_cache_root,
    load_cached,
    write_dataset,
)
from harness.data.procedural import PROCEDURAL_DATASETS, ProceduralSpec
from harness.errors import DatasetMissingError

TINY = {"train": 3, "val": 1, "test": 2}


def _splits(seed: int = 0, channels: int = 3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return {
        split: (
            rng.integers(0, 256, (n, channels, 8, 8), dtype=np.uint8),
            np.arange(n, dtype=np.int32) % 2,
        )
        for split, n in (("train", 6), ("test", 4))
    }


def _write(root: Path, name: str = "toy", version: str = "v1", seed: int = 0) -> CachedDataset:
    return write_dataset(root, name, version, _splits(seed), ["cat", "dog"], {"kind": "test"})


def _entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_round_trip_keeps_arrays_and_metadata(tmp_path):
    splits = _splits()
    ds = write_dataset(tmp_path, "toy", "v1", splits, ["cat", "dog"], {"kind": "test"})
    assert ds.root == tmp_path / "toy-v1" and ds.version == "v1"
    assert sorted(p.name for p in ds.root.iterdir()) == [
        "meta.json", "test_images.npy", "test_labels.npy", "train_images.npy", "train_labels.npy",
    ]
    assert ds.class_names == ("cat", "dog") and ds.image_shape == (3, 8, 8)
    assert ds.split_sizes == {"train": 6, "test": 4} and ds.source == {"kind": "test"}
    for split, (images, labels) in splits.items():
        mapped = ds.images(split)
        assert isinstance(mapped, np.memmap) and not mapped.flags.writeable
        np.testing.assert_array_equal(mapped, images)
        assert not isinstance(ds.images(split, mmap=False), np.memmap)
        assert ds.labels(split).dtype == np.int64
        np.testing.assert_array_equal(ds.labels(split), labels)
    train = splits["train"][0] / 255.0
    np.testing.assert_allclose(ds.mean, train.mean(axis=(0, 2, 3)), rtol=1e-9)
    np.testing.assert_allclose(ds.std, train.std(axis=(0, 2, 3)), rtol=1e-9)
    assert load_cached(ds.root) == ds


def test_images_file_holds_no_labels(tmp_path):
    ds = _write(tmp_path)
    assert ds.images_path("train") != ds.labels_path("train")
    assert np.load(ds.images_path("train")).dtype == np.uint8


def test_write_leaves_no_temporary_folder(tmp_path):
    _write(tmp_path)
    assert _entries(tmp_path) == ["toy-v1"]


def test_writing_an_existing_version_keeps_the_first(tmp_path):
    first = _write(tmp_path, seed=0)
    second = _write(tmp_path, seed=1)
    assert second.fingerprint == first.fingerprint
    assert _entries(tmp_path) == ["toy-v1"]


def test_losing_the_rename_race_uses_the_winners_data(tmp_path, monkeypatch):
    real_rename = os.rename
    winner = {}

    def rename_after_a_rival(src, dst):
        monkeypatch.setattr(cache_module.os, "rename", real_rename)
        winner["ds"] = _write(tmp_path, seed=7)  # another process finishes first
        real_rename(src, dst)

    monkeypatch.setattr(cache_module.os, "rename", rename_after_a_rival)
    ours = _write(tmp_path, seed=0)
    assert ours.fingerprint == winner["ds"].fingerprint
    assert _entries(tmp_path) == ["toy-v1"]


def test_fingerprints_follow_the_bytes(tmp_path):
    a = _write(tmp_path, version="a")
    splits = _splits()
    splits["test"][0][0, 0, 0, 0] ^= 1
    b = write_dataset(tmp_path, "toy", "b", splits, ["cat", "dog"], {})
    assert a.fingerprint != b.fingerprint
    assert a.split_fingerprints["train"] == b.split_fingerprints["train"]
    assert a.split_fingerprints["test"] != b.split_fingerprints["test"]
    assert len(a.fingerprint) == 64 and a.fingerprint == _write(tmp_path, version="c").fingerprint


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["train"][0].astype(np.float32), "must be uint8"),
        (lambda s: s["train"][0][:, :, :, :, None], "must be uint8"),
        (lambda s: s["train"][0][:, :2], "C = 1 or 3"),
    ],
)
def test_bad_images_are_rejected(tmp_path, edit, message):
    splits = _splits()
    splits["train"] = (edit(splits), splits["train"][1])
    with pytest.raises(ValueError, match=message):
        write_dataset(tmp_path, "toy", "v1", splits, ["cat", "dog"], {})
    assert not tmp_path.exists() or _entries(tmp_path) == []


def test_bad_labels_names_and_shapes_are_rejected(tmp_path):
    splits = _splits()
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.0 \(1 class names\)"):
        write_dataset(tmp_path, "toy", "v1", splits, ["cat"], {})
    bad = {**splits, "test": (splits["test"][0], splits["test"][1][:2])}
    with pytest.raises(ValueError, match="labels must be integers of shape"):
        write_dataset(tmp_path, "toy", "v1", bad, ["cat", "dog"], {})
    mixed = {**splits, "test": (np.zeros((4, 3, 9, 9), np.uint8), splits["test"][1])}
    with pytest.raises(ValueError, match="same image shape"):
        write_dataset(tmp_path, "toy", "v1", mixed, ["cat", "dog"], {})
    with pytest.raises(ValueError, match="dataset name"):
        write_dataset(tmp_path, "../toy", "v1", splits, ["cat", "dog"], {})
    with pytest.raises(ValueError, match="version"):
        write_dataset(tmp_path, "toy", "v-1", splits, ["cat", "dog"], {})
    with pytest.raises(TypeError):
        write_dataset(tmp_path, "toy", "v1", splits, ["cat", "dog"], {"bad": object()})
    assert not tmp_path.exists() or _entries(tmp_path) == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda root: (root / "meta.json").write_text("{not json"),
        lambda root: (root / "meta.json").unlink(),
        lambda root: (root / "meta.json").write_text("[]"),
        lambda root: (root / "test_labels.npy").unlink(),
        lambda root: (root / "train_images.npy").write_bytes(
            (root / "train_images.npy").read_bytes()[:200]
        ),
        lambda root: (root / "meta.json").write_text(
            json.dumps({**json.loads((root / "meta.json").read_text()), "format_version": 99})
        ),
    ],
)
def test_damaged_folder_says_to_delete_it(tmp_path, damage):
    ds = _write(tmp_path)
    damage(ds.root)
    with pytest.raises(DatasetMissingError, match="delete the folder"):
        load_cached(ds.root)


def test_verify_notices_edited_data(tmp_path):
    ds = _write(tmp_path)
    ds.verify()
    images = np.load(ds.images_path("train"))
    images[0, 0, 0, 0] ^= 1
    np.save(ds.images_path("train"), images)
    with pytest.raises(DatasetMissingError, match="fingerprint"):
        ds.verify()


def test_unknown_split_is_a_clear_error(tmp_path):
    ds = _write(tmp_path)
    with pytest.raises(DatasetMissingError, match='no split "val".*train'):
        ds.images("val")


class _CountingGenerator:
    def __init__(self):
        self.calls = 0

    def __call__(self, rng, labels, params):
        self.calls += 1
        return rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)


def test_procedural_dataset_is_generated_once(tmp_path):
    counter = _CountingGenerator()
    spec = ProceduralSpec("noise", ("a", "b"), counter, 4, 1, 2, seed=5)
    cache = DatasetCache(tmp_path, specs={"noise": spec})
    first = cache.get("noise")
    assert counter.calls == 3  # one per split
    mtime = (first.root / "meta.json").stat().st_mtime_ns
    second = DatasetCache(tmp_path, specs={"noise": spec}).get("noise")
    assert counter.calls == 3 and second == first
    assert (first.root / "meta.json").stat().st_mtime_ns == mtime
    assert first.split_sizes == {"train": 8, "val": 2, "test": 4}
    assert first.source["kind"] == "procedural" and first.source["seed"] == 5


def test_builtin_procedural_dataset_through_the_cache(tmp_path):
    ds = DatasetCache(tmp_path, sizes_override=TINY).get("shapes")
    assert ds.name == "shapes" and ds.class_names == PROCEDURAL_DATASETS["shapes"].class_names
    assert ds.split_sizes == {"train": 30, "val": 10, "test": 20}
    assert ds.image_shape == (3, 32, 32) and len(ds.mean) == 3
    again = DatasetCache(tmp_path, sizes_override=TINY).get("shapes")
    assert again.fingerprint == ds.fingerprint
    bigger = DatasetCache(tmp_path, sizes_override={**TINY, "train": 4}).get("shapes")
    assert bigger.root != ds.root
    assert bigger.split_fingerprints["test"] == ds.split_fingerprints["test"]


def test_corrupted_procedural_cache_is_reported(tmp_path):
    ds = DatasetCache(tmp_path, sizes_override=TINY).get("textures")
    (ds.root / "meta.json").write_text("")
    with pytest.raises(DatasetMissingError, match="delete the folder"):
        DatasetCache(tmp_path, sizes_override=TINY).get("textures")


def test_unknown_names_say_what_to_do(tmp_path):
    cache = DatasetCache(tmp_path)
    with pytest.raises(DatasetMissingError, match='did you mean "textures"'):
        cache.get("texture")
    with pytest.raises(DatasetMissingError, match="harness data import cifar100 PATH") as info:
        cache.get("cifar100")
    assert "\n" not in str(info.value)


def test_imported_dataset_is_found_by_name_and_listed(tmp_path):
    imported = _write(tmp_path, name="mnist", version="abc123")
    _write(tmp_path, name="mnist-extra", version="v1")
    (tmp_path / "broken-v1").mkdir()
    (tmp_path / "broken-v1" / "meta.json").write_text("{")
    cache = DatasetCache(tmp_path)
    assert cache.get("mnist") == imported
    assert [ds.name for ds in cache.list()] == ["mnist", "mnist-extra"]
    assert DatasetCache(tmp_path / "nowhere").list() == []


def test_default_root_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    assert default_cache_root() == tmp_path
    assert DatasetCache().root == tmp_path
    monkeypatch.delenv("HARNESS_CACHE_DIR")
    assert default_cache_root() == Path.home() / ".cache" / "harness" / "data"


def test_bad_size_override_fails_early(tmp_path):
    with pytest.raises(ValueError, match="unknown split"):
        DatasetCache(tmp_path, sizes_override={"training": 3})
