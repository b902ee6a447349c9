"""The view model of method pages: metadata, hashes, tuning trials, evaluation seeds, hardware.

Part of the view model (see `leaderboard.view`): every value here is computed and formatted for
the template, which only places it on the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.runner.spec import Phase
from harness.store import Decision
from leaderboard.current import CurrentResults, StaleHash, is_continual
from leaderboard.numbers import format_duration, format_hparams, format_value
from leaderboard.paths import benchmark_href, protocol_gap_slug, suite_href
from leaderboard.protocol_gap import LEGACY_DECISION_PHASE
from leaderboard.settings import StatSettings, metric_label, scenario_label, scenario_sort_key
from leaderboard.ttr_results import TTR_METRIC

# Metadata keys shown in this order first; others follow alphabetically.
_METADATA_ORDER = ("authors", "license", "api", "ruleset", "suites", "continual")
_METADATA_SHOWN_ELSEWHERE = ("name", "description", "url")
_TRIAL_COLUMNS = ("trial", "study", "hparams", "status", "reason", "wall_time_s", "run_key")


@dataclass(frozen=True)
class TrialView:
    trial: int
    study: int
    hparams_text: str
    score_text: str
    status: str
    reason: str
    wall_time_text: str
    chosen: bool


@dataclass(frozen=True)
class SeedView:
    """One evaluation seed; `values` follows `MethodBenchmark.metric_labels`."""

    seed: int
    status: str
    reason: str
    values: tuple[str, ...]
    wall_time_text: str
    hardware: str


@dataclass(frozen=True)
class FailedRun:
    phase: str
    label: str
    reason: str


@dataclass(frozen=True)
class MethodBenchmark:
    """What one method did on one benchmark (suite × scenario)."""

    suite: str
    suite_version: str
    scenario: str
    title: str
    table_href: str
    chosen_hparams_text: str
    decision_text: str
    score_label: str
    trials: tuple[TrialView, ...]
    metric_labels: tuple[str, ...]
    seeds: tuple[SeedView, ...]
    failed: tuple[FailedRun, ...]
    legacy_hparams_text: str = ""  # "" without legacy test-set tuning
    legacy_decision_text: str = ""
    gap_href: str = ""
    trials_heading: str = "Tuning trials"
    chosen_badge: str = "chosen"
    seeded: bool = True  # False: time-to-result runs are all trials, none is a seed


@dataclass(frozen=True)
class HardwareEntry:
    details: tuple[tuple[str, str], ...]
    num_runs: int


@dataclass(frozen=True)
class MethodView:
    name: str
    href: str
    continual: bool
    description: str
    url: str
    details: tuple[tuple[str, str], ...]
    current_hash: str
    stale: tuple[StaleHash, ...]
    benchmarks: tuple[MethodBenchmark, ...]
    hardware: tuple[HardwareEntry, ...]


def method_views(
    current: CurrentResults, decisions: list[Decision], method_hrefs: Mapping[str, str],
    settings: StatSettings, timed: frozenset[str] = frozenset(),
) -> tuple[MethodView, ...]:
    """One view per submission name with current results, by name.

    `decisions` are the tuning decisions of the current suite versions and hashes; `timed`
    names the time-to-result suites, whose runs are trials of studies, not seeds.
    """
    return tuple(
        _method_view(
            name, current, [d for d in decisions if d.submission == name], method_hrefs[name],
            settings, timed,
        )
        for name in sorted(current.hashes)
    )


def _method_view(
    name: str, current: CurrentResults, decisions: list[Decision], href: str,
    settings: StatSettings, timed: frozenset[str],
) -> MethodView:
    runs = current.runs[current.runs["submission"] == name]
    metadata = current.metadata.get(name, {})
    url = str(metadata.get("url", ""))
    # A decision names its trials; they may live in another scenario than the one it decides
    # (a stream suite tunes on its dev stream and evaluates on its test stream).
    claimed = {key for d in decisions for key in d.trial_keys}
    benchmarks = []
    for (suite, scenario), group in runs.groupby(["suite", "scenario"], sort=False):
        by_phase = {d.phase: d for d in decisions if d.suite == suite and d.scenario == scenario}
        if suite in timed:
            benchmarks.append(_ttr_benchmark(group))
            continue
        if group["run_key"].isin(claimed).all() and not by_phase:
            continue  # only the trials of a decision shown with its own scenario
        decision = by_phase.get("tune")
        if decision is not None:
            trials = runs[runs["run_key"].isin(decision.trial_keys)]
            group = pd.concat([group[group["phase"] != "tune"], trials])
        benchmarks.append(_method_benchmark(group, decision, settings,
                                            legacy=by_phase.get(LEGACY_DECISION_PHASE)))
    benchmarks.sort(key=lambda b: (b.suite, scenario_sort_key(b.scenario)))
    return MethodView(
        name=name, href=href, continual=is_continual(metadata),
        description=str(metadata.get("description", "")),
        # Only web links become links; anything else is shown as text.
        url=url if url.startswith(("https://", "http://")) else "",
        details=_metadata_details(metadata), current_hash=current.hashes[name],
        stale=current.stale.get(name, ()), benchmarks=tuple(benchmarks),
        hardware=_hardware(runs),
    )


def _metadata_details(metadata: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    keys = [k for k in _METADATA_ORDER if k in metadata]
    keys += sorted(k for k in metadata if k not in keys and k not in _METADATA_SHOWN_ELSEWHERE)
    return tuple((key, _metadata_text(metadata[key])) for key in keys)


def _metadata_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _method_benchmark(
    runs: pd.DataFrame, decision: Decision | None, settings: StatSettings, *,
    legacy: Decision | None = None,
) -> MethodBenchmark:
    """One benchmark of a method page: the fair protocol's decision, trials and seeds; the
    legacy test-set tuning decision, when one was made, is named beside it (its runs are on
    the suite page's protocol-gap table)."""
    suite, scenario = str(runs["suite"].iloc[0]), str(runs["scenario"].iloc[0])
    tuning = runs[runs["phase"] == "tune"].sort_values(["study", "trial"])
    evaluation = runs[runs["phase"] == "evaluate"].sort_values("seed")
    score_metric = decision.metric_name if decision else settings.primary_metric
    chosen_key = decision.chosen_run_key if decision else ""
    metrics = _seed_metrics(evaluation, settings)
    failed = runs[runs["status"] != "ok"].sort_values(["phase", "study", "trial", "seed"])
    return MethodBenchmark(
        suite=suite, suite_version=str(runs["suite_version"].iloc[0]), scenario=scenario,
        title=f"{suite} · {scenario_label(scenario)}",
        table_href=benchmark_href(suite, scenario),
        chosen_hparams_text=format_hparams(decision.chosen_hparams) if decision else "—",
        decision_text=(
            f"{metric_label(decision.metric_name)} on tuning data = "
            f"{format_value(decision.metric_value)}" if decision else "no tuning decision stored"
        ),
        score_label=f"{metric_label(score_metric)} (tuning data)",
        trials=tuple(_trial(r, score_metric, chosen_key)
                     for r in _records(tuning, *_TRIAL_COLUMNS, f"metric.{score_metric}")),
        metric_labels=tuple(metric_label(m) for m in metrics),
        seeds=_seeds(evaluation, metrics),
        legacy_hparams_text=format_hparams(legacy.chosen_hparams) if legacy else "",
        gap_href=f"{suite_href(suite)}#{protocol_gap_slug(suite, scenario)}" if legacy else "",
        legacy_decision_text=(
            f"{metric_label(legacy.metric_name)} on the evaluation data = "
            f"{format_value(legacy.metric_value)}" if legacy else ""
        ),
        failed=tuple(
            FailedRun(
                str(r["phase"]),
                f"trial {r['trial']}" if Phase(r["phase"]).is_trial else f"seed {r['seed']}",
                str(r["reason"]) or "no reason recorded",
            )
            for r in _records(failed, "phase", "trial", "seed", "reason")
        ),
    )


def _ttr_benchmark(runs: pd.DataFrame) -> MethodBenchmark:
    """One workload of a time-to-result suite: every trial of every study with its time to
    target; the fastest trial of each study (the one scored) is marked."""
    suite, workload = str(runs["suite"].iloc[0]), str(runs["scenario"].iloc[0])
    runs = runs.sort_values(["study", "trial"])
    times = runs.get(f"metric.{TTR_METRIC}", pd.Series(float("nan"), index=runs.index))
    times = times.where(runs["status"] == "ok").fillna(float("inf")).astype(float)
    fastest = {study: str(runs.loc[times[runs["study"] == study].idxmin(), "run_key"])
               for study in runs["study"].unique() if np.isfinite(times[runs["study"] == study]
                                                                   .min())}
    num_studies, num_trials = runs["study"].nunique(), runs.groupby("study").size().max()
    trials = tuple(
        TrialView(
            trial=int(r["trial"]), study=int(r["study"]),
            hparams_text=format_hparams(json.loads(r["hparams"])),
            score_text=format_value(t) if np.isfinite(t) else "not reached",
            status=str(r["status"]), reason=str(r["reason"]),
            wall_time_text=format_duration(float(r["wall_time_s"])),
            chosen=fastest.get(r["study"]) == r["run_key"],
        )
        for r, t in zip(_records(runs, *_TRIAL_COLUMNS), times, strict=True)
    )
    failed = runs[runs["status"] != "ok"]
    return MethodBenchmark(
        suite=suite, suite_version=str(runs["suite_version"].iloc[0]), scenario=workload,
        title=f"{suite} · {workload}", table_href=benchmark_href(suite, workload),
        chosen_hparams_text="— (each study's fastest trial counts)",
        decision_text=(f"external tuning: {num_studies} stud{'y' if num_studies == 1 else 'ies'}"
                       f" × {num_trials} trials sampled from the search space; per study the "
                       "trial with the least time to target (marked), then the median over "
                       "studies"),
        score_label=metric_label(TTR_METRIC), trials=trials, metric_labels=(), seeds=(),
        failed=tuple(FailedRun("time-to-result", f"study {r['study']} trial {r['trial']}",
                               str(r["reason"]) or "no reason recorded")
                     for r in _records(failed, "study", "trial", "reason")),
        trials_heading="Trials", chosen_badge="fastest of its study", seeded=False,
    )


def _records(runs: pd.DataFrame, *columns: str) -> list[dict[str, Any]]:
    """The rows of `runs` as dicts of those of `columns` it has (all ~40 columns cost tens of
    milliseconds per call even for a handful of rows)."""
    return runs[[c for c in columns if c in runs.columns]].to_dict("records")


def _seed_metrics(evaluation: pd.DataFrame, settings: StatSettings) -> tuple[str, ...]:
    """Metrics measured on these seeds: the table's metrics first, then the others by name."""
    present = [
        c.removeprefix("metric.") for c in evaluation.columns
        if c.startswith("metric.") and evaluation[c].notna().any()
    ]
    first = [m for m in (settings.primary_metric, *settings.secondary_metrics) if m in present]
    return tuple(first + sorted(m for m in present if m not in first))


def _trial(record: Mapping[str, Any], score_metric: str, chosen_key: str) -> TrialView:
    score = record.get(f"metric.{score_metric}")
    return TrialView(
        trial=int(record["trial"]), study=int(record["study"]),
        hparams_text=format_hparams(json.loads(record["hparams"])),
        score_text=format_value(None if pd.isna(score) else float(score)),
        status=str(record["status"]), reason=str(record["reason"]),
        wall_time_text=format_duration(float(record["wall_time_s"])),
        chosen=record["run_key"] == chosen_key,
    )


def _seeds(evaluation: pd.DataFrame, metrics: tuple[str, ...]) -> tuple[SeedView, ...]:
    """The evaluation seeds in frame order, formatted a column at a time (a record per seed
    took seconds at 10,000 runs); each distinct hardware fingerprint is read once."""
    values = [[format_value(v) for v in evaluation[f"metric.{m}"].to_numpy(dtype=float)]
              for m in metrics]
    hardware = {raw: _hardware_label(json.loads(raw)) for raw in evaluation["hardware"].unique()}
    columns = zip(evaluation["seed"], evaluation["status"], evaluation["reason"],
                  evaluation["wall_time_s"], evaluation["hardware"], strict=True)
    return tuple(
        SeedView(seed=int(seed), status=str(status), reason=str(reason),
                 values=tuple(column[i] for column in values),
                 wall_time_text=format_duration(float(wall_time)), hardware=hardware[raw])
        for i, (seed, status, reason, wall_time, raw) in enumerate(columns)
    )


def _hardware_label(hardware: Mapping[str, Any]) -> str:
    gpu = hardware.get("gpu_model")
    if gpu:
        return f"{hardware.get('gpu_count', 1)}× {gpu}"
    return str(hardware.get("cpu_model") or "unknown")


def _hardware(runs: pd.DataFrame) -> tuple[HardwareEntry, ...]:
    """Each distinct hardware fingerprint of the method's runs, most used first."""
    counts = runs["hardware"].value_counts()
    entries = [
        HardwareEntry(
            tuple((k, _metadata_text(v)) for k, v in sorted(json.loads(raw).items())
                  if v is not None),  # a CPU run has no cuda_version or gpu_model: no row
            int(count),
        )
        for raw, count in counts.items()
    ]
    entries.sort(key=lambda e: (-e.num_runs, e.details))
    return tuple(entries)
