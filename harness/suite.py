"""Suite definitions: declarative TOML files in `suites/`, parsed once into frozen dataclasses.

A continual suite names a tuning scenario and an evaluation scenario built from *different* data
(different classes or datasets, same shape) — the protocol of *Hyperparameters in Continual
Learning: a Reality Check* — plus the fixed backbone, the budget and the protocol settings.
See `suites/quickstart.toml` for a documented example. A suite's version is the hash of its
file, so editing a suite never mixes old and new results; that includes its `[performance]`
table of speed options (`harness.performance_options`), which change a run's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.api import Budget, Scenario
from harness.configfile import Problems, did_you_mean, read_toml, suite_version
from harness.data.augment import Augmentation
from harness.errors import ConfigError
from harness.metrics.continual import METRIC_DIRECTIONS
from harness.models import BACKBONES
from harness.nevis.stream import NevisSuite, parse_nevis_suite
from harness.performance_options import CONTINUAL_KEYS, PerformanceOptions, parse_performance
from harness.ttr_suite import TTRSuite, parse_ttr_suite

_TOP_KEYS = ("name", "description", "api", "scenarios", "backbone", "backbone_options",
             "augment", "budget", "protocol", "tuning", "evaluation", "continual_eval",
             "performance")
_BUDGET_KEYS = ("epochs_per_task", "batch_size", "replay_samples", "time_limit_s",
                "model_copies")
_CONTINUAL_EVAL_KEYS = ("every_steps", "samples_per_task")
_PROTOCOL_KEYS = ("num_trials", "num_seeds", "sampler_seed", "tuning_metric", "eval_batch_size")
_DATA_KEYS = ("dataset", "classes", "num_tasks", "class_order_seed", "train_split", "eval_split",
              "max_train_per_class", "max_eval_per_class")


@dataclass(frozen=True)
class ScenarioData:
    """The data of one side of the protocol (tuning or evaluation).

    `classes` are dataset class ids (all when empty), shuffled by `class_order_seed` and cut into
    `num_tasks` equal tasks. Training uses `train_split`; scores use `eval_split` (a validation
    split on the tuning side, the test split on the evaluation side).
    """

    dataset: str
    classes: tuple[int, ...]
    num_tasks: int
    class_order_seed: int
    train_split: str
    eval_split: str
    max_train_per_class: int | None
    max_eval_per_class: int | None


@dataclass(frozen=True)
class ProtocolSettings:
    num_trials: int
    num_seeds: int
    sampler_seed: int
    tuning_metric: str
    eval_batch_size: int


@dataclass(frozen=True)
class ContinualEval:
    """Evaluation during training (*Continual evaluation for lifelong learning*, De Lange et al.
    2023): every `every_steps` training steps and at the end of each task, the learner predicts
    a fixed subsample of `samples_per_task` evaluation samples of every task, giving per-step
    accuracy traces, min-ACC and WC-ACC. `every_steps = 0` turns it off."""

    every_steps: int = 0
    samples_per_task: int = 0


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    path: Path
    version: str
    scenarios: tuple[Scenario, ...]
    backbone: str
    backbone_options: dict[str, int]
    augment: tuple[Augmentation, ...]
    budget: Budget
    model_copies: int
    protocol: ProtocolSettings
    tuning: ScenarioData
    evaluation: ScenarioData
    continual_eval: ContinualEval
    performance: PerformanceOptions = PerformanceOptions()


def restrict_scenarios(suite: Suite, names: list[str] | None) -> Suite:
    """`suite` limited to the scenarios `names` (all when None); unknown names are errors."""
    if not names:
        return suite
    offered = [s.value for s in suite.scenarios]
    unknown = [n for n in names if n not in offered]
    if unknown:
        raise ConfigError(f'suite {suite.name} has no scenario "{unknown[0]}"'
                          f"{did_you_mean(unknown[0], offered)}; it offers {', '.join(offered)}")
    return replace(suite, scenarios=tuple(s for s in suite.scenarios if s.value in names))


def default_suites_dir() -> Path:
    """`./suites` if it exists, else the `suites/` folder shipped beside the package."""
    local = Path("suites")
    if local.is_dir():
        return local
    return Path(__file__).resolve().parent.parent / "suites"


def load_suite(name_or_path: str | Path,
               suites_dir: Path | None = None) -> Suite | TTRSuite | NevisSuite:
    """Load a suite by name (looked up in `suites_dir`) or by path to its TOML file.

    A file whose `api` is "training-algorithm" is a time-to-result suite (`harness.ttr_suite`);
    one whose `family` is "nevis" a NEVIS-like stream (`harness.nevis.stream`).
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        folder = suites_dir or default_suites_dir()
        path = folder / f"{name_or_path}.toml"
        if not path.is_file():
            known = sorted(p.stem for p in folder.glob("*.toml"))
            raise ConfigError(
                f'unknown suite "{name_or_path}"{did_you_mean(str(name_or_path), known)}; '
                f"suites in {folder}: {', '.join(known) or 'none'}"
            )
    data, text = read_toml(path)
    problems = Problems(path, text)
    if data.get("api") == "training-algorithm":
        suite = parse_ttr_suite(data, path, text, problems)
    elif data.get("family") == "nevis":
        suite = parse_nevis_suite(data, path, text, problems)
    else:
        suite = _parse_suite(data, path, text, problems)
    problems.raise_if_any()
    assert suite is not None  # no problems means every part parsed
    return suite


