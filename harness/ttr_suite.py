"""Time-to-result suites (AlgoPerf-style, DESIGN §1 and §3.2): declarative TOML files whose
`api` is "training-algorithm".

A suite lists workloads — data + model + loss + validation metric + target + max runtime + step
hint + evaluation period — and, for each, held-out variants (`variant_of = "base"`, e.g. another
activation or width) that detect brittle algorithms: missing a variant's target sets the base
workload's time to infinity. `[protocol]` sets the external-tuning ruleset (`num_trials`
quasi-random trials in each of `num_studies` studies, each study with its own sampler seed) and
the self-tuning budget factor.

The only workload kind so far is image classification (cross-entropy training, accuracy
target) over any cached dataset and any backbone of `harness.models`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.configfile import Problems, did_you_mean
from harness.models import BACKBONES

_TOP_KEYS = ("name", "description", "api", "protocol", "workload")
_PROTOCOL_KEYS = ("num_trials", "num_studies", "sampler_seed", "self_tuning_budget_factor",
                  "eval_batch_size")
_WORKLOAD_KEYS = ("name", "variant_of", "dataset", "model", "model_options", "train_split",
                  "eval_split", "target", "max_runtime_s", "eval_period_s", "step_hint",
                  "max_train_samples", "max_eval_samples")


@dataclass(frozen=True)
class Workload:
    name: str
    variant_of: str | None
    dataset: str
    model: str
    model_options: dict[str, Any]
    train_split: str
    eval_split: str
    target: float            # validation accuracy to reach
    max_runtime_s: float     # submission-time budget
    eval_period_s: float     # submission time between evaluations
    step_hint: int
    max_train_samples: int | None
    max_eval_samples: int | None


@dataclass(frozen=True)
class TTRProtocol:
    num_trials: int
    num_studies: int
    sampler_seed: int
    self_tuning_budget_factor: float
    eval_batch_size: int


@dataclass(frozen=True)
class TTRSuite:
    name: str
    description: str
    path: Path
    version: str
    protocol: TTRProtocol
    workloads: tuple[Workload, ...]

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
    )
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
                    version=hashlib.sha256(text.encode()).hexdigest()[:12], protocol=protocol,
                    workloads=tuple(workloads))


def _positive(table, key, problems, where, default):
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.add(f'"{key}" in {where} must be a positive number, got {value!r}', key=key)
        return default
    return value


def _workload(entry: Any, problems: Problems, where: str) -> Workload | None:
    if not isinstance(entry, dict):
        problems.add(f"{where} must be a table")
        return None
    problems.unknown_keys(entry, _WORKLOAD_KEYS, where)
    model = problems.require(entry, "model", str, where)
    if model is not None and model not in BACKBONES:
        problems.add(f'unknown model "{model}" in {where}{did_you_mean(model, BACKBONES)}')
    target = problems.require(entry, "target", float, where)
    if target is not None and not 0 < target <= 1:
        problems.add(f'"target" in {where} is a validation accuracy in (0, 1], got {target}')
    optional = {k: (_positive(entry, k, problems, where, None) if k in entry else None)
                for k in ("max_train_samples", "max_eval_samples")}
    fields = dict(
        name=problems.require(entry, "name", str, where),
        variant_of=entry.get("variant_of"),
        dataset=problems.require(entry, "dataset", str, where), model=model,
        model_options=dict(entry.get("model_options", {})),
        train_split=entry.get("train_split", "train"), eval_split=entry.get("eval_split", "val"),
        target=target,
        max_runtime_s=float(_positive(entry, "max_runtime_s", problems, where, 60)),
        eval_period_s=float(_positive(entry, "eval_period_s", problems, where, 1)),
        step_hint=int(_positive(entry, "step_hint", problems, where, 1000)), **optional,
    )
    if any(v is None for k, v in fields.items()
           if k in ("name", "dataset", "model", "target")):
        return None
    return Workload(**fields)
