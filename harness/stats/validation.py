"""Input checks shared by the statistics modules: every public function validates its input
here and raises `ValueError` with a message that says what shape or value was expected."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import numpy as np
from numpy.typing import ArrayLike


def sample(values: ArrayLike, name: str = "sample") -> np.ndarray:
    """Return a non-empty, finite, 1-D float array or raise ValueError."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per seed), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty; need at least one value")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values; drop failed runs first")
    return array


def check_open_unit(value: float, name: str) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")


def check_choice(value: str, allowed: type, name: str) -> None:
    choices = get_args(allowed)
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def check_reps(reps: int) -> None:
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")


def p_vector(p_values: ArrayLike) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be 1-D, got shape {p.shape}")
    if p.size and not (np.all(np.isfinite(p)) and p.min() >= 0.0 and p.max() <= 1.0):
        raise ValueError("p-values must be finite and lie in [0, 1]")
    return p


def score_matrix(
    scores: ArrayLike, higher_is_better: bool, *, min_benchmarks: int = 1
) -> np.ndarray:
    """A finite (num_benchmarks, num_methods) matrix turned so that higher is better.

    Raises ValueError for another shape, fewer than 2 methods, fewer than `min_benchmarks`
    rows, or NaN/inf (a gap must be resolved with `common_subset`, never averaged over).
    """
    array = np.asarray(scores, dtype=float)
    if array.ndim != 2:
        raise ValueError(
            f"scores must have shape (num_benchmarks, num_methods), got shape {array.shape}"
        )
    num_benchmarks, num_methods = array.shape
    if num_methods < 2:
        raise ValueError(f"need at least 2 methods (columns) to compare, got {num_methods}")
    if num_benchmarks < min_benchmarks:
        raise ValueError(
            f"need at least {min_benchmarks} benchmarks (rows), got {num_benchmarks}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(
            "scores contain NaN or infinite values; a method missing a benchmark must be "
            "handled with harness.stats.common_subset, not averaged over"
        )
    return array if higher_is_better else -array


def method_names(methods: Sequence[str] | None, num_methods: int) -> tuple[str, ...]:
    """The given column names (checked: one per column, distinct), or "0", "1", ..."""
    if methods is None:
        return tuple(str(j) for j in range(num_methods))
    names = tuple(str(m) for m in methods)
    if len(names) != num_methods:
        raise ValueError(f"got {len(names)} method names for {num_methods} score columns")
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be distinct, got {names}")
    return names
