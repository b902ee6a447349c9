"""Time-to-result suites (AlgoPerf-style, DESIGN §1 and §3.2): declarative TOML files whose
`api` is "training-algorithm".

A suite lists workloads — data + model + loss + validation metric + target + max runtime + step
hint + evaluation period — and, for each, held-out variants (`variant_of = "base"`, e.g. another
activation or width) that detect brittle algorithms: missing a variant's target sets the base
workload's time to infinity. `[protocol]` sets the external-tuning ruleset (`num_trials`
quasi-random trials in each of `num_studies` studies, each study with its own sampler seed) and
the self-tuning budget factor. `[performance]` turns on speed options for the workloads' models
(`harness.performance_options`; the compilation time is reported apart from time-to-result).

Workload kinds (`kind`, default "classification"; `harness.ttr_kinds`): image classification
(accuracy), a byte-level transformer language model (validation loss or perplexity: lower is
better), a DLRM click-through-rate model (log loss, lower is better, or AUC), and a
convolutional autoencoder (SSIM, or MSE). `metric` picks the validation metric (default per
kind), and the target is met at or beyond it in the metric's direction. `dataset_options`
configures procedural or Hugging Face sources (`harness.ttr_data`). `[workload.calibration]`
is written by `harness calibrate` (the provenance of the target) and is not read otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.configfile import Problems, did_you_mean, suite_version
from harness.models import BACKBONES
from harness.performance_options import TTR_KEYS, PerformanceOptions, parse_performance
from harness.ttr_data import HUB_PREFIX, OPTION_KEYS, PROCEDURAL_SOURCES, source_of
from harness.ttr_kinds import DEFAULT_METRIC, METRICS, MODELS, WorkloadKind

_TOP_KEYS = ("name", "description", "api", "protocol", "workload", "performance")
_PROTOCOL_KEYS = ("num_trials", "num_studies", "sampler_seed", "self_tuning_budget_factor",
                  "eval_batch_size", "num_threads")
_COUNT_OPTIONS = ("sequence_length", "train_bytes", "eval_bytes", "num_words", "successors",
                  "train_samples", "eval_samples", "num_dense", "hash_buckets", "max_bytes")
_WORKLOAD_KEYS = ("name", "variant_of", "kind", "metric", "dataset", "dataset_options", "model",
                  "model_options", "train_split", "eval_split", "target", "max_runtime_s",
                  "eval_period_s", "step_hint", "max_train_samples", "max_eval_samples",
                  "calibration")


@dataclass(frozen=True)
class Workload:
    name: str
    variant_of: str | None
    dataset: str
    model: str
    model_options: dict[str, Any]
    train_split: str
    eval_split: str
    target: float            # validation metric to reach (in the metric's direction)
    max_runtime_s: float     # submission-time budget
    eval_period_s: float     # submission time between evaluations
    step_hint: int
    max_train_samples: int | None
    max_eval_samples: int | None
    kind: WorkloadKind = WorkloadKind.CLASSIFICATION
    metric: str = "accuracy"
    dataset_options: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None


@dataclass(frozen=True)
class TTRProtocol:
    num_trials: int
    num_studies: int
    sampler_seed: int
    self_tuning_budget_factor: float
    eval_batch_size: int
    # Torch threads of a timed run; None: every core. A machine shared with other work wants 1:
    # OpenMP threads spin-wait for each other, and with a co-tenant holding a core a 2-thread
    # step was measured 25× slower than a 1-thread step (0.32 s vs 0.013 s, a small MLP).
    num_threads: int | None = None


@dataclass(frozen=True)
class TTRSuite:
    name: str
    description: str
    path: Path
    version: str
    protocol: TTRProtocol
    workloads: tuple[Workload, ...]
    performance: PerformanceOptions = PerformanceOptions()

    @property
    def base_workloads(self) -> tuple[Workload, ...]:
        return tuple(w for w in self.workloads if w.variant_of is None)


def parse_ttr_suite(data: dict[str, Any], path: Path, text: str,
                    problems: Problems) -> TTRSuite | None:
    problems.unknown_keys(data, _TOP_KEYS, "the suite")
    name = problems.require(data, "name", str, "the suite")
    description = problems.require(data, "description", str, "the suite")
    table = problems.require(data, "protocol", dict, "the suite") or {}
    problems.unknown_keys(table, _PROTOCOL_KEYS, "[protocol]")
    protocol = TTRProtocol(
        num_trials=_positive(table, "num_trials", problems, "[protocol]", 5),
        num_studies=_positive(table, "num_studies", problems, "[protocol]", 3),
        sampler_seed=table.get("sampler_seed", 0),
        self_tuning_budget_factor=float(table.get("self_tuning_budget_factor", 1.5)),
        eval_batch_size=_positive(table, "eval_batch_size", problems, "[protocol]", 1024),
        num_threads=int(_positive(table, "num_threads", problems, "[protocol]", 1))
        if "num_threads" in table else None,
    )
    performance = parse_performance(data, problems, TTR_KEYS)
    raw = problems.require(data, "workload", list, "the suite (as [[workload]] tables)") or []
    workloads = [w for i, entry in enumerate(raw)
                 if (w := _workload(entry, problems, f"[[workload]] #{i + 1}")) is not None]
    names = [w.name for w in workloads]
    for w in workloads:
        if w.variant_of is not None and w.variant_of not in names:
            problems.add(f'workload "{w.name}" is a variant of unknown workload '
                         f'"{w.variant_of}"{did_you_mean(w.variant_of, names)}')
    if len(set(names)) != len(names):
        problems.add("workload names must be unique")
    if problems:
        return None
    return TTRSuite(name=name, description=description, path=path,
                    version=suite_version(text), protocol=protocol,
                    workloads=tuple(workloads), performance=performance)


def _positive(table, key, problems, where, default):
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.add(f'"{key}" in {where} must be a positive number, got {value!r}', key=key)
        return default
    return value


def _kind_and_metric(entry: dict, problems: Problems,
                     where: str) -> tuple[WorkloadKind | None, str | None]:
    raw = entry.get("kind", WorkloadKind.CLASSIFICATION.value)
    kinds = [k.value for k in WorkloadKind]
    if raw not in kinds:
        problems.add(f'unknown kind "{raw}" in {where}{did_you_mean(str(raw), kinds)}; '
                     f"kinds: {', '.join(kinds)}", key="kind")
        return None, None
    kind = WorkloadKind(raw)
    metric = entry.get("metric", DEFAULT_METRIC[kind])
    if metric not in METRICS[kind]:
        problems.add(f'metric "{metric}" in {where} does not fit kind "{kind.value}"'
                     f"{did_you_mean(str(metric), METRICS[kind])}; "
                     f"metrics: {', '.join(METRICS[kind])}", key="metric")
        return kind, None
    return kind, metric


def _check_model_and_data(entry: dict, kind: WorkloadKind, problems: Problems,
                          where: str) -> None:
    model, dataset = entry.get("model"), entry.get("dataset")
    allowed = BACKBONES if kind is WorkloadKind.CLASSIFICATION else MODELS[kind]
    if isinstance(model, str) and model not in allowed:
        problems.add(f'unknown model "{model}" for kind "{kind.value}" in {where}'
                     f"{did_you_mean(model, allowed)}; models: {', '.join(sorted(allowed))}")
    if not isinstance(dataset, str):
        return
    source = source_of(kind, dataset)
    if source == "procedural" and dataset != PROCEDURAL_SOURCES[kind]:
        problems.add(f'dataset "{dataset}" in {where}: a {kind.value} workload reads '
                     f'"{PROCEDURAL_SOURCES[kind]}" (procedural) or "{HUB_PREFIX}PATH" '
                     "(a Hugging Face dataset)", key="dataset")
    options = entry.get("dataset_options", {})
    if not isinstance(options, dict):
        problems.add(f'"dataset_options" in {where} must be a table', key="dataset_options")
        return
    problems.unknown_keys(options, OPTION_KEYS[(kind, source)], f"dataset_options of {where}")
    for key, value in options.items():
        if key in _COUNT_OPTIONS and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
            problems.add(f'"{key}" in dataset_options of {where} must be a positive integer, '
                         f"got {value!r}", key=key)
        if key == "cardinalities" and not (
                isinstance(value, list) and value and
                all(isinstance(c, int) and not isinstance(c, bool) and c > 1 for c in value)):
            problems.add(f'"cardinalities" in dataset_options of {where} must be a list of '
                         f"integers > 1, got {value!r}", key=key)
        if key == "data_files" and not isinstance(value, dict):
            problems.add(f'"data_files" in dataset_options of {where} must be a table of '
                         f"split = path(s), got {value!r}", key=key)


def _workload(entry: Any, problems: Problems, where: str) -> Workload | None:
    if not isinstance(entry, dict):
        problems.add(f"{where} must be a table")
        return None
    problems.unknown_keys(entry, _WORKLOAD_KEYS, where)
    kind, metric = _kind_and_metric(entry, problems, where)
    model = problems.require(entry, "model", str, where)
    if kind is not None:
        _check_model_and_data(entry, kind, problems, where)
    target = problems.require(entry, "target", (float, int), where)
    if target is not None and metric is not None:
        why = METRICS[kind][metric].check_target(float(target))
        if why:
            problems.add(f'"target" in {where} is a validation {metric}; it {why}, got {target}',
                         key="target")
    calibration = entry.get("calibration")
    if calibration is not None and not isinstance(calibration, dict):
        problems.add(f'"calibration" in {where} must be a table')
    optional = {k: (_positive(entry, k, problems, where, None) if k in entry else None)
                for k in ("max_train_samples", "max_eval_samples")}
    fields = dict(
        name=problems.require(entry, "name", str, where),
        variant_of=entry.get("variant_of"),
        dataset=problems.require(entry, "dataset", str, where), model=model,
        model_options=dict(entry.get("model_options", {})),
        train_split=entry.get("train_split", "train"), eval_split=entry.get("eval_split", "val"),
        target=None if target is None else float(target),
        max_runtime_s=float(_positive(entry, "max_runtime_s", problems, where, 60)),
        eval_period_s=float(_positive(entry, "eval_period_s", problems, where, 1)),
        step_hint=int(_positive(entry, "step_hint", problems, where, 1000)), **optional,
        kind=kind, metric=metric,
        dataset_options=dict(entry.get("dataset_options", {}))
        if isinstance(entry.get("dataset_options", {}), dict) else {},
        calibration=dict(calibration) if isinstance(calibration, dict) else None,
    )
    if any(v is None for k, v in fields.items()
           if k in ("name", "dataset", "model", "target", "kind", "metric")):
        return None
    return Workload(**fields)
