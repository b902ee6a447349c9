"""From stored time-to-result runs to AlgoPerf scores (used by the CLI summary and the site).

Per submission and workload: each study's fastest trial, the median over studies; a failed run
counts as not reaching the target (`inf`). Then the held-out rule (a missed variant sets its
base workload to `inf`) and the benchmark score (area under the performance profile on [1, 4],
divided by 3) over the base workloads.

Times are only comparable on one hardware class (`harness.store.hardware_class`: CPU model, GPU
model and count): scoring runs of several classes together is refused with a `UserError` that
lists them. Runs that recorded no hardware (a worker that crashed before reporting) are not
counted as a class of their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.metrics.time_to_result import (
    apply_heldout_rule,
    benchmark_score,
    check_same_hardware,
    median_study_times,
)
from harness.runner.result import RunResult
from harness.store import hardware_class
from harness.ttr_suite import TTRSuite


@dataclass(frozen=True)
class TTRScores:
    """`times[s, w]`: submission s's time on base workload w after the held-out rule."""

    submissions: tuple[str, ...]
    workloads: tuple[str, ...]
    times: np.ndarray
    raw_times: dict[tuple[str, str], float]  # (submission, workload incl. variants) -> time
    scores: np.ndarray


def workload_time(results: Sequence[RunResult]) -> float:
    """Median over studies of each study's fastest trial, for one submission × workload."""
    by_study: dict[int, list[float]] = defaultdict(list)
    for r in results:
        by_study[r.spec.study].append(r.metrics.get("time_to_target_s", np.inf) if r.ok
                                      else np.inf)
    fastest = [min(times) for _, times in sorted(by_study.items())]
    return float(median_study_times(np.array(fastest)))


def score_suite(suite: TTRSuite, results: Sequence[RunResult]) -> TTRScores:
    classes = [hardware_class(r.hardware) for r in results if r.hardware]
    if classes:
        check_same_hardware(classes)
    groups: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    for r in results:
        groups[(r.spec.submission, r.spec.scenario)].append(r)
    names = tuple(sorted({r.spec.submission for r in results}))
    raw = {key: workload_time(rs) for key, rs in groups.items()}
    bases = suite.base_workloads
    base = np.array([[raw.get((s, w.name), np.inf) for w in bases] for s in names])
    variant = np.full_like(base, np.nan)  # inf where a submission missed any variant of w
    for j, w in enumerate(bases):
        for v in (v for v in suite.workloads if v.variant_of == w.name):
            missed = np.array([np.isposinf(raw.get((s, v.name), np.inf)) for s in names])
            variant[missed, j] = np.inf
    times = apply_heldout_rule(base, variant) if len(names) else base
    scores = benchmark_score(times) if len(names) and np.isfinite(times).any() else \
        np.zeros(len(names))
    return TTRScores(names, tuple(w.name for w in bases), times, raw, scores)
