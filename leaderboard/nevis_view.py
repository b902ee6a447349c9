"""The view model of NEVIS-like stream suites (`harness.nevis`): error and compute together.

A suite is a stream suite when its runs carry the ``nevis_tasks`` curve. Per test-stream
scenario (the whole stream, or a named subset when some tasks were unavailable) the page shows
one row per method — average and sample-weighted test error (mean and Student-t interval over
evaluation seeds), cumulative training FLOPs with the share spent on in-task search, training
and wall time, the chosen hyperparameters — and three figures: error against FLOPs with the
Pareto front, each task's error right after learning it, and knowledge accumulation (error
minus the independent learner's on the same task; the reference is the suite's
``protocol.reference``, else ``nevis-independent``). Dev-stream runs are tuning trials: they
are counted, never ranked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.metrics.nevis import knowledge_accumulation, pareto_front
from harness.stats.cells import CellSummary, summarize_cell
from harness.store import Decision
from leaderboard.figures import PlotSpec
from leaderboard.paths import slugify, suite_href

NEVIS_TASKS = "nevis_tasks"
DEFAULT_REFERENCE = "nevis-independent"


def is_nevis_suite(runs: pd.DataFrame, stream_curves: Mapping[str, object]) -> bool:
    return bool(runs["run_key"].isin(list(stream_curves)).any())


@dataclass(frozen=True)
class NevisRow:
    """One method on one stream: the page's texts and the numbers behind them (means over the
    successful evaluation seeds; nan where no seed recorded the metric)."""

    method: str
    href: str
    seeds: int
    failed: int
    avg_error_text: str
    avg_error: float
    weighted_error_text: str
    train_flops: float
    flops_text: str
    search_share_text: str
    train_time_text: str
    wall_time_text: str
    accumulation_text: str
    hparams_text: str
    on_front: bool
    avg_error_cell: CellSummary | None
    weighted_error_cell: CellSummary | None
    search_share: float
    train_time_s: float
    wall_time_s: float
    accumulation: float | None  # mean over tasks of error minus the reference's
    hparams: Mapping[str, object]
    error_seeds: tuple[float, ...]  # each successful seed's average error, by seed


@dataclass(frozen=True)
class NevisStreamView:
    scenario: str
    title: str
    slug: str
    tasks: tuple[str, ...]
    rows: tuple[NevisRow, ...]
    front: tuple[str, ...]
    reference: str | None
    plots: tuple[PlotSpec, ...]
    task_errors: dict[str, tuple[float, ...]]  # method -> mean error per task


@dataclass(frozen=True)
class NevisSuiteView:
    name: str
    version: str
    href: str
    csv_href: str  # per-task errors, long format
    table_csv_href: str  # the streams' tables (`leaderboard.nevis_tables`)
    json_href: str
    tex_href: str
    streams: tuple[NevisStreamView, ...]
    confidence: float  # level of the Student-t intervals
    num_methods: int
    num_runs: int
    num_tuning_runs: int

    @property
    def figures(self) -> tuple[PlotSpec, ...]:
        return tuple(p for s in self.streams for p in s.plots)


def _summary(values: np.ndarray, confidence: float) -> CellSummary | None:
    return summarize_cell(values, confidence=confidence) if values.size else None


def _estimate(cell: CellSummary | None, digits: int = 3) -> str:
    if cell is None:
        return "—"
    if cell.n < 2:
        return f"{cell.mean:.{digits}f} (n=1)"
    low, high = f"{cell.ci_low:.{digits}f}", f"{cell.ci_high:.{digits}f}"
    return f"{cell.mean:.{digits}f} [{low}, {high}] n={cell.n}"


def _metric(runs: pd.DataFrame, name: str) -> np.ndarray:
    column = f"metric.{name}"
    if column not in runs:
        return np.empty(0)
    return runs[column].dropna().to_numpy(dtype=float)


def _reference(suite: str) -> str:
    try:
        from harness.suite import load_suite

        return load_suite(suite).protocol.reference or DEFAULT_REFERENCE
    except Exception:  # noqa: BLE001 - the site builds without the suite files too
        return DEFAULT_REFERENCE


def nevis_suite_view(suite: str, version: str, runs: pd.DataFrame,
                     stream_curves: Mapping[str, dict], decisions: list[Decision],
                     method_hrefs: Mapping[str, str], confidence: float = 0.95) -> NevisSuiteView:
    """The page of one stream suite; intervals are Student-t at level `confidence`."""
    evaluation = runs[runs["phase"] == "evaluate"]
    reference = _reference(suite)
    streams = tuple(
        _stream_view(suite, scenario, evaluation[evaluation["scenario"] == scenario],
                     stream_curves, decisions, method_hrefs, reference, confidence)
        for scenario in sorted(evaluation["scenario"].unique()))
    slug = slugify(suite)
    return NevisSuiteView(
        name=suite, version=version, href=suite_href(suite), csv_href=f"data/{slug}-tasks.csv",
        table_csv_href=f"data/{slug}-streams.csv", json_href=f"data/{slug}-streams.json",
        tex_href=f"data/{slug}-streams.tex", streams=streams, confidence=confidence,
        num_methods=runs["submission"].nunique(), num_runs=len(runs),
        num_tuning_runs=int((runs["phase"] == "tune").sum()))


def _task_table(runs: pd.DataFrame, curves: Mapping[str, dict]) -> tuple[tuple[str, ...],
                                                                             dict[str, np.ndarray]]:
    """Task labels and, per method, the seed-mean error of every task."""
    tasks: tuple[str, ...] = ()
    errors: dict[str, list[list[float]]] = {}
    for key, method in zip(runs["run_key"], runs["submission"], strict=True):
        curve = curves.get(key)
        if not curve:
            continue
        tasks = tuple(f"{y} {n}" for y, n in zip(curve["year"], curve["name"], strict=True))
        errors.setdefault(method, []).append(curve["error"])
    return tasks, {m: np.mean(np.array(v, dtype=float), axis=0) for m, v in errors.items()}


def _stream_view(suite: str, scenario: str, runs: pd.DataFrame, curves: Mapping[str, dict],
                 decisions: list[Decision], method_hrefs: Mapping[str, str],
                 reference: str, confidence: float) -> NevisStreamView:
    ok = runs[runs["status"] == "ok"]
    tasks, per_task = _task_table(ok, curves)
    methods = sorted(runs["submission"].unique())
    points = {m: (float(_metric(ok[ok["submission"] == m], "avg_error").mean()),
                  float(_metric(ok[ok["submission"] == m], "train_flops").mean()))
              for m in methods if _metric(ok[ok["submission"] == m], "avg_error").size}
    front = pareto_front(points)
    ref = reference if reference in per_task else None
    gains = {m: knowledge_accumulation(e, per_task[ref]) for m, e in per_task.items()
             if ref is not None and m != ref}
    chosen = {d.submission: d.chosen_hparams for d in decisions
              if d.suite == suite and d.scenario == scenario}
    rows = [_row(m, runs[runs["submission"] == m], method_hrefs.get(m, ""), m in front,
                 gains.get(m), chosen.get(m), confidence) for m in methods]
    rows.sort(key=lambda r: (np.isnan(r.avg_error), r.avg_error, r.method))
    slug = f"{slugify(suite)}-{slugify(scenario)}"
    title = "Test stream" if scenario == "test-stream" else f"Test stream subset ({scenario})"
    return NevisStreamView(
        scenario=scenario, title=title, slug=slug, tasks=tasks, rows=tuple(rows),
        front=tuple(front), reference=ref, task_errors={m: tuple(v) for m, v in per_task.items()},
        plots=_plots(suite, slug, points, front, tasks, per_task, gains, ref))


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def _row(method: str, runs: pd.DataFrame, href: str, on_front: bool, gain: np.ndarray | None,
         hparams: dict | None, confidence: float) -> NevisRow:
    ok = runs[runs["status"] == "ok"].sort_values("seed", kind="stable")
    errors, flops = _metric(ok, "avg_error"), _metric(ok, "train_flops")
    share, train_time = _metric(ok, "search_share"), _metric(ok, "train_time_s")
    wall_time = ok["wall_time_s"].to_numpy(dtype=float)
    error_cell = _summary(errors, confidence)
    weighted_cell = _summary(_metric(ok, "weighted_error"), confidence)
    accumulation = float(gain.mean()) if gain is not None else None
    return NevisRow(
        method=method, href=href, seeds=len(ok), failed=int((runs["status"] != "ok").sum()),
        avg_error_text=_estimate(error_cell), avg_error=_mean(errors),
        weighted_error_text=_estimate(weighted_cell), train_flops=_mean(flops),
        flops_text=f"{flops.mean():.3g}" if flops.size else "—",
        search_share_text=f"{100 * share.mean():.0f} %" if share.size else "—",
        train_time_text=f"{_mean(train_time):.0f} s" if len(ok) else "—",
        wall_time_text=f"{_mean(wall_time):.0f} s" if len(ok) else "—",
        accumulation_text=f"{accumulation:+.3f}" if accumulation is not None else "—",
        hparams_text=", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in sorted((hparams or {}).items())) or "defaults",
        on_front=on_front, avg_error_cell=error_cell, weighted_error_cell=weighted_cell,
        search_share=_mean(share), train_time_s=_mean(train_time), wall_time_s=_mean(wall_time),
        accumulation=accumulation, hparams=dict(hparams or {}),
        error_seeds=tuple(float(e) for e in errors))


def _plots(suite: str, slug: str, points: dict, front: list[str], tasks: tuple[str, ...],
           per_task: dict[str, np.ndarray], gains: dict[str, np.ndarray],
           reference: str | None) -> tuple[PlotSpec, ...]:
    plots = []
    if points:
        names = sorted(points)
        plots.append(PlotSpec(
            kind="nevis_pareto", path=f"plots/{slug}-pareto.svg",
            alt=f"{suite}: average test error against training FLOPs; Pareto front: "
                + ", ".join(front),
            caption="Error against compute. Dashed: the Pareto front (no other method has both "
                    "lower error and fewer FLOPs).",
            data={"methods": names, "errors": [points[n][0] for n in names],
                  "flops": [points[n][1] for n in names], "front": list(front)}))
    if per_task:
        plots.append(PlotSpec(
            kind="nevis_task_errors", path=f"plots/{slug}-task-errors.svg",
            alt=f"{suite}: test error of every task right after learning it, per method",
            caption="Per-task error: each task's test error right after learning it, tasks in "
                    "chronological order.",
            data={"tasks": list(tasks), "series": {m: v.round(6).tolist()
                                                   for m, v in sorted(per_task.items())}}))
    if gains:
        plots.append(PlotSpec(
            kind="nevis_task_errors", path=f"plots/{slug}-accumulation.svg",
            alt=f"{suite}: error minus {reference}'s error on every task, per method",
            caption=f"Knowledge accumulation: error minus the independent learner's "
                    f"({reference}) on the same task; below zero, earlier tasks helped.",
            data={"tasks": list(tasks), "series": {m: v.round(6).tolist()
                                                   for m, v in sorted(gains.items())},
                  "ylabel": f"error − {reference}'s error", "zero_line": True}))
    return tuple(plots)

