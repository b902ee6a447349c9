"""Stream tasks from the Hub: a dataset with several label columns is several datasets, so a
task asking for one column never gets a cached copy (or an importer's files) of another."""

from __future__ import annotations

import numpy as np

import harness.data.sources.hub as hub
from harness.data.cache import DatasetCache
from harness.nevis.tasks import _hub_dataset
from harness.suite import load_suite
from tests.nevis.conftest import small_stream

SUITE = small_stream("two-labelings", '''[[task]]
year = 1990
name = "toy-fine"
type = "objects"
source = { hub = "me/toy", label_column = "fine" }

[[task]]
year = 1991
name = "toy-coarse"
type = "objects"
source = { hub = "me/toy", label_column = "coarse" }

[[task]]
year = 2005
name = "other"
type = "shapes"
source = { generator = "shapes", params = { shapes = ["circle", "square"] }, per_class = [20, 5, 5], seed = 1 }
''')  # noqa: E501


def fake_hub(monkeypatch, dataset_dict, downloads: list) -> None:
    """`from_hub` as it is once `datasets.load_dataset` returned `dataset_dict` (no Hub here);
    each download's label column is appended to `downloads`."""
    def from_hub(hub_id, root=None, *, name=None, config=None, image_column="image",
                 label_column="label", class_names=None, offline_hint=None, image_size=None,
                 splits=None):
        downloads.append(label_column)
        return hub.convert_hf(dataset_dict, root, name=name, image_column=image_column,
                              label_column=label_column, hub_id=hub_id, config=config,
                              image_size=image_size, splits=splits)

    monkeypatch.setattr(hub, "from_hub", from_hub)


def test_each_label_column_gets_its_own_copy(tmp_path, monkeypatch):
    import datasets
    from PIL import Image

    rng = np.random.default_rng(0)

    def split(n: int):
        fine = np.arange(n) % 4
        images = [Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8))
                  for _ in range(n)]
        return datasets.Dataset.from_dict({"image": images, "fine": fine.tolist(),
                                           "coarse": (fine // 2).tolist()})

    toy = datasets.DatasetDict({"train": split(40), "test": split(12)})
    downloads = []

    fake_hub(monkeypatch, toy, downloads)
    path = tmp_path / "s.toml"
    path.write_text(SUITE)
    suite = load_suite(path)
    cache = DatasetCache(tmp_path / "cache")
    for _ in range(2):  # the second time from the cache
        got = {t.name: _hub_dataset(t, t.source, cache) for t in suite.dev_tasks}
        assert sorted(set(got["toy-fine"].labels("train").tolist())) == [0, 1, 2, 3]
        assert sorted(set(got["toy-coarse"].labels("train").tolist())) == [0, 1]
    assert downloads == ["fine", "coarse"]


PHOTOS = small_stream("photos", """[[task]]
year = 1990
name = "warm-up"
type = "shapes"
source = { generator = "shapes", params = { shapes = ["circle", "square"] }, per_class = [20, 5, 5], seed = 1 }

[[task]]
year = 2005
name = "food"
type = "objects"
source = { hub = "me/food" }
splits = { train = "train", test = "validation" }
image_policy = "crop"
""")  # noqa: E501


def test_photos_of_many_sizes_and_a_test_split_named_validation_are_taken(tmp_path,
                                                                         monkeypatch):
    """nevis-real's photo tasks (flowers, pets, textures, food) have images of many sizes and
    food-101's test split is "validation": the conversion refused both, so those tasks were
    always left out of the stream."""
    import datasets
    from PIL import Image

    from harness.nevis.evaluation import prepare_streams

    rng = np.random.default_rng(1)

    def split(n: int):
        sizes = [(40, 75), (65, 74), (32, 32), (90, 48)]
        images = [Image.fromarray(rng.integers(0, 255, (*sizes[i % 4][::-1], 3), dtype=np.uint8))
                  if i % 3 else Image.fromarray(rng.integers(0, 255, sizes[i % 4][::-1],
                                                             dtype=np.uint8))  # greyscale
                  for i in range(n)]
        return datasets.Dataset.from_dict({"image": images, "label": [i % 2 for i in range(n)]})

    food = datasets.DatasetDict({"train": split(40), "validation": split(12)})

    fake_hub(monkeypatch, food, [])
    path = tmp_path / "photos.toml"
    path.write_text(PHOTOS)
    streams = prepare_streams(load_suite(path), DatasetCache(tmp_path / "cache"))
    assert streams.test.task_names == ("food",) and streams.unavailable == ()
    assert np.load(streams.test.files["eval_inputs"]).shape == (12, 3, 16, 16)


def test_photos_of_one_size_are_kept_as_they_are(tmp_path, monkeypatch):
    """Only mixed sizes are brought to a common size: a dataset of one size converts to the
    same bytes on every machine, and as copies converted before sizes were handled did."""
    import datasets
    from PIL import Image

    rng = np.random.default_rng(2)

    def split(n: int):
        images = [Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8))
                  for _ in range(n)]
        return datasets.Dataset.from_dict({"image": images, "label": [i % 2 for i in range(n)]})

    fake_hub(monkeypatch, datasets.DatasetDict({"train": split(20), "validation": split(6)}),
             [])
    path = tmp_path / "photos.toml"
    path.write_text(PHOTOS)
    suite = load_suite(path)
    [food] = suite.test_tasks
    converted = _hub_dataset(food, food.source, DatasetCache(tmp_path / "cache"))
    assert converted.image_shape == (3, 96, 96) and converted.source["image_size"] is None
