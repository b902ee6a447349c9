"""The stream format: loading, the dev/test division, and validation that reports everything."""

from __future__ import annotations

import numpy as np
import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.nevis.stream import DatasetSource, HubSource, ImagePolicy, ProceduralSource
from harness.suite import load_suite
from tests.nevis.conftest import write_stream


def test_tiny_stream_divides_at_the_stop_year(stream):
    assert [t.name for t in stream.dev_tasks] == ["colours", "counts"]
    assert [t.name for t in stream.test_tasks] == ["shapes", "bars", "sym"]
    assert stream.image_shape == (3, 8, 8)
    assert stream.tasks[3].image_policy is ImagePolicy.CROP
    assert stream.protocol.reference == "nevis-independent"


def test_nevis_mini_meets_the_issue_shape():
    suite = load_suite("nevis-mini")
    assert len(suite.tasks) >= 24
    assert all(isinstance(t.source, ProceduralSource) for t in suite.tasks)
    classes = [len(t.source.class_names) for t in suite.tasks]
    assert min(classes) == 2 and max(classes) >= 60
    # training set of a test-stream task: train + dev-test = the generator's train split
    train = [len(t.source.class_names) * t.source.per_class[0] for t in suite.test_tasks]
    assert max(train) / min(train) >= 1000 and min(train) <= 50
    years = [t.year for t in suite.tasks]
    assert years == sorted(years)
    assert len({t.task_type for t in suite.tasks}) >= 8
    assert suite.dev_tasks and suite.test_tasks


def test_nevis_real_lists_hub_datasets_by_year():
    suite = load_suite("nevis-real")
    assert all(isinstance(t.source, HubSource | DatasetSource) for t in suite.tasks)
    hubs = [t.source.hub for t in suite.tasks if isinstance(t.source, HubSource)]
    assert "ylecun/mnist" in hubs and "uoft-cs/cifar10" in hubs and len(hubs) >= 10
    assert [t.year for t in suite.tasks] == sorted(t.year for t in suite.tasks)


BROKEN = '''
[[task]]
year = 1980
name = "late-entry"
type = "colours"
source = { generator = "colour", params = { colours = ["red", "blue"] }, per_class = [4, 2, 2] }
image_policy = "stretch"
'''


def test_every_problem_is_reported_at_once(tmp_path):
    path = write_stream(tmp_path, extra=BROKEN)
    path.write_text(path.read_text().replace("stop_year = 1995", "stop_year = 1995\nbugdet = 1"))
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    text = str(info.value)
    assert 'unknown key "bugdet"' in text and 'did you mean "budget"' in text
    assert 'unknown type "colours"' in text and 'did you mean "colour"' in text
    assert 'unknown image_policy "stretch"' in text
    assert "chronological order" in text


@pytest.mark.parametrize("edit, message", [
    (("stop_year = 1995", "stop_year = 2010"), "leaves the test stream empty"),
    (('generator = "counting"', 'generator = "countng"'), 'did you mean "counting"'),
    (("per_class = [12, 4, 6], seed = 5", "per_class = [12, 4], seed = 5"), '"per_class"'),
    (('image_policy = "pad"', 'image_policy = "pad"\nsplits = { train = "train", test = '
      '"train" }'), 'gives the source split "train" two roles'),
])
def test_invalid_streams_are_refused(tmp_path, edit, message):
    path = write_stream(tmp_path)
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(ConfigError, match=message):
        load_suite(path)


def test_a_source_shared_by_the_dev_and_test_streams_is_refused(tmp_path):
    path = write_stream(tmp_path, extra='''
[[task]]
year = 2005
name = "colours-again"
type = "colour"
source = { generator = "colour", params = { colours = ["red", "blue", "green"] }, per_class = [12, 4, 6], seed = 1 }
''')  # noqa: E501
    with pytest.raises(ConfigError, match="share a source"):
        load_suite(path)


def test_cli_reports_a_broken_stream_in_one_line_with_exit_code_2(tmp_path, capsys):
    path = write_stream(tmp_path)
    path.write_text(path.read_text().replace('type = "shapes"', 'type = "shaps"'))
    assert main(["evaluate", "--suite", str(path), "--submissions", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert 'unknown type "shaps"' in err and "Traceback" not in err


def test_generators_are_deterministic_and_class_dependent():
    from harness.nevis.generators import GENERATORS

    labels = np.array([0, 1] * 20)
    for name, kind in GENERATORS.items():
        params = {**kind.defaults, **{
            "glyphs": {"chars": "AB"}, "fonts": {"fonts": ["DejaVuSans.ttf", "DejaVuSerif.ttf"]},
            "shapes": {"shapes": ["circle", "cross"]}, "textures": {"textures": ["dots", "rings"]},
            "counting": {"counts": [1, 6]}, "orientation": {"num_angles": 2},
            "colour": {"colours": ["red", "blue"]},
            "symmetry": {"symmetries": ["none", "rotation-90"]},
            "noise-level": {"levels": [0.0, 0.3]}}[name]}
        a = kind.render(np.random.default_rng(0), labels, params)
        b = kind.render(np.random.default_rng(0), labels, params)
        assert a.dtype == np.uint8 and a.shape == (40, 3, 32, 32), name
        assert np.array_equal(a, b), name
    counting = GENERATORS["counting"]
    params = {**counting.defaults, "counts": [1, 6], "min_contrast": 0.5, "noise_std": 0.0}
    one = counting.render(np.random.default_rng(1), np.zeros(30, int), params)
    six = counting.render(np.random.default_rng(1), np.ones(30, int), params)
    # more discs, more pixels away from the background (the corner pixel is background)
    ink = [(np.abs(x.astype(int) - x[:, :, :1, :1].astype(int)).sum(1) > 30).mean()
           for x in (one, six)]
    assert ink[1] > 3 * ink[0]
