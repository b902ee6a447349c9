"""Time-to-result results of one suite, read from the store's runs, and their bootstrap.

A time-to-result run (`harness.ttr_evaluation`) is stored like any other: its workload is the
run's ``scenario``, phase ``evaluate``, with ``study`` and ``trial`` set, metric
``time_to_target_s`` (``inf`` where the target was missed) and curve ``eval_trace`` (submission
time, step and validation accuracy at every evaluation). Scoring follows
`harness.metrics.time_to_result` (AlgoPerf): per study the fastest trial, per workload the
median over studies, a failed run counts as a miss.

The store does not hold the suite's targets or which workload is a held-out variant of which:
those come from the suite file whose text has the stored version (`workload_layout`); when
none is found every workload is scored as a base workload and the page says so.

Uncertainty: a percentile bootstrap over studies, resampled independently in every
(submission, workload) cell (studies of different submissions are not paired), each replicate
rescored from scratch — medians, held-out rule, the per-workload best, the profile, the score
and the speedup. Seeded `numpy.random.Generator`: same store, same intervals.
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.configfile import suite_version
from harness.metrics.time_to_result import (
    DEFAULT_MAX_RATIO,
    apply_heldout_rule,
    benchmark_score,
    geometric_mean_speedup,
    performance_ratios,
)

TTR_METRIC = "time_to_target_s"
EVAL_TRACE = "eval_trace"
TTR_API = "training-algorithm"
MIN_TIME_S = 1e-6
"""Times are clipped to this: a target met at submission time 0 would make ratios undefined."""


@dataclass(frozen=True)
class WorkloadInfo:
    """A workload as the site knows it; `target` None when the suite file was not found."""

    name: str
    variant_of: str | None
    target: float | None
    max_runtime_s: float | None


@dataclass(frozen=True)
class TTRData:
    """Study times of one suite. `study_times[s][w]` is submission s's list of per-study times
    on workload w (all workloads, variants included); an empty list: no run."""

    methods: tuple[str, ...]
    workloads: tuple[WorkloadInfo, ...]
    study_times: tuple[tuple[tuple[float, ...], ...], ...]
    layout_known: bool  # False: no suite file of this version, variants unknown

    @property
    def base_index(self) -> tuple[int, ...]:
        return tuple(i for i, w in enumerate(self.workloads) if w.variant_of is None)

    def variant_columns(self) -> dict[int, tuple[int, ...]]:
        """Base workload column -> the columns of its held-out variants."""
        names = [w.name for w in self.workloads]
        return {i: tuple(j for j, v in enumerate(self.workloads) if v.variant_of == names[i])
                for i in self.base_index}


def is_ttr_suite(runs: pd.DataFrame, metadata: Mapping[str, Mapping]) -> bool:
    """Whether `runs` (one suite's current runs) are time-to-result runs."""
    if any(metadata.get(str(m), {}).get("api") == TTR_API for m in runs["submission"].unique()):
        return True
    column = f"metric.{TTR_METRIC}"
    return column in runs.columns and bool(runs[column].notna().any())


def suites_dirs() -> tuple[Path, ...]:
    """Where suite files are looked for: ``./suites``, then the folder shipped beside the
    package (`harness.suite.default_suites_dir`'s rule; that module imports torch, which would
    cost a site build seconds)."""
    shipped = Path(__file__).resolve().parent.parent / "suites"
    return tuple(dict.fromkeys(p for p in (Path("suites"), shipped) if p.is_dir()))


def workload_layout(suite: str, version: str, seen: Sequence[str],
                    folders: Sequence[Path] | None = None, *,
                    stored: str | None = None) -> tuple[tuple[WorkloadInfo, ...], bool]:
    """The workloads of `suite` in suite-file order with targets and variants, from the suite
    file whose text hashes to the stored `version` (the suite version rule of
    `harness.ttr_suite`: the first 12 hex digits of its SHA-256), so it is exactly the file the
    runs were made with: the text the store kept (`Store.suite_files`), else a file in
    `folders`; else `seen` in name order, all as base workloads, and False."""
    texts = [stored] if stored is not None else []
    for folder in folders if folders is not None else suites_dirs():
        texts += [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.toml"))]
    for text in texts:
        if suite_version(text) != version:
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
        if data.get("name") != suite or not isinstance(data.get("workload"), list):
            continue
        known = [WorkloadInfo(str(w["name"]), w.get("variant_of"), _number(w.get("target")),
                              _number(w.get("max_runtime_s")))
                 for w in data["workload"] if isinstance(w, dict) and "name" in w]
        names = {w.name for w in known}
        return tuple(known + [WorkloadInfo(n, None, None, None) for n in sorted(seen)
                              if n not in names]), True
    return tuple(WorkloadInfo(n, None, None, None) for n in sorted(seen)), False


def _number(value: object) -> float | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number else None  # type: ignore[arg-type]


def ttr_data(runs: pd.DataFrame, workloads: tuple[WorkloadInfo, ...],
             layout_known: bool) -> TTRData:
    """Per (method, workload) the time of each study's fastest trial; failures are misses."""
    column = f"metric.{TTR_METRIC}"
    times = runs[column].to_numpy(dtype=float) if column in runs.columns else \
        np.full(len(runs), np.inf)
    frame = runs.assign(_time=np.where((runs["status"] == "ok") & ~np.isnan(times), times,
                                       np.inf))
    fastest = frame.groupby(["submission", "scenario", "study"])["_time"].min()
    methods = tuple(sorted(map(str, runs["submission"].unique())))
    cells = {key: [] for key in ((m, w.name) for m in methods for w in workloads)}
    for (method, workload, _study), value in fastest.sort_index().items():
        cells.setdefault((str(method), str(workload)), []).append(float(value))
    return TTRData(
        methods=methods, workloads=workloads, layout_known=layout_known,
        study_times=tuple(tuple(tuple(cells[(m, w.name)]) for w in workloads) for m in methods),
    )


def _median(times: Sequence[float]) -> float:
    """Median over studies (inf-aware); a cell without runs counts as a miss."""
    return float(np.median(times)) if len(times) else np.inf


def scored_times(data: TTRData, medians: np.ndarray) -> np.ndarray:
    """(S, W_all) medians -> (S, W_base) times after the held-out rule, clipped > 0."""
    base = medians[:, list(data.base_index)]
    variant = np.full_like(base, np.nan)
    for j, (_, columns) in enumerate(data.variant_columns().items()):
        for c in columns:
            variant[np.isposinf(medians[:, c]), j] = np.inf
    return np.maximum(apply_heldout_rule(base, variant), MIN_TIME_S)


@dataclass(frozen=True)
class TTRStatistics:
    """Point estimates and percentile bootstrap intervals (shape (2, ...): low, high)."""

    medians: np.ndarray            # (S, W_all) median-over-studies time per workload
    median_ci: np.ndarray          # (2, S, W_all)
    times: np.ndarray              # (S, W_base) after the held-out rule
    scores: np.ndarray             # (S,) benchmark score
    score_ci: np.ndarray           # (2, S)
    speedups: np.ndarray | None    # (S,) geometric-mean speedup vs the reference; None without
    speedup_ci: np.ndarray | None  # (2, S)
    taus: np.ndarray               # (T,) the profile's grid on [1, max_ratio]
    profile: np.ndarray            # (S, T)
    profile_ci: np.ndarray         # (2, S, T)


def ttr_statistics(data: TTRData, *, reference: str | None, rng: np.random.Generator,
                   reps: int, confidence: float, num_taus: int = 121) -> TTRStatistics:
    """Everything the time-to-result page shows, with bootstrap intervals over studies."""
    shape = (len(data.methods), len(data.workloads))
    medians = np.array([[_median(c) for c in row] for row in data.study_times]).reshape(shape)
    replicates = _resampled_medians(data, rng, reps)  # (reps, S, W_all)
    taus = np.linspace(1.0, DEFAULT_MAX_RATIO, num_taus)
    times = scored_times(data, medians)
    ref = data.methods.index(reference) if reference in data.methods else None
    rep_times = [scored_times(data, r) for r in replicates]
    rep_scores = np.array([benchmark_score(t) for t in rep_times])
    rep_profiles = np.array([_profile(t, taus) for t in rep_times])
    bounds = _interval(confidence)
    speedups = speedup_ci = None
    if ref is not None:
        speedups = geometric_mean_speedup(times, ref)
        rep_speedups = np.array([geometric_mean_speedup(t, ref) for t in rep_times])
        with warnings.catch_warnings():  # a method with no workload both solved: all NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            speedup_ci = np.nanquantile(rep_speedups, bounds, axis=0)
    return TTRStatistics(
        medians=medians,
        median_ci=np.quantile(replicates, bounds, axis=0, method="inverted_cdf"),
        times=times, scores=benchmark_score(times),
        score_ci=np.quantile(rep_scores, bounds, axis=0),
        speedups=speedups, speedup_ci=speedup_ci, taus=taus, profile=_profile(times, taus),
        profile_ci=np.quantile(rep_profiles, bounds, axis=0),
    )


def _interval(confidence: float) -> list[float]:
    tail = (1.0 - confidence) / 2.0
    return [tail, 1.0 - tail]


def _profile(times: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """(S, W) times -> (S, T) fraction of workloads within τ of the best (`performance_ratios`
    once, rather than `performance_profile` per τ grid, to keep the bootstrap fast)."""
    ratios = performance_ratios(times)
    return (ratios[:, :, None] <= taus[None, None, :]).mean(axis=1)


def _resampled_medians(data: TTRData, rng: np.random.Generator, reps: int) -> np.ndarray:
    """(reps, S, W_all): each cell's studies drawn with replacement, then their median."""
    out = np.full((reps, len(data.methods), len(data.workloads)), np.inf)
    for s, row in enumerate(data.study_times):
        for w, cell in enumerate(row):
            if cell:
                values = np.asarray(cell, dtype=float)
                index = rng.integers(0, values.size, size=(reps, values.size))
                out[:, s, w] = np.median(values[index], axis=1)
    return out
