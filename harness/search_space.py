"""Hyperparameter search spaces (AlgoPerf's `tuning_search_space.json` format) and trial sampling.

A search space is a JSON object mapping each hyperparameter name to either a range or a list of
feasible points:

    {"lr": {"min": 1e-4, "max": 1e-1, "scaling": "log"},
     "batch": {"min": 16, "max": 128, "scaling": "log", "integer": true},
     "wd": {"feasible_points": [0.0, 5e-4]}}

- A range has `min` < `max` and a `scaling` of "linear" (the default) or "log" (needs min > 0).
  Values are floats unless `"integer": true` (then both bounds must be integers).
- `feasible_points` is a non-empty list of numbers, strings or booleans.

Trials are quasi-random: points of a scrambled Sobol sequence (`scipy.stats.qmc`), one dimension
per hyperparameter, in the order the file lists them, mapped onto each range (log ranges
uniformly in log space) or onto the feasible points (`floor(u * k)`). Quasi-random points cover
the space more evenly than independent uniform draws for the same number of trials, which is why
AlgoPerf and the *Reality Check* protocol use them.
"""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from harness.configfile import Problems, did_you_mean, read_json

__all__ = ["Param", "Scaling", "SearchSpace", "load_search_space", "parse_search_space"]

PointValue = float | int | str | bool

RANGE_KEYS = ("min", "max", "scaling", "integer")
POINTS_KEYS = ("feasible_points",)


class Scaling(enum.Enum):
    """How a range is spread over the unit interval."""

    LINEAR = "linear"
    LOG = "log"


