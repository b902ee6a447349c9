"""The draws of every stratified bootstrap in `harness.stats`: values resampled with replacement
within each stratum (a benchmark's seeds, a (benchmark, method) cell's seeds).

Input convention: *packed* strata, an array of shape (num_values, num_strata) whose column j
holds its `counts[j]` values first and NaN padding after (`pack_strata`).

How the draws are made, and why:

- Strata are drawn in groups of equal count, smallest count first, each group by one
  `Generator.integers(0, count, ...)` call with a *scalar* bound. numpy fills a scalar-bounded
  array in its vectorized loop, several times faster than one with a bound per element, and
  draws the same stream: when every stratum has the same count, the draws are exactly those of
  ``rng.integers(0, counts, size=(reps, count, num_strata))``, which these bootstraps used
  before. With unequal counts the stream differs from that call (which also drew, and threw
  away, values for the padding); the method is the same.
- A group's draws come in blocks of replicates so that memory stays bounded; a block boundary
  does not change the stream (numpy fills the elements one after another in C order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

BLOCK_ELEMENTS = 4_000_000
"""Draws per block (32 MB of indices): a memory bound that does not change the results."""


@dataclass(frozen=True)
class DrawBlock:
    """Draws for the replicates `replicates` of the strata `strata`, which all have `count`
    values: `positions[r, i, s]` is the position (in [0, count)) of the value that draw i of
    replicate r takes from stratum `strata[s]`. Shape (num_replicates, count, len(strata))."""

    strata: np.ndarray
    count: int
    replicates: slice
    positions: np.ndarray

    def gather(self, packed: np.ndarray, part: slice = slice(None)) -> np.ndarray:
        """The values drawn for the replicates `part` of this block (all by default), shape
        (len(part), count, len(strata)), from `packed` strata (num_values, num_strata). One
        `take` from the group's values, flattened, is faster than fancy indexing with a
        broadcast column index."""
        # stratum-major table: a value's flat index is position + count * stratum (one add)
        table = np.ascontiguousarray(packed[: self.count, self.strata].T).ravel()
        return np.take(table, self.positions[part] + self.count * np.arange(self.strata.size))


def pack_strata(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(packed, counts) of a (num_values, num_strata) array with NaN for missing values: each
    column sorted, NaN last, so its `counts[j]` finite values come first."""
    return np.sort(values, axis=0), np.sum(np.isfinite(values), axis=0)


def stratified_draws(
    counts: np.ndarray, reps: int, rng: np.random.Generator,
    block_elements: int | None = BLOCK_ELEMENTS,
) -> Iterator[DrawBlock]:
    """Blocks of draws for `reps` replicates of strata with `counts` values (each >= 1).

    Order (it fixes the stream): groups of equal count, ascending; within a group, replicates
    in order. `block_elements` None: one block per group.
    """
    for count in np.unique(counts):
        strata = np.flatnonzero(counts == count)
        per_replicate = int(count) * strata.size
        step = reps if block_elements is None else max(1, block_elements // per_replicate)
        for start in range(0, reps, step):
            stop = min(reps, start + step)
            positions = rng.integers(0, int(count), size=(stop - start, int(count), strata.size))
            yield DrawBlock(strata, int(count), slice(start, stop), positions)