def _parse_suite(data: dict[str, Any], path: Path, text: str, problems: Problems) -> Suite | None:
    problems.unknown_keys(data, _TOP_KEYS, "the suite")
    name = problems.require(data, "name", str, "the suite")
    description = problems.require(data, "description", str, "the suite")
    api = problems.require(data, "api", str, "the suite")
    if api is not None and api != "continual":
        problems.add(f'unknown api "{api}"{did_you_mean(api, ["continual", "training-algorithm"])}'
                     '; use "continual" or "training-algorithm"', key="api")
    scenarios = _parse_scenarios(data, problems)
    backbone = problems.require(data, "backbone", str, "the suite")
    if backbone is not None and backbone not in BACKBONES:
        problems.add(f'unknown backbone "{backbone}"{did_you_mean(backbone, BACKBONES)}',
                     key="backbone")
    backbone_options = data.get("backbone_options", {})
    augment = _parse_augment(data, problems)
    budget = _parse_table(data, "budget", _BUDGET_KEYS, problems, _budget)
    protocol = _parse_table(data, "protocol", _PROTOCOL_KEYS, problems, _protocol)
    tuning = _parse_table(data, "tuning", _DATA_KEYS, problems, _scenario_data)
    evaluation = _parse_table(data, "evaluation", _DATA_KEYS, problems, _scenario_data)
    continual_eval = ContinualEval()
    if "continual_eval" in data:
        continual_eval = _parse_table(data, "continual_eval", _CONTINUAL_EVAL_KEYS, problems,
                                      _continual_eval)
    performance = parse_performance(data, problems, CONTINUAL_KEYS)
    # 8 parameter copies admit every regularization method of the zoo (SI keeps ω, θ*, the
    # path integral and Adam's two moments) while replay memory stays bounded by samples.
    copies = data.get("budget", {}).get("model_copies", 8) if isinstance(
        data.get("budget"), dict) else 8
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 0:
        problems.add('"model_copies" in [budget] must be an integer >= 0', key="model_copies")
    if tuning and evaluation and tuning.num_tasks != evaluation.num_tasks:
        problems.add("tuning and evaluation must have the same number of tasks (the same "
                     f"scenario shape); got {tuning.num_tasks} and {evaluation.num_tasks}")
    if problems:
        return None
    return Suite(
        name=name, description=description, path=path,
        version=suite_version(text), scenarios=scenarios,
        backbone=backbone, backbone_options=dict(backbone_options), augment=augment,
        budget=budget,
        model_copies=copies, protocol=protocol, tuning=tuning, evaluation=evaluation,
        continual_eval=continual_eval, performance=performance,
    )


def _parse_scenarios(data: dict[str, Any], problems: Problems) -> tuple[Scenario, ...]:
    raw = problems.require(data, "scenarios", list, "the suite") or []
    allowed = [s.value for s in Scenario]
    scenarios = []
    for value in raw:
        if value not in allowed:
            problems.add(f'unknown scenario "{value}"{did_you_mean(str(value), allowed)}; '
                         f"allowed: {', '.join(allowed)}", key="scenarios")
        else:
            scenarios.append(Scenario(value))
    if not raw:
        problems.add("scenarios must list at least one of: " + ", ".join(allowed),
                     key="scenarios")
    return tuple(scenarios)