@dataclass(frozen=True)
class Param:
    """One hyperparameter: a range (`low`, `high`, `scaling`, `integer`) or `feasible_points`."""

    name: str
    low: float | int | None = None
    high: float | int | None = None
    scaling: Scaling = Scaling.LINEAR
    integer: bool = False
    feasible_points: tuple[PointValue, ...] | None = None

    @property
    def is_range(self) -> bool:
        return self.feasible_points is None

    def value_at(self, u: float) -> PointValue:
        """Map a unit-interval coordinate `u` in [0, 1) to a value of this hyperparameter."""
        u = min(max(float(u), 0.0), math.nextafter(1.0, 0.0))
        if self.feasible_points is not None:
            return self.feasible_points[int(u * len(self.feasible_points))]
        assert self.low is not None and self.high is not None  # guaranteed by the parser
        if self.integer:
            return self._integer_at(u)
        if self.scaling is Scaling.LOG:
            log_low, log_high = math.log(self.low), math.log(self.high)
            return float(min(math.exp(log_low + u * (log_high - log_low)), self.high))
        return float(self.low + u * (self.high - self.low))

    def _integer_at(self, u: float) -> int:
        # Each integer gets an equal share of the unit interval (linear) or of log space (log),
        # so both bounds are reachable.
        low, high = int(self.low), int(self.high)  # type: ignore[arg-type]
        if self.scaling is Scaling.LOG:
            log_low, log_high = math.log(low), math.log(high + 1)
            return min(int(math.exp(log_low + u * (log_high - log_low))), high)
        return min(low + int(u * (high - low + 1)), high)

    def to_json(self) -> dict[str, Any]:
        if self.feasible_points is not None:
            return {"feasible_points": list(self.feasible_points)}
        out: dict[str, Any] = {"min": self.low, "max": self.high, "scaling": self.scaling.value}
        if self.integer:
            out["integer"] = True
        return out


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of hyperparameters; `sample` draws quasi-random trials from it."""

    params: tuple[Param, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def __len__(self) -> int:
        return len(self.params)

    def to_json(self) -> dict[str, Any]:
        """The space in its file format (round-trips through `parse_search_space`)."""
        return {p.name: p.to_json() for p in self.params}

    def sample(self, num_trials: int, seed: int) -> list[dict[str, PointValue]]:
        """`num_trials` hyperparameter settings from a scrambled Sobol sequence seeded by `seed`.

        Sobol points are balanced only in blocks of powers of two, so this draws the next power
        of two >= `num_trials` and keeps the first `num_trials` (the prefix of a scrambled Sobol
        sequence is still low-discrepancy). The same (num_trials, seed) always gives the same
        trials, and the first n trials of a larger draw equal a draw of n.
        """
        if num_trials < 0:
            raise ValueError(f"num_trials must be >= 0, got {num_trials}")
        if num_trials == 0:
            return []
        if not self.params:
            return [{} for _ in range(num_trials)]
        sobol = _scrambled_sobol(len(self.params), seed)
        units = sobol.random_base2(max(0, math.ceil(math.log2(num_trials))))[:num_trials]
        return [
            {p.name: p.value_at(u) for p, u in zip(self.params, row, strict=True)}
            for row in units
        ]


def _scrambled_sobol(dims: int, seed: int) -> qmc.Sobol:
    rng = np.random.default_rng(seed)
    try:
        return qmc.Sobol(dims, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 names the argument `seed`
        return qmc.Sobol(dims, scramble=True, seed=rng)


def load_search_space(path: Path) -> SearchSpace:
    """Read and validate a search space file; raises ConfigError listing every problem."""
    data, text = read_json(Path(path))
    problems = Problems(path, text)
    space = parse_search_space(data, problems)
    problems.raise_if_any()
    assert space is not None  # parse returns None only when it recorded a problem
    return space


def parse_search_space(data: Any, problems: Problems) -> SearchSpace | None:
    """Validate parsed JSON; record every problem in `problems`; None if there were any."""
    before = len(problems.items)
    if not isinstance(data, dict):
        problems.add(
            "a search space must be a JSON object mapping hyperparameter names to "
            f'{{"min", "max", "scaling"}} or {{"feasible_points"}}, got {type(data).__name__}',
            line=1,
        )
        return None
    if not data:
        problems.add("the search space is empty; list at least one hyperparameter, or delete "
                     'the file and declare ruleset = "self-tuning"', line=1)
    params = [_parse_param(name, spec, problems) for name, spec in data.items()]
    if len(problems.items) > before:
        return None
    return SearchSpace(tuple(p for p in params if p is not None))


def _parse_param(name: str, spec: Any, problems: Problems) -> Param | None:
    lines = _ParamLines(problems.text, name)
    where = f'hyperparameter "{name}"'
    if not isinstance(spec, dict):
        problems.add(f"{where} must be an object with min/max/scaling or feasible_points, "
                     f"got {spec!r}", line=lines.param)
        return None
    for key in spec:
        if key not in RANGE_KEYS + POINTS_KEYS:
            problems.add(f'unknown key "{key}" in {where}'
                         f"{did_you_mean(key, RANGE_KEYS + POINTS_KEYS)}; allowed: "
                         f"{', '.join(RANGE_KEYS)} or {', '.join(POINTS_KEYS)}",
                         line=lines.key(key))
    if "feasible_points" in spec:
        extra = [k for k in spec if k in RANGE_KEYS]
        if extra:
            problems.add(f"{where} has both feasible_points and {', '.join(extra)}; "
                         "give either a range or a list of points", line=lines.param)
            return None
        return _parse_points(name, spec["feasible_points"], problems, lines)
    return _parse_range(name, spec, problems, lines)


def _parse_points(name: str, points: Any, problems: Problems, lines: _ParamLines) -> Param | None:
    where = f'hyperparameter "{name}"'
    line = lines.key("feasible_points")
    if not isinstance(points, list) or not points:
        problems.add(f"feasible_points of {where} must be a non-empty list, got {points!r}",
                     line=line)
        return None
    bad = [p for p in points if not isinstance(p, int | float | str | bool) or _not_finite(p)]
    if bad:
        problems.add(f"feasible_points of {where} must be numbers, strings or booleans; "
                     f"bad: {', '.join(repr(b) for b in bad)}", line=line)
        return None
    return Param(name, feasible_points=tuple(points))


def _parse_range(name: str, spec: dict[str, Any], problems: Problems,
                 lines: _ParamLines) -> Param | None:
    where = f'hyperparameter "{name}"'
    before = len(problems.items)
    bounds: dict[str, float | int] = {}
    for key in ("min", "max"):
        if key not in spec:
            problems.add(f'{where} is missing "{key}" (or give "feasible_points")',
                         line=lines.param)
        elif not _is_number(spec[key]) or _not_finite(spec[key]):
            problems.add(f'"{key}" of {where} must be a finite number, got {spec[key]!r}',
                         line=lines.key(key))
        else:
            bounds[key] = spec[key]
    scaling = _parse_scaling(where, spec.get("scaling", "linear"), problems, lines)
    integer = spec.get("integer", False)
    if not isinstance(integer, bool):
        problems.add(f'"integer" of {where} must be true or false, got {integer!r}',
                     line=lines.key("integer"))
    if len(bounds) == 2:
        _check_bounds(where, bounds["min"], bounds["max"], scaling, integer is True,
                      problems, lines)
    if len(problems.items) > before or scaling is None:
        return None
    return Param(name, low=bounds["min"], high=bounds["max"], scaling=scaling,
                 integer=integer is True)


def _parse_scaling(where: str, value: Any, problems: Problems,
                   lines: _ParamLines) -> Scaling | None:
    choices = [s.value for s in Scaling]
    if isinstance(value, str) and value in choices:
        return Scaling(value)
    hint = did_you_mean(value, choices) if isinstance(value, str) else ""
    problems.add(f'"scaling" of {where} must be one of {", ".join(choices)}, got {value!r}{hint}',
                 line=lines.key("scaling"))
    return None


def _check_bounds(where: str, low: float, high: float, scaling: Scaling | None, integer: bool,
                  problems: Problems, lines: _ParamLines) -> None:
    if low >= high:
        problems.add(f"{where} needs min < max, got min={low!r}, max={high!r}",
                     line=lines.key("min"))
    if scaling is Scaling.LOG and low <= 0:
        problems.add(f"{where} has log scaling, which needs min > 0, got min={low!r}",
                     line=lines.key("min"))
    if integer and not (isinstance(low, int) and isinstance(high, int)):
        problems.add(f"{where} is integer, so min and max must be integers, "
                     f"got {low!r} and {high!r}", line=lines.key("min"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _not_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


class _ParamLines:
    """Finds lines of a hyperparameter and of its keys in the JSON text.

    `Problems.add(key=...)` finds a key's first occurrence in the whole file, but "min" or
    "scaling" occur once per hyperparameter, so keys are searched after the parameter's name.
    """

    def __init__(self, text: str, name: str):
        self.text = text
        match = re.search(rf"{re.escape(json.dumps(name))}\s*:", text)
        self._start = match.start() if match else 0
        self.param = self._line_at(self._start) if match else None

    def key(self, key: str) -> int | None:
        match = re.compile(rf'"{re.escape(key)}"\s*:').search(self.text, self._start)
        return self._line_at(match.start()) if match else self.param

    def _line_at(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1
