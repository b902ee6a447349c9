"""Bootstrap intervals of each method's rank across benchmarks.

A method's rank is its position when methods are ordered by average rank over the benchmarks
(1 = best; methods with equal average ranks share the smaller position). Two resampling
schemes, both drawing only from the `numpy.random.Generator` the caller passes:

- `rank_intervals_over_benchmarks`: resample the benchmarks (rows of the score matrix) with
  replacement: "how would the ranking move on another draw of benchmarks like these?";
- `rank_intervals_over_seeds`: resample the seeds within every (benchmark, method) cell:
  "how much of the ranking is seed noise?".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from harness.stats.resample import pack_strata, stratified_draws
from harness.stats.validation import (
    check_open_unit,
    check_reps,
    method_names,
    score_matrix,
)


@dataclass(frozen=True)
class RankIntervals:
    """Point rank and percentile bootstrap interval of each method's rank (1 = best).

    All tuples follow the score columns (`methods`).
    """

    methods: tuple[str, ...]
    rank: tuple[int, ...]
    ci_low: tuple[int, ...]
    ci_high: tuple[int, ...]
    confidence: float
    reps: int
    over: Literal["benchmarks", "seeds"]


def _positions(mean_scores: np.ndarray) -> np.ndarray:
    """Method positions (1 = best) from (..., num_benchmarks, num_methods) higher-is-better
    scores: rank per benchmark (ties averaged), average over benchmarks, rank the averages."""
    per_benchmark = sps.rankdata(-mean_scores, method="average", axis=-1)
    average = np.mean(per_benchmark, axis=-2)
    return sps.rankdata(average, method="min", axis=-1).astype(int)


def _intervals(
    names: tuple[str, ...], point: np.ndarray, replicates: np.ndarray, confidence: float,
    over: Literal["benchmarks", "seeds"],
) -> RankIntervals:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail], axis=0, method="inverted_cdf")
    return RankIntervals(
        methods=names, rank=tuple(int(r) for r in point), ci_low=tuple(int(r) for r in low),
        ci_high=tuple(int(r) for r in high), confidence=confidence,
        reps=int(replicates.shape[0]), over=over,
    )


def rank_intervals_over_benchmarks(
    scores: ArrayLike,
    *,
    rng: np.random.Generator,
    reps: int = 2000,
    confidence: float = 0.95,
    higher_is_better: bool = True,
    methods: Sequence[str] | None = None,
) -> RankIntervals:
    """Rank intervals by resampling benchmarks.

    `scores`: (num_benchmarks, num_methods) per-benchmark mean scores, higher is better unless
    `higher_is_better=False`. Each replicate draws num_benchmarks rows with replacement.
    """
    check_open_unit(confidence, "confidence")
    check_reps(reps)
    oriented = score_matrix(scores, higher_is_better)
    names = method_names(methods, oriented.shape[1])
    rows = rng.integers(0, oriented.shape[0], size=(reps, oriented.shape[0]))
    return _intervals(
        names, _positions(oriented), _positions(oriented[rows]), confidence, "benchmarks"
    )


def _seed_cube(runs: ArrayLike, higher_is_better: bool) -> np.ndarray:
    array = np.asarray(runs, dtype=float)
    if array.ndim != 3 or array.shape[0] < 1 or array.shape[1] < 1 or array.shape[2] < 2:
        raise ValueError(
            "runs must have shape (num_seeds, num_benchmarks, num_methods) with at least 2 "
            f"methods, got {array.shape}"
        )
    if np.any(np.isinf(array)):
        raise ValueError("runs contain infinite values")
    if np.any(np.all(np.isnan(array), axis=0)):
        raise ValueError(
            "a (benchmark, method) cell has no finite seed; resolve gaps with "
            "harness.stats.common_subset first"
        )
    return array if higher_is_better else -array


def rank_intervals_over_seeds(
    runs: ArrayLike,
    *,
    rng: np.random.Generator,
    reps: int = 2000,
    confidence: float = 0.95,
    higher_is_better: bool = True,
    methods: Sequence[str] | None = None,
) -> RankIntervals:
    """Rank intervals by resampling seeds within each (benchmark, method) cell.

    `runs`: (num_seeds, num_benchmarks, num_methods) per-seed scores, NaN-padded where a cell
    has fewer seeds (every cell needs one). Each replicate redraws every cell's finite seeds
    with replacement, takes cell means, and ranks as `rank_intervals_over_benchmarks` does.
    The draws are `harness.stats.resample.stratified_draws` (cells are the strata; with equal
    seed counts in every cell, the stream of the per-element-bound draws used before, with
    unequal counts a different stream, same method), made and summed in blocks of
    replicates (`resample.BLOCK_ELEMENTS` draws each), so memory does not grow with reps.
    """
    check_open_unit(confidence, "confidence")
    check_reps(reps)
    cube = _seed_cube(runs, higher_is_better)
    num_seeds, num_benchmarks, num_methods = cube.shape
    names = method_names(methods, num_methods)
    packed, counts = pack_strata(cube.reshape(num_seeds, -1))
    sums = np.empty((reps, counts.size))
    for block in stratified_draws(counts, reps, rng):
        sums[block.replicates, block.strata] = block.gather(packed).sum(axis=1)
    means = (sums / counts).reshape(reps, num_benchmarks, num_methods)
    point = _positions(np.nanmean(cube, axis=0))
    return _intervals(names, point, _positions(means), confidence, "seeds")
