"""Search spaces: parsing with every problem reported, and quasi-random trial sampling."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest

from harness.configfile import Problems
from harness.errors import ConfigError
from harness.search_space import (
    Param,
    Scaling,
    SearchSpace,
    load_search_space,
    parse_search_space,
)

VALID = {
    "lr": {"min": 1e-4, "max": 1e-1, "scaling": "log"},
    "momentum": {"min": 0.5, "max": 0.99},
    "width": {"min": 16, "max": 128, "scaling": "log", "integer": True},
    "wd": {"feasible_points": [0.0, 5e-4, 1e-3]},
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "search_space.json"
    path.write_text(text)
    return path


def test_valid_file_loads_in_order_and_round_trips(tmp_path):
    space = load_search_space(write(tmp_path, json.dumps(VALID, indent=2)))
    assert space.names == ("lr", "momentum", "width", "wd")
    assert len(space) == 4
    assert space.params[0] == Param("lr", low=1e-4, high=1e-1, scaling=Scaling.LOG)
    assert space.params[1].scaling is Scaling.LINEAR  # the default
    assert space.params[3].feasible_points == (0.0, 5e-4, 1e-3)
    again = load_search_space(write(tmp_path, json.dumps(space.to_json())))
    assert again == space


BROKEN = """{
  "lr": {"min": 1e-4, "max": 1e-1, "scalling": "log"},
  "wd": {"feasible_points": []},
  "beta": {"min": 0.9, "max": 0.5},
  "eps": {"min": 0, "max": 1, "scaling": "log"},
  "drop": {"max": 0.5},
  "bad": 3,
  "kind": {"min": 1, "max": 2, "scaling": "exp"}
}
"""


def test_every_problem_is_reported_at_once_with_lines(tmp_path):
    path = write(tmp_path, BROKEN)
    with pytest.raises(ConfigError) as info:
        load_search_space(path)
    problems = info.value.problems
    expected = [
        (2, 'unknown key "scalling"', '(did you mean "scaling"?)'),
        (3, "feasible_points", "non-empty"),
        (4, '"beta"', "min < max"),
        (5, '"eps"', "min > 0"),
        (6, '"drop" is missing "min"', ""),
        (7, '"bad" must be an object', ""),
        (8, '"scaling"', "linear, log"),
    ]
    assert len(problems) == len(expected), problems
    for problem, (line, what, detail) in zip(problems, expected, strict=True):
        assert problem.startswith(f"{path}:{line}: "), problem
        assert what in problem and detail in problem, problem


def test_lines_of_nested_keys_are_found_after_their_parameter(tmp_path):
    text = '{\n  "a": {"min": 1, "max": 2},\n  "b": {\n    "min": 3,\n    "max": 1\n  }\n}'
    problems = Problems(tmp_path / "s.json", text)
    assert parse_search_space(json.loads(text), problems) is None
    assert problems.items == [f"{tmp_path / 's.json'}:4: hyperparameter \"b\" needs min < max, "
                              "got min=3, max=1"]


@pytest.mark.parametrize("data", [[1, 2], "lr", {}])
def test_top_level_must_be_a_non_empty_object(tmp_path, data):
    problems = Problems(tmp_path / "s.json", json.dumps(data))
    assert parse_search_space(data, problems) is None
    assert len(problems.items) == 1 and ":1: " in problems.items[0]


def test_points_and_range_together_are_rejected(tmp_path):
    data = {"x": {"feasible_points": [1], "min": 0}}
    problems = Problems(tmp_path / "s.json", json.dumps(data))
    assert parse_search_space(data, problems) is None
    assert "either a range or a list of points" in problems.items[0]


def test_integer_range_needs_integer_bounds(tmp_path):
    data = {"n": {"min": 1.5, "max": 8, "integer": True}}
    problems = Problems(tmp_path / "s.json", json.dumps(data))
    assert parse_search_space(data, problems) is None
    assert "must be integers" in problems.items[0]


def test_invalid_json_is_one_problem_with_its_line(tmp_path):
    path = write(tmp_path, '{\n  "lr": {"min": 1e-4,}\n}')
    with pytest.raises(ConfigError, match=rf"{path}:2: invalid JSON"):
        load_search_space(path)


SPACE = SearchSpace((
    Param("lr", low=1e-5, high=1e-1, scaling=Scaling.LOG),
    Param("momentum", low=0.0, high=1.0),
    Param("width", low=1, high=8, integer=True),
    Param("act", feasible_points=("relu", "gelu", "tanh")),
))


def test_sampling_is_deterministic_by_seed_and_plain_python():
    first, again = SPACE.sample(16, seed=3), SPACE.sample(16, seed=3)
    assert first == again
    assert SPACE.sample(16, seed=4) != first
    for trial in first:
        assert type(trial["lr"]) is float and type(trial["momentum"]) is float
        assert type(trial["width"]) is int and type(trial["act"]) is str


def test_samples_are_within_bounds_and_points_all_reachable():
    trials = SPACE.sample(64, seed=0)
    assert all(1e-5 <= t["lr"] <= 1e-1 and 0.0 <= t["momentum"] <= 1.0 for t in trials)
    assert {t["width"] for t in trials} == set(range(1, 9))
    assert {t["act"] for t in trials} == {"relu", "gelu", "tanh"}


def test_log_scaling_covers_each_decade_evenly():
    # 4 decades, 64 Sobol points: a balanced design puts 16 in each decade (give or take).
    decades = [int(math.floor(math.log10(t["lr"]) + 5)) for t in SPACE.sample(64, seed=1)]
    counts = [decades.count(d) for d in range(4)]
    assert all(12 <= c <= 20 for c in counts), counts


def test_linear_scaling_is_even_on_the_unit_interval():
    halves = [t["momentum"] < 0.5 for t in SPACE.sample(32, seed=2)]
    assert sum(halves) == 16  # scrambled Sobol is exactly balanced over powers of two


def test_non_power_of_two_is_a_prefix_and_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        five = SPACE.sample(5, seed=7)
    assert five == SPACE.sample(8, seed=7)[:5]
    assert SPACE.sample(0, seed=7) == []
    with pytest.raises(ValueError):
        SPACE.sample(-1, seed=7)
