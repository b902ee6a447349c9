"""nevis-real on the real files this machine may have (MNIST, USPS in /work/shared/data):
imported datasets are found through their Hub ids, every other task is reported unavailable,
and a stream side with nothing available fails before any run with one clear line.
Skipped where the files are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.sources import KNOWN_DATASETS
from harness.errors import UserError
from harness.nevis.evaluation import prepare_streams
from harness.nevis.tasks import materialize
from harness.suite import load_suite

SHARED = Path("/work/shared/data")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED / "mnist" / "train-images-idx3-ubyte.gz").is_file()
                       or not (SHARED / "usps" / "usps.h5").is_file(),
                       reason="no MNIST/USPS files in /work/shared/data"),
]


def test_imported_mnist_and_usps_feed_the_dev_stream(cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never try the network from a test
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    KNOWN_DATASETS["mnist"].importer(SHARED / "mnist", cache.root)
    KNOWN_DATASETS["usps"].importer(SHARED / "usps" / "usps.h5", cache.root)
    suite = load_suite("nevis-real")
    usps = materialize(suite, suite.tasks[0], cache)
    assert usps.dataset.image_shape == (3, 32, 32) and usps.num_classes == 10
    sizes = usps.dataset.split_sizes
    # USPS has train (7,291) and test (2,007): test kept; dev = the importer's 10 % validation
    # carve-out of train; dev-test carved from the rest
    assert sizes["test"] == 2007 and sizes["dev"] == 729
    assert sizes["train"] + sizes["dev"] + sizes["dev_test"] == 7291
    mnist = materialize(suite, suite.tasks[1], cache)
    assert mnist.dataset.split_sizes["train"] == 10000  # max_train_samples
    if any(d.name.startswith("cifar10") for d in cache.list()):
        pytest.skip("a CIFAR-10 copy is cached: the test stream would not be empty")
    with pytest.raises(UserError, match="no task of its test stream is available"):
        prepare_streams(suite, cache)
