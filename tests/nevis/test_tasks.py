"""Materializing tasks: the four splits, image-size policies, caching, unavailable sources."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from harness.data.cache import DatasetCache
from harness.nevis import tasks
from harness.nevis.evaluation import prepare_streams, stream_scenario
from harness.nevis.stream import ImagePolicy
from harness.nevis.tasks import TaskUnavailable, carve_splits, fit_images, materialize
from harness.suite import load_suite
from tests.nevis.conftest import write_stream


def test_a_single_split_is_carved_70_15_15_then_dev_test_from_train():
    labels = np.repeat(np.arange(4), 100)
    carved = carve_splits({"train": labels}, seed=0)
    sizes = {role: len(idx) for role, (_, idx) in carved.items()}
    assert sizes["test"] == 60 and sizes["dev"] == 60  # 15 % each, stratified
    assert sizes["dev_test"] == pytest.approx(0.15 * 280, abs=4)
    assert sum(sizes.values()) == 400
    everything = np.concatenate([idx for _, idx in carved.values()])
    assert len(np.unique(everything)) == 400  # disjoint and covering
    for _, idx in carved.values():  # every split has every class
        assert set(labels[idx]) == {0, 1, 2, 3}


def test_a_source_test_split_is_kept_and_dev_is_carved_from_train():
    carved = carve_splits({"train": np.repeat([0, 1], 50), "test": np.array([0, 1, 1])}, seed=0)
    assert carved["test"][0] == "test" and list(carved["test"][1]) == [0, 1, 2]
    assert carved["dev"][0] == "train" and len(carved["dev"][1]) == 16
    assert not set(carved["dev"][1]) & set(carved["train"][1])


def test_image_policies_fit_every_shape():
    grey = np.zeros((2, 1, 28, 20), np.uint8)
    grey[:, :, 10:18, 6:14] = 200
    for policy in ImagePolicy:
        out = fit_images(grey, (3, 16, 16), policy)
        assert out.shape == (2, 3, 16, 16) and out.dtype == np.uint8
        assert np.array_equal(out[:, 0], out[:, 2])  # grey repeated to RGB
    padded = fit_images(grey, (1, 32, 32), ImagePolicy.PAD)
    assert padded[0, 0, 2:30, 6:26].sum() == grey[0, 0].sum() and padded[0, 0, :2].sum() == 0
    colour = np.random.default_rng(0).integers(0, 255, (3, 3, 8, 8), dtype=np.uint8)
    same = fit_images(colour, (3, 8, 8), ImagePolicy.RESIZE)
    assert np.array_equal(same, colour)
    assert fit_images(colour, (1, 8, 8), ImagePolicy.RESIZE).shape == (3, 1, 8, 8)


def test_materialized_tasks_are_cached_and_deterministic(stream, cache):
    task = stream.tasks[0]
    first = materialize(stream, task, cache)
    again = materialize(stream, task, cache)
    assert first.dataset.root == again.dataset.root
    assert set(first.dataset.split_sizes) == {"train", "dev", "dev_test", "test"}
    assert first.dataset.image_shape == (3, 8, 8)
    assert first.dataset.split_sizes["dev"] == 12 and first.dataset.split_sizes["test"] == 18
    reseeded = stream.tasks[0].source.__class__(**{**vars(stream.tasks[0].source), "seed": 9})
    moved = materialize(stream, stream.tasks[0].__class__(
        **{**vars(stream.tasks[0]), "source": reseeded}), cache)
    assert moved.dataset.fingerprint != first.dataset.fingerprint


def test_a_missing_dataset_is_reported_and_the_stream_runs_on_the_rest(tmp_path, cache):
    path = write_stream(tmp_path, extra='''
[[task]]
year = 2004
name = "not-here"
type = "objects"
source = { dataset = "no-such-dataset" }
''')
    suite = load_suite(path)
    with pytest.raises(TaskUnavailable, match="no-such-dataset"):
        materialize(suite, suite.tasks[-1], cache)
    streams = prepare_streams(suite, cache)
    assert len(streams.unavailable) == 1 and "not-here" in streams.unavailable[0]
    assert streams.test.task_names == ("shapes", "bars", "sym")
    assert streams.test_scenario.startswith("test-stream-3of4-")
    assert streams.dev_scenario == "dev-stream"
    assert stream_scenario("test", suite.test_tasks, 4) == "test-stream"


def test_streams_share_no_data_and_keep_scored_labels_in_the_parent(stream, cache):
    streams = prepare_streams(stream, cache)
    assert not set(streams.dev.fingerprints.values()) & set(streams.test.fingerprints.values())
    assert streams.dev.task_names == ("colours", "counts")
    files = np.load(streams.test.files["train_tasks"])
    assert not any("eval" in k or "test" in k for k in files.files)
    # task-incremental global ids: task t's labels are offset by the classes before it
    assert set(files["task_1_classes"]) == {2, 3}
    assert set(streams.test.eval_labels[streams.test.eval_task_ids == 1]) == {2, 3}
    # test stream trains on train + dev-test: 24 + 0.15·... of the 24 train images per class
    assert streams.test.num_train[0] == 48


@pytest.mark.parametrize(("hub", "what_to_do"), [
    ("ylecun/mnist", "`harness data import mnist PATH`"),  # a dataset with an importer
    ("someone/no-importer", "copy that cache's `hub-someone-no-importer-*` folder into"),
])
def test_an_unreachable_hub_task_says_what_to_do_instead(tmp_path, monkeypatch, hub,
                                                         what_to_do):
    def no_network(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HTTPS_PROXY", "https_proxy",
                     "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(tasks, "_HUB_FAILURES", {})
    path = write_stream(tmp_path, extra=f'''
[[task]]
year = 2004
name = "from-hub"
type = "objects"
source = {{ hub = "{hub}" }}
''')
    suite = load_suite(path)
    empty = DatasetCache(tmp_path / "cache")  # the session's cache may hold an imported MNIST
    for _ in range(2):  # the second time from the remembered failure, without a connection
        with pytest.raises(TaskUnavailable) as info:
            materialize(suite, suite.tasks[-1], empty)
        message = str(info.value)
        assert "\n" not in message and hub in message and "unreachable" in message
        assert what_to_do in message
