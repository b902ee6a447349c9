"""A tiny stream suite (2 dev tasks, 3 test tasks, 8×8 images) and its cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.cache import DatasetCache
from harness.suite import load_suite

TINY_STREAM = """
name = "tiny-stream"
description = "Five tiny procedural tasks; tests only."
family = "nevis"
backbone = "small_cnn"
backbone_options = {{ width = 4 }}
image_shape = [3, 8, 8]
stop_year = 1995

[budget]
epochs_per_task = {epochs}
batch_size = 16
search_trials_per_task = 3
time_limit_s = 120

[protocol]
num_trials = 2
num_seeds = 1
reference = "nevis-independent"

[[task]]
year = 1990
name = "colours"
type = "colour"
source = {{ generator = "colour", params = {{ colours = ["red", "blue", "green"] }}, per_class = [12, 4, 6], seed = 1 }}

[[task]]
year = 1995
name = "counts"
type = "counting"
source = {{ generator = "counting", params = {{ counts = [1, 3] }}, per_class = [12, 4, 6], seed = 2 }}

[[task]]
year = 2000
name = "shapes"
type = "shapes"
source = {{ generator = "shapes", params = {{ shapes = ["circle", "square"] }}, per_class = [{big}, 4, 6], seed = 3 }}

[[task]]
year = 2001
name = "bars"
type = "orientation"
source = {{ generator = "orientation", params = {{ num_angles = 2 }}, per_class = [12, 4, 6], seed = 4 }}
image_policy = "crop"

[[task]]
year = 2003
name = "sym"
type = "symmetry"
source = {{ generator = "symmetry", params = {{ symmetries = ["none", "mirror-lr"] }}, per_class = [12, 4, 6], seed = 5 }}
image_policy = "pad"
"""  # noqa: E501


def small_stream(name: str, tasks: str) -> str:
    """A stream suite of `tasks` (TOML [[task]] tables) at 16×16, divided at 1999."""
    return (f'name = "{name}"\ndescription = "tests only"\nfamily = "nevis"\n'
            'backbone = "small_cnn"\nimage_shape = [3, 16, 16]\nstop_year = 1999\n\n' + tasks)


def write_stream(folder: Path, epochs: int = 1, big: int = 24, extra: str = "") -> Path:
    path = folder / "tiny-stream.toml"
    path.write_text(TINY_STREAM.format(epochs=epochs, big=big) + extra)
    return path


@pytest.fixture
def stream_path(tmp_path) -> Path:
    return write_stream(tmp_path)


@pytest.fixture
def stream(stream_path):
    return load_suite(stream_path)


@pytest.fixture
def cache(isolated_cache) -> DatasetCache:
    return DatasetCache(isolated_cache)
