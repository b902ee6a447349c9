"""The registry of importable datasets and the message for a dataset missing from the cache."""

from __future__ import annotations

import pytest

from harness.data.sources import (
    CIFAR100_CLASSES,
    KNOWN_DATASETS,
    get_known,
    missing_dataset_message,
)
from harness.errors import UserError

HUB_IDS = {"mnist": "ylecun/mnist", "usps": "flwrlabs/usps", "cifar10": "uoft-cs/cifar10",
           "cifar100": "uoft-cs/cifar100", "cifar10-jpeg": None}


def test_registry_names_hub_ids_files_classes_and_importers():
    assert {name: known.hub_id for name, known in KNOWN_DATASETS.items()} == HUB_IDS
    assert len(KNOWN_DATASETS["cifar100"].class_names) == 100 == len(set(CIFAR100_CLASSES))
    assert KNOWN_DATASETS["cifar10"].class_names[0] == "airplane"
    assert KNOWN_DATASETS["mnist"].class_names == tuple("0123456789")
    assert "train-images-idx3-ubyte.gz" in KNOWN_DATASETS["mnist"].offline_files
    assert KNOWN_DATASETS["cifar100"].hub_label_column == "fine_label"
    for known in KNOWN_DATASETS.values():
        assert callable(known.importer) and known.offline_files
    with pytest.raises(TypeError):
        KNOWN_DATASETS["x"] = KNOWN_DATASETS["mnist"]  # read-only


def test_unknown_name_gets_did_you_mean():
    with pytest.raises(UserError, match=r'no importer for "cifar-10" \(did you mean "cifar10"'):
        get_known("cifar-10")


@pytest.mark.parametrize("name", [n for n, hub_id in HUB_IDS.items() if hub_id])
def test_missing_message_names_import_command_and_hub_id(name, tmp_path):
    message = missing_dataset_message(name, tmp_path)
    assert f"`harness data import {name} PATH`" in message
    assert f"`harness data import {name} --hub`" in message
    assert HUB_IDS[name] in message and str(tmp_path) in message and "\n" not in message
    for file in KNOWN_DATASETS[name].offline_files:
        assert file in message


def test_missing_message_without_hub_copy_and_for_unknown_names():
    message = missing_dataset_message("cifar10-jpeg")
    assert "`harness data import cifar10-jpeg PATH`" in message and "--hub" not in message
    unknown = missing_dataset_message("mnits")
    assert '(did you mean "mnist"?)' in unknown and "cifar100" in unknown