def _parse_augment(data: dict[str, Any], problems: Problems) -> tuple[Augmentation, ...]:
    allowed = [a.value for a in Augmentation]
    chosen = []
    for value in data.get("augment", []):
        if value in allowed:
            chosen.append(Augmentation(value))
        else:
            problems.add(f'unknown augmentation "{value}"{did_you_mean(str(value), allowed)}; '
                         f"allowed: {', '.join(allowed)}", key="augment")
    return tuple(chosen)


def _parse_table(data, key, allowed, problems, build):
    table = problems.require(data, key, dict, "the suite")
    if table is None:
        return None
    problems.unknown_keys(table, allowed, f"[{key}]")
    return build(table, problems, f"[{key}]")


def _positive_int(table, key, problems, where, default=None):
    if key not in table and default is not None:
        return default
    value = problems.require(table, key, int, where)
    if value is not None and value < 1:
        problems.add(f'"{key}" in {where} must be at least 1, got {value}', key=key)
    return value


def _budget(table, problems, where) -> Budget:
    time_limit = problems.require(table, "time_limit_s", (int, float), where)
    if time_limit is not None and time_limit <= 0:
        problems.add(f'"time_limit_s" in {where} must be positive', key="time_limit_s")
    replay = problems.require(table, "replay_samples", int, where)
    if replay is not None and replay < 0:
        problems.add(f'"replay_samples" in {where} must be >= 0', key="replay_samples")
    return Budget(
        epochs_per_task=_positive_int(table, "epochs_per_task", problems, where),
        batch_size=_positive_int(table, "batch_size", problems, where),
        replay_samples=replay, time_limit_s=float(time_limit or 0),
    )


def _continual_eval(table, problems, where) -> ContinualEval:
    every = problems.require(table, "every_steps", int, where)
    samples = _positive_int(table, "samples_per_task", problems, where)
    if every is not None and every < 0:
        problems.add(f'"every_steps" in {where} must be >= 0', key="every_steps")
    return ContinualEval(every_steps=every or 0, samples_per_task=samples or 0)


def _protocol(table, problems, where) -> ProtocolSettings:
    metric = table.get("tuning_metric", "final_avg_acc")
    if metric not in METRIC_DIRECTIONS:
        problems.add(f'unknown tuning_metric "{metric}"{did_you_mean(metric, METRIC_DIRECTIONS)}',
                     key="tuning_metric")
    return ProtocolSettings(
        num_trials=_positive_int(table, "num_trials", problems, where),
        num_seeds=_positive_int(table, "num_seeds", problems, where, default=5),
        sampler_seed=table.get("sampler_seed", 0), tuning_metric=metric,
        eval_batch_size=_positive_int(table, "eval_batch_size", problems, where, default=512),
    )


def _scenario_data(table, problems, where) -> ScenarioData:
    dataset = problems.require(table, "dataset", str, where)
    classes = table.get("classes", [])
    if not isinstance(classes, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in classes
    ):
        problems.add(f'"classes" in {where} must be a list of integer class ids', key="classes")
        classes = []
    num_tasks = _positive_int(table, "num_tasks", problems, where)
    if classes and num_tasks and len(classes) % num_tasks:
        problems.add(f"{len(classes)} classes in {where} cannot be split into {num_tasks} "
                     "equal tasks", key="num_tasks")
    optional = {}
    for key in ("max_train_per_class", "max_eval_per_class"):
        optional[key] = _positive_int(table, key, problems, where) if key in table else None
    train_split = table.get("train_split", "train")
    if train_split == table.get("eval_split", "test"):
        problems.add(f'{where} trains and scores on the same split "{train_split}": its scores '
                     "would be of training data; set train_split and eval_split apart",
                     key="eval_split")
    return ScenarioData(
        dataset=dataset, classes=tuple(classes), num_tasks=num_tasks,
        class_order_seed=table.get("class_order_seed", 0),
        train_split=table.get("train_split", "train"), eval_split=table.get("eval_split", "test"),
        **optional,
    )
