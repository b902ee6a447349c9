"""Packed stream files follow the task order, so two orders of the same tasks never share a
pack folder (a shared folder trains task t on another task's images and labels)."""

from __future__ import annotations

import numpy as np

from harness.nevis.evaluation import prepare_streams
from harness.nevis.tasks import materialize
from harness.suite import load_suite
from tests.nevis.conftest import TINY_STREAM, small_stream

TEXT = TINY_STREAM.format(epochs=1, big=24)
SHAPES = TEXT[TEXT.index("[[task]]\nyear = 2000"):TEXT.index("[[task]]\nyear = 2001")]
BARS = TEXT[TEXT.index("[[task]]\nyear = 2001"):TEXT.index("[[task]]\nyear = 2003")]


def test_two_orders_of_the_same_tasks_get_their_own_files(tmp_path, cache):
    same_year = BARS.replace("year = 2001", "year = 2000")
    plans = {}
    for order, (first, second) in {"shapes first": (SHAPES, same_year),
                                   "bars first": (same_year, SHAPES)}.items():
        path = tmp_path / f"{order}.toml"
        assert SHAPES + BARS in TEXT
        path.write_text(TEXT.replace(SHAPES + BARS, first + second))
        suite = load_suite(path)
        plan = prepare_streams(suite, cache).test
        truth = np.concatenate([materialize(suite, t, cache).dataset.images("test")
                                for t in suite.test_tasks])
        assert np.array_equal(np.load(plan.files["eval_inputs"]), truth), order
        labels = np.load(plan.files["train_tasks"])["task_0_train_labels"]
        assert set(labels.tolist()) <= set(range(plan.num_classes[0])), order
        plans[order] = plan
    assert plans["shapes first"].task_names[:2] == ("shapes", "bars")
    assert plans["bars first"].task_names[:2] == ("bars", "shapes")
    assert plans["shapes first"].files != plans["bars first"].files


def test_one_source_named_two_ways_in_the_two_streams_is_refused(tmp_path):
    """The suite file's check compares how sources are named; a dataset reached as a cached
    dataset by one task and as a Hub id with that local fallback by another is one source."""
    import pytest

    from harness.data.cache import DatasetCache
    from harness.errors import ConfigError

    path = tmp_path / "leaky.toml"
    path.write_text(small_stream("leaky", '''[[task]]
year = 1990
name = "digits-dev"
type = "digits"
source = { dataset = "glyphs-digits-clean" }
image_policy = "pad"

[[task]]
year = 2005
name = "digits-test"
type = "digits"
source = { hub = "example/digits", local = ["glyphs-digits-clean"] }
'''))
    suite = load_suite(path)  # the names differ: the suite file's check cannot tell
    cache = DatasetCache(tmp_path / "cache", sizes_override={"train": 40, "val": 10, "test": 10})
    with pytest.raises(ConfigError, match="'digits-dev' and test task 'digits-test' are made "
                                          "from the same source data"):
        prepare_streams(suite, cache)
