"""Aggregates of normalized scores across tasks, and their stratified-bootstrap intervals.

Input convention (rliable's): *scores* of ONE method, an array of shape (num_runs, num_tasks);
column j holds the runs (seeds) of task/benchmark j. Tasks with fewer runs than others are padded
with NaN (a missing run); every task needs at least one finite run, because a method missing a
whole benchmark must never be averaged over (see `common_subset`). Scores should be normalized
first (`normalize_scores`) so that tasks are on one scale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from harness.stats.resample import BLOCK_ELEMENTS, pack_strata, stratified_draws
from harness.stats.validation import check_open_unit, check_reps


@dataclass(frozen=True)
class IntervalEstimate:
    """A point estimate and its percentile bootstrap interval."""

    point: float
    ci_low: float
    ci_high: float


def _scores(scores: ArrayLike) -> np.ndarray:
    array = np.asarray(scores, dtype=float)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"scores must have shape (num_runs, num_tasks) with both >= 1, got {array.shape}"
        )
    if np.any(np.isinf(array)):
        raise ValueError("scores contain infinite values")
    if np.any(np.all(np.isnan(array), axis=0)):
        raise ValueError(
            "a task column has no finite run; a method missing a benchmark must not be "
            "averaged over (use harness.stats.common_subset)"
        )
    return array


def _finite(array: np.ndarray) -> np.ndarray:
    return array[np.isfinite(array)]


def aggregate_mean(scores: ArrayLike) -> float:
    """Mean over tasks of the per-task mean over runs. `scores`: (num_runs, num_tasks)."""
    return float(np.mean(np.nanmean(_scores(scores), axis=0)))


def aggregate_median(scores: ArrayLike) -> float:
    """Median over tasks of the per-task mean over runs (rliable's definition).

    `scores`: (num_runs, num_tasks).
    """
    return float(np.median(np.nanmean(_scores(scores), axis=0)))


def aggregate_iqm(scores: ArrayLike) -> float:
    """Interquartile mean: mean of the middle 50% of all runs x tasks scores (25% cut each end).

    `scores`: (num_runs, num_tasks); NaN padding is left out. Source: Agarwal et al. 2021
    (rliable).
    """
    return float(sps.trim_mean(_finite(_scores(scores)), proportiontocut=0.25))


def aggregate_optimality_gap(scores: ArrayLike, gamma: float = 1.0) -> float:
    """Mean shortfall below the target `gamma`: mean of max(gamma - score, 0). Lower is better.

    `scores`: (num_runs, num_tasks), normalized so that `gamma` is the target. Source: rliable.
    """
    return float(np.mean(np.maximum(gamma - _finite(_scores(scores)), 0.0)))


AGGREGATES: dict[str, Callable[[np.ndarray], float]] = {
    "mean": aggregate_mean,
    "median": aggregate_median,
    "iqm": aggregate_iqm,
    "optimality_gap": aggregate_optimality_gap,
}
"""The aggregate functions by name, in the order the site lists them."""


def normalize_scores(scores: ArrayLike, low: ArrayLike, high: ArrayLike) -> np.ndarray:
    """(scores - low) / (high - low), per task: 0 at the `low` reference, 1 at `high`.

    `scores`: (num_runs, num_tasks); `low`, `high`: scalars or one value per task (e.g. a
    random-guess score and a reference method's score). Raises ValueError where high == low.
    """
    array = np.asarray(scores, dtype=float)
    low_array = np.broadcast_to(np.asarray(low, dtype=float), array.shape[-1:])
    high_array = np.broadcast_to(np.asarray(high, dtype=float), array.shape[-1:])
    if np.any(high_array == low_array):
        raise ValueError("normalization needs high != low for every task")
    return (array - low_array) / (high_array - low_array)


def _replicates(array: np.ndarray, rng: np.random.Generator, reps: int) -> Iterator[np.ndarray]:
    """Stratified bootstrap replicates, NaN-padded like `array`: within each task column, its
    finite runs resampled with replacement (`harness.stats.resample`, tasks are the strata)."""
    packed, counts = pack_strata(array)
    groups = list(stratified_draws(counts, reps, rng, block_elements=None))
    for r in range(reps):
        replicate = np.full(array.shape, np.nan)
        for group in groups:
            replicate[: group.count, group.strata] = group.gather(packed, slice(r, r + 1))[0]
        yield replicate


def _replicate_blocks(array: np.ndarray, rng: np.random.Generator,
                      reps: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The replicates of `_replicates` (same draws, same order) in blocks of replicates, each
    as (task means, shape (block, tasks); every drawn value, shape (block, finite runs)): no
    padding, so no masks. The draws of all replicates are made first (they fix the stream;
    memory: one index per drawn value), the values gathered a block at a time."""
    packed, counts = pack_strata(array)
    groups = list(stratified_draws(counts, reps, rng, block_elements=None))
    num_finite = int(counts.sum())
    step = max(1, BLOCK_ELEMENTS // num_finite)
    for start in range(0, reps, step):
        part = slice(start, min(reps, start + step))
        sums = np.empty((part.stop - start, counts.size))
        values = np.empty((part.stop - start, num_finite))
        offset = 0
        for group in groups:
            drawn = group.gather(packed, part)
            sums[:, group.strata] = drawn.sum(axis=1)
            width = group.count * group.strata.size
            values[:, offset:offset + width] = drawn.reshape(drawn.shape[0], width)
            offset += width
        yield sums / counts, values


def _batch_aggregates(task_means: np.ndarray, values: np.ndarray,
                      names: Sequence[str]) -> dict[str, np.ndarray]:
    """`AGGREGATES[name]` of every replicate of a block of `_replicate_blocks` at once.

    Sorts `values` in place (the interquartile mean needs the order; the other aggregates do
    not care). Every replicate has the same number of values, so the interquartile mean cuts
    the counts `scipy.stats.trim_mean` cuts per replicate. Equal to the per-replicate
    functions up to summation order.
    """
    values.sort(axis=1)
    num_values = values.shape[1]
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name == "mean":
            out[name] = np.mean(task_means, axis=1)
        elif name == "median":
            out[name] = np.median(task_means, axis=1)
        elif name == "iqm":
            cut = int(0.25 * num_values)
            out[name] = np.mean(values[:, cut:num_values - cut], axis=1)
        elif name == "optimality_gap":
            # max(1 - v, 0) = 1 - min(v, 1): one temporary array instead of two
            out[name] = 1.0 - np.mean(np.minimum(values, 1.0), axis=1)
        else:
            raise ValueError(f"no batch form of aggregate {name!r}")
    return out


def _percentiles(values: Sequence[float], confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.asarray(values, dtype=float), [tail, 1.0 - tail])
    return float(low), float(high)


def stratified_bootstrap_ci(
    scores: ArrayLike,
    statistic: Callable[[np.ndarray], float],
    *,
    rng: np.random.Generator,
    reps: int = 2000,
    confidence: float = 0.95,
) -> tuple[float, float, float]:
    """Point estimate and percentile stratified-bootstrap interval of an aggregate.

    `scores`: shape (num_runs, num_tasks), NaN-padded where a task has fewer runs. Each
    replicate resamples the runs with replacement independently within every task column
    (rliable's stratified bootstrap), so every task keeps its weight. `statistic` maps such an
    array to a float (e.g. `aggregate_iqm`). All randomness comes from `rng`, drawn as
    `harness.stats.resample.stratified_draws` says (tasks are the strata).
    Returns (statistic(scores), ci_low, ci_high).
    """
    array = _scores(scores)
    check_open_unit(confidence, "confidence")
    check_reps(reps)
    values = [statistic(replicate) for replicate in _replicates(array, rng, reps)]
    return (float(statistic(array)), *_percentiles(values, confidence))


def aggregate_interval_estimates(
    scores_by_method: Mapping[str, ArrayLike],
    *,
    rng: np.random.Generator,
    aggregates: Sequence[str] = tuple(AGGREGATES),
    reps: int = 2000,
    confidence: float = 0.95,
) -> dict[str, dict[str, IntervalEstimate]]:
    """Every aggregate of every method with its stratified-bootstrap interval.

    `scores_by_method`: method name -> (num_runs, num_tasks) normalized scores (same tasks, in
    the same column order, for every method). Methods are processed in name order and all
    aggregates of one method share its bootstrap replicates, so the result depends only on the
    inputs and the state of `rng`. The replicates are those of `stratified_bootstrap_ci`
    (`harness.stats.resample`: with equal run counts in every task, the stream of the
    per-element-bound draws used before; with unequal counts a different stream, same method).
    Returns {method: {aggregate: IntervalEstimate}}.
    """
    unknown = sorted(set(aggregates) - set(AGGREGATES))
    if unknown:
        raise ValueError(f"unknown aggregates {unknown}; choose from {', '.join(AGGREGATES)}")
    check_open_unit(confidence, "confidence")
    check_reps(reps)
    arrays = {name: _scores(scores_by_method[name]) for name in sorted(scores_by_method)}
    widths = {array.shape[1] for array in arrays.values()}
    if len(widths) > 1:
        raise ValueError(f"methods have different numbers of tasks: {sorted(widths)}")
    result: dict[str, dict[str, IntervalEstimate]] = {}
    for name, array in arrays.items():
        # Blocks of replicates at once (vectorized): the per-replicate loop cost seconds per
        # site build.
        values: dict[str, list[float]] = {a: [] for a in aggregates}
        for task_means, drawn in _replicate_blocks(array, rng, reps):
            for aggregate, batch in _batch_aggregates(task_means, drawn, aggregates).items():
                values[aggregate].extend(batch)
        result[name] = {
            a: IntervalEstimate(AGGREGATES[a](array), *_percentiles(values[a], confidence))
            for a in aggregates
        }
    return result
