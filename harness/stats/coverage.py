"""Which methods were run on which benchmarks, and the complete score matrix to compare them on.

Cross-benchmark statistics need a complete (num_benchmarks, num_methods) matrix: a method that
skipped a benchmark must never be averaged over the benchmarks it did run, or skipping hard
benchmarks would pay. `common_subset` builds that matrix from a long table with gaps, dropping
either the incomplete benchmarks or the incomplete methods, and says how much each method covers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class Coverage:
    """A complete score matrix cut from a long table, and what was left out.

    `scores` has shape (len(benchmarks), len(methods)): the per-benchmark scores of the kept
    methods on the kept benchmarks (both sorted by name). `coverage` counts, for every method of
    the table, the benchmarks it has a finite value on (out of `num_benchmarks`, all benchmarks
    of the table). `dropped_methods` / `dropped_benchmarks` were cut to make `scores` complete.
    """

    benchmarks: tuple[str, ...]
    methods: tuple[str, ...]
    scores: np.ndarray = field(compare=False, repr=False)
    coverage: tuple[tuple[str, int], ...]
    num_benchmarks: int
    dropped_methods: tuple[str, ...]
    dropped_benchmarks: tuple[str, ...]

    @property
    def is_complete(self) -> bool:
        """True when nothing had to be dropped."""
        return not self.dropped_methods and not self.dropped_benchmarks


def _cells(rows: Iterable[tuple[str, str, float]]) -> dict[tuple[str, str], float]:
    cells: dict[tuple[str, str], float] = {}
    duplicates = []
    for benchmark, method, value in rows:
        key = (str(benchmark), str(method))
        if key in cells:
            duplicates.append(key)
        cells[key] = float(value)
    if duplicates:
        raise ValueError(
            f"several values for (benchmark, method) {sorted(set(duplicates))[:3]}; aggregate "
            "seeds into one per-benchmark score first"
        )
    return cells


def common_subset(
    rows: Iterable[tuple[str, str, float]],
    *,
    keep: Literal["benchmarks", "methods"] = "benchmarks",
) -> Coverage:
    """The complete score matrix of a long table of (benchmark, method, value) rows.

    `rows`: one per-benchmark score per (benchmark, method), e.g. from a data frame,
    ``frame[["benchmark", "method", "value"]].itertuples(index=False)``; NaN counts as missing,
    a repeated pair is an error. Every benchmark and method named in a row counts, even with
    only NaN values (a method that failed on a benchmark misses it).

    `keep="benchmarks"` keeps every benchmark and drops the methods that miss any of them;
    `keep="methods"` keeps every method and drops the benchmarks that any method misses.
    Either way no method is averaged over a subset of benchmarks the others did not face. The
    result may be empty (0 rows or 0 columns); check its shape.
    """
    if keep not in ("benchmarks", "methods"):
        raise ValueError(f"keep must be 'benchmarks' or 'methods', got {keep!r}")
    table = _cells(rows)
    all_benchmarks = sorted({b for b, _ in table})
    all_methods = sorted({m for _, m in table})
    cells = {key: value for key, value in table.items() if not math.isnan(value)}
    coverage = tuple(
        (m, sum(1 for b in all_benchmarks if (b, m) in cells)) for m in all_methods
    )
    if keep == "benchmarks":
        methods = [m for m, count in coverage if count == len(all_benchmarks)]
        benchmarks = list(all_benchmarks)
    else:
        methods = list(all_methods)
        benchmarks = [b for b in all_benchmarks if all((b, m) in cells for m in methods)]
    scores = np.array([[cells[(b, m)] for m in methods] for b in benchmarks], dtype=float)
    return Coverage(
        benchmarks=tuple(benchmarks),
        methods=tuple(methods),
        scores=scores.reshape(len(benchmarks), len(methods)),
        coverage=coverage,
        num_benchmarks=len(all_benchmarks),
        dropped_methods=tuple(m for m in all_methods if m not in methods),
        dropped_benchmarks=tuple(b for b in all_benchmarks if b not in benchmarks),
    )

