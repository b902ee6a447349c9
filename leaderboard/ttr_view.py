"""Time-to-result suites on the site: part of the view model (see `leaderboard.view`).

One page per suite of the "training-algorithm" family (`harness.ttr_suite`): a table with each
training algorithm's benchmark score (AlgoPerf: area under the performance profile on [1, 4],
divided by 3), its geometric-mean speedup over the reference baseline (`TTR_REFERENCE`,
AlgoPerf's NAdamW baseline, where it ran) and its median-over-studies time to target on every
workload, each with a percentile bootstrap interval over studies (`leaderboard.ttr_results`);
the performance profile with bootstrap bands; one evaluation-curve figure per workload
(validation accuracy against submission time, every trial).

Ranks follow the benchmark score (1 + the number of strictly higher scores). "Best" is rank 1;
a method whose score interval overlaps the best's is marked as not distinguishable from it —
with a handful of studies the intervals are coarse, and the page says so rather than rank noise.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.metrics.time_to_result import DEFAULT_MAX_RATIO, performance_ratios, timing_noise_note
from harness.stats import dumps
from harness.store import hardware_class as _hardware_class
from leaderboard.figures import PlotSpec
from leaderboard.paths import benchmark_slug, slugify, suite_href
from leaderboard.settings import StatSettings
from leaderboard.ttr_plots import UNBOUNDED
from leaderboard.ttr_results import (
    TTRData,
    TTRStatistics,
    WorkloadInfo,
    ttr_data,
    ttr_statistics,
    workload_layout,
)

TTR_REFERENCE = "nadamw"
# The class of a run that recorded no hardware (its worker never reported).
NO_HARDWARE = _hardware_class({})
"""The baseline speedups are measured against (AlgoPerf's NAdamW baseline)."""


MISSED_SORT_KEY = "1e300"
"""Sort key of a missed target: after every time (table.js sorts numbers; "inf" is text)."""


@dataclass(frozen=True)
class TTRCell:
    text: str
    sort: float | None  # median time; inf where missed; None without runs
    title: str
    ci_low: float | None = None  # bootstrap interval over studies; None without runs
    ci_high: float | None = None
    # the scored time (after the held-out rule) over the fastest method's on a base workload,
    # inf above the profile's cap or where missed; None on held-out variants and without runs
    ratio: float | None = None

    @property
    def sort_key(self) -> str:
        """`data-sort` for table.js: empty (last) without runs."""
        if self.sort is None:
            return ""
        return MISSED_SORT_KEY if math.isinf(self.sort) else repr(self.sort)


@dataclass(frozen=True)
class TTRRow:
    rank: int
    method: str
    method_href: str
    score: float
    score_ci: tuple[float, float]
    score_text: str
    speedup: float | None
    speedup_ci: tuple[float, float] | None
    speedup_text: str
    versus_best: str  # "best", "overlaps", "below", "untestable", "none" (nobody scored)
    versus_best_text: str
    cells: tuple[TTRCell, ...]  # one per `TTRSuiteView.columns`

    @property
    def is_best(self) -> bool:
        return self.versus_best == "best"

    @property
    def speedup_sort_key(self) -> str:
        return repr(self.speedup) if self.speedup is not None and math.isfinite(
            self.speedup) else ""


@dataclass(frozen=True)
class TTRColumn:
    workload: str
    label: str
    target_text: str
    slug: str  # the anchor of its evaluation curves (method pages link there)
    is_variant: bool


@dataclass(frozen=True)
class TTRSuiteView:
    name: str
    version: str
    href: str
    slug: str
    columns: tuple[TTRColumn, ...]
    rows: tuple[TTRRow, ...]
    reference: str | None
    notes: tuple[str, ...]
    studies_text: str
    num_methods: int
    num_runs: int
    csv_href: str
    json_href: str
    tex_href: str
    profile_plot: PlotSpec | None
    times_plot: PlotSpec | None
    curve_plots: tuple[PlotSpec | None, ...]  # one per column; None without curves
    statistics: TTRStatistics | None = field(default=None, compare=False, hash=False,
                                            repr=False)

    @property
    def figures(self) -> tuple[PlotSpec, ...]:
        return tuple(p for p in (self.profile_plot, self.times_plot, *self.curve_plots)
                     if p is not None)

    @property
    def best_text(self) -> str:
        """The front page's "best" cell: every algorithm sharing the best score, or a dash
        when none reached a base workload's target (a score of 0 is no one's best)."""
        best = [r for r in self.rows if r.is_best]
        if not best:
            return "— (no base workload's target reached)" if self.rows else "—"
        tied = " (tied)" if len(best) > 1 else ""
        return f"{', '.join(r.method for r in best)} ({best[0].score_text}){tied}"


def _time_text(median: float, low: float, high: float, studies: int) -> str:
    if studies == 0:
        return "no runs"
    if math.isinf(median):
        return f"not reached (n={studies})"
    bounds = f" [{low:.2f}, {'∞' if math.isinf(high) else f'{high:.2f}'}]" if studies > 1 else ""
    return f"{median:.2f} s{bounds}, n={studies}"


def _interval_text(value: float, low: float, high: float, decimals: int = 3) -> str:
    if not math.isfinite(value):
        return "undefined"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{value:.{decimals}f}"
    return f"{value:.{decimals}f} [{low:.{decimals}f}, {high:.{decimals}f}]"


def ttr_suite_view(
    suite: str, version: str, runs: pd.DataFrame, curves: Mapping[str, Any],
    method_hrefs: Mapping[str, str], settings: StatSettings, *, suite_text: str | None = None,
) -> TTRSuiteView:
    """The page of one time-to-result suite from its current runs (of one hardware class:
    `one_hardware_class`); `suite_text` is the suite file the store kept, if any."""
    runs, left_out = one_hardware_class(runs)
    workloads, known = workload_layout(suite, version, list(map(str, runs["scenario"].unique())),
                                       stored=suite_text)
    data = ttr_data(runs, workloads, known)
    reference = TTR_REFERENCE if TTR_REFERENCE in data.methods else None
    stats = ttr_statistics(data, reference=reference,
                           rng=np.random.default_rng(settings.bootstrap_seed),
                           reps=settings.bootstrap_reps, confidence=settings.confidence)
    slug = slugify(suite)
    columns = tuple(
        TTRColumn(w.name, w.name if w.variant_of is None else f"{w.name} (held-out variant of "
                  f"{w.variant_of})", f"target {w.target:g}" if w.target is not None else
                  "target not known", benchmark_slug(suite, w.name), w.variant_of is not None)
        for w in workloads
    )
    rows = _rows(data, stats, method_hrefs, reference)
    return TTRSuiteView(
        name=suite, version=version, href=suite_href(suite), slug=slug, columns=columns,
        rows=rows, reference=reference, notes=_notes(runs, left_out, data, reference),
        studies_text=_studies_text(data), num_methods=len(data.methods), num_runs=len(runs),
        csv_href=f"data/{slug}-time-to-result.csv", json_href=f"data/{slug}-time-to-result.json",
        tex_href=f"data/{slug}-time-to-result.tex",
        profile_plot=_profile_plot(suite, slug, data, stats, rows, settings),
        times_plot=_times_plot(suite, slug, data, stats, settings),
        curve_plots=tuple(_curve_plot(suite, w, runs, curves, data.methods) for w in workloads),
        statistics=stats,
    )


def _rows(data: TTRData, stats: TTRStatistics, method_hrefs: Mapping[str, str],
          reference: str | None) -> tuple[TTRRow, ...]:
    scores = stats.scores
    order = sorted(range(len(data.methods)), key=lambda i: (-scores[i], data.methods[i]))
    best = order[0] if order else None
    # with one study per cell every bootstrap replicate is the data itself: no interval
    spread = any(len(cell) > 1 for row in data.study_times for cell in row)
    ties = int(np.sum(scores == scores[best])) if best is not None else 0
    rows = []
    for i in order:
        rank = 1 + int(np.sum(scores > scores[i]))
        low, high = (float(b) for b in stats.score_ci[:, i]) if spread else (math.nan,) * 2
        if scores[best] == 0:  # no base workload solved: nobody is best
            status, text = "none", "no base workload's target reached"
        elif scores[i] == scores[best]:  # ties for the best score share it
            status, text = "best", "best score" if ties == 1 else "best score (tied)"
        elif not spread:
            status, text = "untestable", "cannot be told apart: one study per cell"
        elif high >= stats.score_ci[0, best]:
            status, text = "overlaps", "interval overlaps the best's"
        else:
            status, text = "below", "interval below the best's"
        speedup = None if stats.speedups is None else float(stats.speedups[i])
        bounds = tuple(float(b) for b in stats.speedup_ci[:, i]) if spread and \
            stats.speedup_ci is not None else (math.nan, math.nan)
        speedup_text = "no reference" if speedup is None else _interval_text(
            speedup, *bounds, decimals=2) + (" (reference)" if data.methods[i] == reference
                                             else "")
        rows.append(TTRRow(
            rank=rank, method=data.methods[i], method_href=method_hrefs[data.methods[i]],
            score=float(scores[i]), score_ci=(low, high),
            score_text=_interval_text(float(scores[i]), low, high), speedup=speedup,
            speedup_ci=bounds if speedup is not None else None, speedup_text=speedup_text,
            versus_best=status, versus_best_text=text, cells=_cells(data, stats, i),
        ))
    return tuple(rows)


def _cells(data: TTRData, stats: TTRStatistics, i: int) -> tuple[TTRCell, ...]:
    """Method i's time on every workload (variants included), with its interval and, on base
    workloads, its performance ratio."""
    voided = {w for j, w in enumerate(data.base_index)  # finite, but inf after the rule
              if np.isfinite(stats.medians[i, w]) and np.isinf(stats.times[i, j])}
    ratios = dict(zip(data.base_index, performance_ratios(stats.times)[i], strict=True)) \
        if data.base_index else {}
    cells = []
    for w, studies in enumerate(data.study_times[i]):
        median, low, high = (float(x) for x in (stats.medians[i, w], *stats.median_ci[:, i, w]))
        text = _time_text(median, low, high, len(studies))
        cells.append(TTRCell(
            text + (" · voided: a held-out variant was missed" if w in voided else ""),
            sort=median if studies else None,
            title="per-study times: " + ", ".join(
                f"{t:.2f} s" if math.isfinite(t) else "not reached" for t in studies) if studies
            else "no runs",
            ci_low=low if studies else None, ci_high=high if studies else None,
            ratio=float(ratios[w]) if studies and w in ratios else None,
        ))
    return tuple(cells)


def _studies_text(data: TTRData) -> str:
    counts = [len(c) for row in data.study_times for c in row if c]
    if not counts:
        return "no studies"
    low, high = min(counts), max(counts)
    return f"{low} stud{'y' if high == 1 else 'ies'}" if low == high else f"{low}–{high} studies"


def one_hardware_class(runs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The runs of the hardware class with the most runs, and the run count of each class left
    out. Times are only comparable on one class (DESIGN §5; `harness evaluate` refuses to score
    a mix), so a page never ranks across classes. Runs that recorded no hardware (a worker that
    never started: a miss wherever it would have run) stay with the scored class."""
    labels = runs["hardware_class"].astype(str)
    known = labels != NO_HARDWARE
    counts = Counter(labels[known])
    if len(counts) <= 1:
        return runs, {}
    scored = max(counts, key=lambda c: (counts[c], c))  # ties: by name, deterministic
    return (runs[~known | (labels == scored)],
            {c: n for c, n in counts.most_common() if c != scored})


def hardware_label(hardware_class: str) -> str:
    """A stored class (`harness.store.hardware_class`, JSON) as "CPU model" or "GPU model × n"."""
    try:
        fields = json.loads(hardware_class)
    except ValueError:
        return hardware_class
    if not isinstance(fields, dict):
        return hardware_class
    if fields.get("gpu_model"):
        return f"{fields['gpu_model']} × {fields.get('gpu_count') or 1}"
    return str(fields.get("cpu_model") or "unknown hardware")


def _notes(runs: pd.DataFrame, left_out: Mapping[str, int], data: TTRData,
           reference: str | None) -> tuple[str, ...]:
    notes = []
    if left_out:
        labels = runs["hardware_class"].astype(str)
        scored = next(iter(set(labels[labels != NO_HARDWARE])))
        listed = ", ".join(f"{hardware_label(c)} ({n} run{'s' * (n != 1)})"
                           for c, n in left_out.items())
        notes.append(f"Scored on one hardware class, {hardware_label(scored)} "
                     f"({len(runs)} runs); left out: {listed}. Times are only comparable on "
                     "one hardware class; score the others separately (`harness evaluate` on "
                     "that machine, with its own store).")
    if not data.layout_known:
        notes.append("The suite file of this version was not found, so targets and held-out "
                     "variants are unknown: every workload is scored as a base workload.")
    if reference is None:
        notes.append(f"No speedups: the reference baseline {TTR_REFERENCE} has no runs here.")
    if any(len(c) < 2 for row in data.study_times for c in row):
        notes.append("Cells with a single study have no interval: add studies (--seeds) to "
                     "see the spread.")
    if "metric.timing_noise" in runs.columns and (note := timing_noise_note(
            runs.loc[runs["status"] == "ok", "metric.timing_noise"].to_numpy(dtype=float))):
        notes.append(note)
    return tuple(notes)


def _profile_plot(suite: str, slug: str, data: TTRData, stats: TTRStatistics,
                  rows: tuple[TTRRow, ...], settings: StatSettings) -> PlotSpec | None:
    if not data.methods or not data.base_index:
        return None
    summary = "; ".join(  # taus[0] is 1: the share of workloads where it was the fastest
        f"{r.method}: score {r.score_text}, fastest on "
        f"{stats.profile[data.methods.index(r.method), 0]:.0%} of workloads" for r in rows)
    return PlotSpec(
        kind="performance_profile", path=f"plots/{slug}-profile.svg",
        alt=f"Performance profiles on {suite} over {len(data.base_index)} base workloads, "
            f"with {settings.confidence_text} bootstrap bands: {summary}.",
        caption=f"Performance profile: the fraction of base workloads on which each training "
                f"algorithm's time to target is within a factor τ of the fastest; shaded: "
                f"{settings.confidence_text} bootstrap band over studies. Area under the curve "
                "on [1, 4], divided by 3, is the benchmark score.",
        data={"labels": list(data.methods), "taus": stats.taus.tolist(),
              "profile": stats.profile.tolist(), "ci_lows": stats.profile_ci[0].tolist(),
              "ci_highs": stats.profile_ci[1].tolist()},
    )


def _times_plot(suite: str, slug: str, data: TTRData, stats: TTRStatistics,
                settings: StatSettings) -> PlotSpec | None:
    if not data.methods:
        return None

    def finite(value: float) -> float | None:
        return float(value) if np.isfinite(value) else None

    shape = range(len(data.workloads))
    medians = [[finite(stats.medians[i, w]) for w in shape] for i in range(len(data.methods))]
    lows = [[finite(stats.median_ci[0, i, w]) for w in shape] for i in range(len(data.methods))]
    # an interval whose upper end is a miss (some studies missed the target) is open: "inf"
    highs = [[UNBOUNDED if np.isposinf(v) else finite(v)
              for v in (stats.median_ci[1, i, w] for w in shape)]
             for i in range(len(data.methods))]
    summary = "; ".join(
        f"{w.name}: " + ", ".join(
            f"{m} {'not reached' if medians[i][k] is None else f'{medians[i][k]:.2f} s'}"
            for i, m in enumerate(data.methods))
        for k, w in enumerate(data.workloads))
    return PlotSpec(
        kind="time_to_target", path=f"plots/{slug}-times.svg",
        alt=f"Time to target on each workload of {suite}, median over studies with "
            f"{settings.confidence_text} bootstrap intervals: {summary}.",
        caption="Time to target per workload (held-out variants included, before the held-out "
                f"rule): median over studies and its {settings.confidence_text} bootstrap "
                "interval over studies (running to the right edge, ∞, where some studies "
                "missed the target); ×: the target was not reached.",
        data={"workloads": [w.name for w in data.workloads], "labels": list(data.methods),
              "medians": medians, "ci_lows": lows, "ci_highs": highs},
    )


def _trace_values(trace: Mapping[str, Any]) -> list[float]:
    """The validation metric of a stored ``eval_trace`` (older traces hold ``accuracy``)."""
    return list(trace.get("value", trace.get("accuracy", [])))


def _curve_plot(suite: str, workload: WorkloadInfo, runs: pd.DataFrame,
                curves: Mapping[str, Any], methods: tuple[str, ...]) -> PlotSpec | None:
    mine = runs[(runs["scenario"] == workload.name) & (runs["status"] == "ok")]
    mine = mine.sort_values(["study", "trial"])
    trials: list[list[tuple[list[float], list[float]]]] = []
    traces_all: list[Mapping[str, Any]] = []
    for method in methods:
        keys = mine.loc[mine["submission"] == method, "run_key"]
        traces = [curves[k] for k in keys if k in curves]
        traces_all += traces
        trials.append([(list(t["time_s"]), _trace_values(t)) for t in traces])
    if not any(trials):
        return None
    metric = str(traces_all[0].get("metric", "accuracy"))
    higher = bool(traces_all[0].get("higher_is_better", True))
    pick = max if higher else min
    reached = [
        f"{m}: {len(t)} trials, best {metric} "
        f"{pick((pick(v) for _, v in t if v), default=math.nan):.3f}"
        for m, t in zip(methods, trials, strict=True)
    ]
    slug = benchmark_slug(suite, workload.name)
    target = f" against target {workload.target:g}" if workload.target is not None else ""
    return PlotSpec(
        kind="eval_curves", path=f"plots/{slug}-curves.svg",
        alt=f"Validation {metric} against submission time on workload {workload.name} of "
            f"{suite}{target}, one line per trial: {'; '.join(reached)}.",
        caption=f"{workload.name}: validation {metric} ({'higher' if higher else 'lower'} is "
                "better) at every evaluation against submission time (timed calls only), one "
                "line per trial; colour and line style per training algorithm"
                + ("; dashed: the target" if target else "") + ".",
        data={"labels": list(methods), "trials": trials, "target": workload.target,
              "max_runtime_s": workload.max_runtime_s, "title": workload.name,
              "metric_label": f"validation {metric}"},
    )


def ttr_records(view: TTRSuiteView) -> list[dict[str, Any]]:
    """One record per method of the suite's table (downloads, stats.json): score, speedup and
    every workload's time with their intervals, and each base workload's performance ratio; a
    missed target is an infinite time (empty in CSV, null in JSON), and so is a ratio above
    the profile's cap."""
    records = []
    for row in view.rows:
        record: dict[str, Any] = {
            "rank": row.rank, "method": row.method, "score": row.score,
            "score_ci_low": row.score_ci[0], "score_ci_high": row.score_ci[1],
            "speedup_vs_reference": row.speedup, "reference": view.reference,
        }
        record.update(speedup_ci_low=row.speedup_ci[0] if row.speedup_ci else None,
                      speedup_ci_high=row.speedup_ci[1] if row.speedup_ci else None)
        for column, cell in zip(view.columns, row.cells, strict=True):
            key = f"time_to_target_s.{column.workload}"
            record.update({key: cell.sort, f"{key}.ci_low": cell.ci_low,
                           f"{key}.ci_high": cell.ci_high})
            if not column.is_variant:
                record[f"performance_ratio.{column.workload}"] = cell.ratio
        records.append(record)
    return records


def ttr_csv(view: TTRSuiteView) -> str:
    frame = pd.DataFrame.from_records(ttr_records(view)).replace([np.inf, -np.inf], np.nan)
    return frame.to_csv(index=False, lineterminator="\n")


def ttr_json(view: TTRSuiteView, settings: StatSettings) -> str:
    """The table with its settings; infinite times (target missed) are written as null."""
    return dumps({"suite": view.name, "suite_version": view.version,
                  "confidence": settings.confidence, "bootstrap": "percentile, over studies",
                  "bootstrap_reps": settings.bootstrap_reps, "reference": view.reference,
                  "time_unit": "s", "missed_target": None,
                  "performance_ratio_cap": DEFAULT_MAX_RATIO, "rows": ttr_records(view)})
