"""The compute table beside each benchmark table: part of the view model (see `leaderboard.view`).

Scored on error *and* compute (NEVIS'22, DESIGN §7): per method, the mean over its successful
evaluation seeds of the training FLOPs of a run (summed over its tasks), its training time (the
submission's timed training, evaluation excluded), the run's wall time, the worker's peak
resident memory and the learner's measured state size (the largest over tasks); and the
training FLOPs of all its tuning trials together. FLOPs are shown in MFLOPs … PFLOPs, sizes in
binary units (KiB, MiB, GiB). Only the fair phases are counted, like the main table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leaderboard.numbers import Estimate, format_bytes, format_duration, format_flops
from leaderboard.rows import estimate_of, metric_values

_MIB = 2**20


@dataclass(frozen=True)
class ComputeColumn:
    key: str
    label: str
    hint: str


# key -> (label, tooltip, formatter of the mean, source metric or "" for the run's wall time)
_COLUMNS: dict[str, tuple[str, str, Callable[[float], str], str]] = {
    "train_flops": ("Training FLOPs", "Estimated training FLOPs of one run, all tasks",
                    format_flops, "train_flops"),
    "train_time_s": ("Training time", "Timed training of one run, evaluation excluded",
                     format_duration, "train_time_s"),
    "wall_time_s": ("Wall time", "Wall time of one run, evaluation included",
                    format_duration, ""),
    "peak_memory_bytes": ("Peak memory", "Peak resident memory of the worker process",
                          format_bytes, "peak_rss_mb"),
    "state_bytes": ("Learner state", "Measured size of the learner's state (largest over tasks)",
                    format_bytes, "state_bytes"),
}


@dataclass(frozen=True)
class ComputeCell:
    """One mean over seeds; `estimate` in the column's base unit (FLOPs, s, bytes)."""

    estimate: Estimate | None
    text: str
    title: str


@dataclass(frozen=True)
class ComputeRow:
    method: str
    method_href: str
    continual: bool
    cells: tuple[ComputeCell, ...]  # follows ComputeView.columns
    tuning_flops: float | None
    tuning_flops_text: str
    # share of training time outside the harness's batches, whose FLOPs are not counted
    uncounted_share: float | None = None

    @property
    def flops_lower_bound(self) -> bool:
        return is_lower_bound(self.uncounted_share)


@dataclass(frozen=True)
class ComputeView:
    slug: str
    columns: tuple[ComputeColumn, ...]
    rows: tuple[ComputeRow, ...]
    has_tuning_flops: bool
    hardware_note: str
    csv_href: str
    json_href: str
    flops_note: str = ""


def _values(evaluation: pd.DataFrame, key: str) -> np.ndarray:
    metric = _COLUMNS[key][3]
    if metric == "peak_rss_mb":  # stored in MiB (ru_maxrss KiB / 1024); shown from bytes
        return metric_values(evaluation, metric) * _MIB
    if metric:
        return metric_values(evaluation, metric)
    ok = evaluation.loc[evaluation["status"] == "ok", "wall_time_s"].to_numpy(dtype=float)
    return ok[np.isfinite(ok)]


def _cell(values: np.ndarray, key: str, confidence: float) -> ComputeCell:
    estimate = estimate_of(values, confidence)
    if estimate is None:
        return ComputeCell(None, "—", "no value recorded")
    shown = _COLUMNS[key][2]
    title = f"mean of {estimate.n} seed{'s' if estimate.n != 1 else ''}"
    if estimate.has_ci:
        title += f"; interval [{shown(estimate.ci_low)}, {shown(estimate.ci_high)}]"
    return ComputeCell(estimate, shown(estimate.mean), title)


