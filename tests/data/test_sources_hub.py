"""Hugging Face `datasets` conversion (in memory) and Hub failures (no network needed)."""

from __future__ import annotations

import socket

import datasets
import numpy as np
import pytest
from PIL import Image

from harness.data.sources import hub, import_known_from_hub
from harness.data.sources.hub import HubUnreachableError, convert_hf, from_hub
from harness.data.sources.importing import SourceFormatError
from harness.errors import UserError


def make_dict(image_column="image", label_column="label", gray=False, class_label=True,
              sizes=(("train", 20), ("test", 4)), seed=0):
    """A DatasetDict of PIL images; returns (dataset_dict, {split: (images NCHW, labels)})."""
    rng = np.random.default_rng(seed)
    splits, truth = {}, {}
    for split, n in sizes:
        shape = (n, 5, 7) if gray else (n, 5, 7, 3)
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        labels = (np.arange(n) % 2).tolist()
        features = datasets.Features({
            image_column: datasets.Image(),
            label_column: (datasets.ClassLabel(names=["no", "yes"]) if class_label
                           else datasets.Value("int64")),
        })
        splits[split] = datasets.Dataset.from_dict(
            {image_column: [Image.fromarray(p) for p in pixels], label_column: labels},
            features=features)
        truth[split] = (pixels[:, None] if gray else pixels.transpose(0, 3, 1, 2),
                        np.array(labels))
    return datasets.DatasetDict(splits), truth


def test_convert_hf_round_trip(tmp_path):
    dd, truth = make_dict()
    ds = convert_hf(dd, tmp_path, name="toy", hub_id="someone/toy")
    assert ds.class_names == ("no", "yes") and ds.image_shape == (3, 5, 7)
    assert ds.split_sizes == {"train": 18, "val": 2, "test": 4}
    np.testing.assert_array_equal(ds.images("test"), truth["test"][0])
    np.testing.assert_array_equal(ds.labels("test"), truth["test"][1])
    merged = np.concatenate([ds.images("train"), ds.images("val")])
    assert sorted(map(bytes, merged)) == sorted(map(bytes, truth["train"][0]))
    assert ds.source["hub_id"] == "someone/toy" and ds.source["format"] == "huggingface"
    again = convert_hf(dd, tmp_path, name="toy", hub_id="someone/toy")
    assert again.root == ds.root and len(list(tmp_path.iterdir())) == 1


def test_convert_hf_grayscale_other_columns_and_given_class_names(tmp_path):
    dd, truth = make_dict(image_column="img", label_column="fine_label", gray=True,
                          class_label=False)
    ds = convert_hf(dd, tmp_path, name="toy", image_column="img", label_column="fine_label",
                    class_names=["a", "b"])
    assert ds.image_shape == (1, 5, 7) and ds.class_names == ("a", "b")
    np.testing.assert_array_equal(ds.images("test"), truth["test"][0])
    unnamed = convert_hf(dd, tmp_path / "other", name="toy", image_column="img",
                         label_column="fine_label")
    assert unnamed.class_names == ("0", "1")


def test_convert_hf_wrong_column_or_split_is_clear(tmp_path):
    dd, _ = make_dict(image_column="img")
    with pytest.raises(SourceFormatError, match=r'no column "image" \(did you mean "img"\?\)'):
        convert_hf(dd, tmp_path, name="toy")
    only_train = datasets.DatasetDict({"train": dd["train"]})
    with pytest.raises(SourceFormatError, match="no test split; it has train"):
        convert_hf(only_train, tmp_path, name="toy", image_column="img")


def test_unreachable_hub_fails_fast_with_the_offline_command(monkeypatch, tmp_path):
    def no_network(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    def must_not_run(*args, **kwargs):
        raise AssertionError("load_dataset must not be tried when the Hub is unreachable")

    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HTTPS_PROXY", "https_proxy",
                     "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(datasets, "load_dataset", must_not_run)
    with pytest.raises(HubUnreachableError) as info:
        import_known_from_hub("mnist", tmp_path)
    message = str(info.value)
    assert isinstance(info.value, UserError) and "\n" not in message
    assert "ylecun/mnist" in message and "unreachable" in message
    assert "`harness data import mnist PATH`" in message


def test_load_dataset_failure_becomes_one_line(monkeypatch, tmp_path):
    def fails(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'x/y' on the Hub\n(LocalEntryNotFoundError)")

    monkeypatch.setattr(hub, "check_hub_reachable", lambda *args: None)
    monkeypatch.setattr(datasets, "load_dataset", fails)
    with pytest.raises(HubUnreachableError) as info:
        from_hub("x/y", tmp_path, offline_hint="import with `harness data import y PATH`")
    message = str(info.value)
    assert "\n" not in message and "x/y" in message and "ConnectionError" in message
    assert "`harness data import y PATH`" in message


def test_registry_passes_each_datasets_hub_columns(monkeypatch, tmp_path):
    dd, truth = make_dict(image_column="img", label_column="fine_label", class_label=False)
    calls = []

    def fake_load(hub_id, config=None):
        calls.append((hub_id, config))
        return dd

    monkeypatch.setattr(hub, "check_hub_reachable", lambda *args: None)
    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    ds = import_known_from_hub("cifar100", tmp_path)
    assert calls == [("uoft-cs/cifar100", None)] and ds.name == "cifar100"
    assert ds.class_names[:2] == ("apple", "aquarium_fish"), "registry names as the fallback"
    np.testing.assert_array_equal(ds.labels("test"), truth["test"][1])


def test_dataset_without_a_hub_copy_says_so(tmp_path):
    with pytest.raises(UserError, match="cifar10-jpeg has no Hugging Face Hub copy"):
        import_known_from_hub("cifar10-jpeg", tmp_path)
