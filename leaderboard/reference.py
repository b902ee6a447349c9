"""Metrics measured against a benchmark's non-continual reference: part of the view model.

Intransigence (Chaudhry et al. 2018) needs a reference that learns every task with all data so
far, e.g. joint training. On a benchmark where a method declares ``continual = false`` and has
accuracy matrices, that method is the reference (alphabetically first if several do); its
accuracy matrices are averaged over its successful evaluation seeds, and each continual
method's intransigence is computed per seed against that mean matrix with
`harness.metrics.continual.intransigence`. Seeds whose matrix shape differs from the
reference's are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from harness.metrics.continual import intransigence

INTRANSIGENCE = "intransigence"


def reference_method(
    methods: list[str], mean_matrices: Mapping[str, Any], continual: Mapping[str, bool]
) -> str | None:
    """The benchmark's reference: the first non-continual method (by name) with a mean
    accuracy matrix; None when there is none."""
    return next(
        (m for m in sorted(methods)
         if not continual.get(m, True) and mean_matrices.get(m) is not None),
        None,
    )


def intransigence_per_seed(
    evaluation: pd.DataFrame, matrices: Mapping[str, Any], reference_matrix: Any
) -> np.ndarray:
    """Intransigence of each successful seed of `evaluation` (one method's evaluation runs)
    against `reference_matrix` (shape (T + 1, T)), in seed order; empty when none applies."""
    reference = np.asarray(reference_matrix, dtype=float)
    ok = evaluation[evaluation["status"] == "ok"].sort_values("seed")
    values = []
    for key in ok["run_key"]:
        matrix = np.asarray(matrices.get(key, ()), dtype=float)
        if matrix.shape != reference.shape:
            continue
        try:
            values.append(intransigence(matrix, reference))
        except ValueError:  # a malformed stored matrix: the seed has no value, like a NaN
            continue
    return np.asarray(values, dtype=float)