def compute_view(
    runs: pd.DataFrame, methods: list[str], *, continual: Mapping[str, bool],
    method_hrefs: Mapping[str, str], bench_slug: str, confidence: float,
) -> ComputeView | None:
    """The compute table of one benchmark from its fair-phase `runs`, rows in `methods`
    order; None when no run recorded any compute metric."""
    evaluation = runs[runs["phase"] == "evaluate"]
    tuning = runs[runs["phase"] == "tune"]
    measured = [k for k, spec in _COLUMNS.items()
                if spec[3] and metric_values(evaluation, spec[3]).size]
    if not measured:
        return None
    keys = [k for k in _COLUMNS if k in measured or k == "wall_time_s"]
    shares = _uncounted_shares(evaluation, methods)
    rows = []
    for m in methods:
        own = evaluation[evaluation["submission"] == m]
        trial_flops = metric_values(tuning[tuning["submission"] == m], "train_flops")
        total = float(trial_flops.sum()) if trial_flops.size else None
        cells = [_cell(_values(own, k), k, confidence) for k in keys]
        share = shares.get(m)
        lower_bound = is_lower_bound(share)
        if lower_bound and "train_flops" in keys:
            i = keys.index("train_flops")
            cells[i] = _lower_bound(cells[i], share)
        rows.append(ComputeRow(
            method=m, method_href=method_hrefs[m], continual=continual.get(m, True),
            cells=tuple(cells), tuning_flops=total,
            tuning_flops_text=("≥ " if lower_bound and total is not None else "")
            + format_flops(total),
            uncounted_share=share,
        ))
    classes = evaluation.loc[evaluation["status"] == "ok", "hardware_class"].nunique()
    slug = f"{bench_slug}-compute"
    return ComputeView(
        slug=slug,
        columns=tuple(ComputeColumn(k, _COLUMNS[k][0], _COLUMNS[k][1]) for k in keys),
        rows=tuple(rows),
        has_tuning_flops=bool(metric_values(tuning, "train_flops").size),
        hardware_note=(f"These runs ran on {classes} hardware classes: times and memory are "
                       "comparable only within one." if classes > 1 else ""),
        csv_href=f"data/{slug}.csv", json_href=f"data/{slug}.json",
        flops_note=_flops_note(shares),
    )


# Above this share of training time spent outside the harness's batches, a method's training
# FLOPs are called a lower bound (the data path's own batch preparation is a few per cent).
UNCOUNTED_SHARE = 0.2


def is_lower_bound(uncounted_share: float | None) -> bool:
    """Whether training FLOPs with this share of uncounted training time are a lower bound."""
    return uncounted_share is not None and uncounted_share > UNCOUNTED_SHARE


def _uncounted_shares(evaluation: pd.DataFrame, methods: list[str]) -> dict[str, float]:
    """Per method, the share of its training time spent outside the harness's batches
    (retraining from a memory, a Fisher pass), whose FLOPs are not counted
    (`harness.runner.instrument`); methods whose runs do not all record it are left out."""
    shares = {}
    for m in methods:
        own = evaluation[evaluation["submission"] == m]
        uncounted = metric_values(own, "uncounted_train_time_s")
        total = metric_values(own, "train_time_s")
        if uncounted.size and uncounted.size == total.size and total.sum() > 0:
            shares[m] = float(uncounted.sum() / total.sum())
    return shares


def _lower_bound(cell: ComputeCell, share: float) -> ComputeCell:
    """A training-FLOPs cell whose method trains mostly outside the counted batches: "≥"."""
    if cell.estimate is None:
        return cell
    return ComputeCell(cell.estimate, f"≥ {cell.text}",
                       f"{cell.title}; a lower bound: {share:.0%} of the training time was "
                       "outside the harness's batches, where FLOPs are not counted")


def _flops_note(shares: Mapping[str, float]) -> str:
    """Which methods' training FLOPs are a lower bound, and how much of their time is uncounted."""
    named = [f"{m} ({share:.0%})" for m, share in shares.items() if is_lower_bound(share)]
    if not named:
        return ""
    return ("Training FLOPs count the work done on the harness's batches; these methods spend "
            "part of their training time outside them (e.g. retraining from a memory), which "
            f"is not counted, so their FLOPs are a lower bound (marked ≥): {', '.join(named)}.")
