"""NEVIS-like stream suites (*NEVIS'22*): a chronological stream of heterogeneous tasks.

A stream suite is a TOML file in `suites/` with ``family = "nevis"`` (see `suites/nevis-mini.toml`
for a documented example). It lists tasks in publication order, each with

- ``year``, ``name``, ``type`` (a closed set, `TASK_TYPES`);
- ``source``, exactly one of: a procedural generator with parameters (``generator``, ``params``,
  ``per_class = [train, dev, test]``, ``seed``; `harness.nevis.generators`), a dataset of the
  harness cache (``dataset``, imported by `harness data import`), or a Hugging Face dataset
  (``hub``, ``config``, ``label_column``, ``image_column``);
- ``splits``: which source split plays which role (``{ train = "train", test = "test" }``);
  the four splits train / dev / dev-test / test are carved by `harness.nevis.splits` (70/15/15
  when the source has a single split);
- ``image_policy``: how its images reach the stream's fixed ``image_shape`` (`ImagePolicy`).

``stop_year`` divides the stream: tasks of that year and earlier form the **dev stream**, on
which learners are developed and their hyperparameters tuned (scored on dev-test splits); later
tasks form the **test stream**, the only one whose numbers are reported (scored on test splits).
The two streams share no task and no source (checked here), so no tuning run can see a
test-stream task. A suite's version is the hash of its file.

An optional ``[performance]`` table turns on the same speed options as in continual suites
(`harness.performance_options`: channels_last, torch.compile, bf16 autocast, pinned copies),
applied by the stream worker (`harness.nevis.worker`). Being part of the file, the table is part
of the version, hence of every run key: turning an option on never mixes results of the two
settings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.configfile import Problems, did_you_mean, suite_version
from harness.models import BACKBONES
from harness.nevis.generators import GENERATORS
from harness.performance_options import STREAM_KEYS, PerformanceOptions, parse_performance

TASK_TYPES = ("ocr", "digits", "shapes", "textures", "counting", "orientation", "colour",
              "symmetry", "noise", "fine-grained", "objects", "scenes", "remote-sensing",
              "faces", "medical")
ROLES = ("train", "dev", "test")
_TOP_KEYS = ("name", "description", "family", "backbone", "backbone_options", "image_shape",
             "stop_year", "split_seed", "budget", "protocol", "task", "performance")
_BUDGET_KEYS = ("epochs_per_task", "batch_size", "search_trials_per_task", "time_limit_s")
_PROTOCOL_KEYS = ("num_trials", "num_seeds", "sampler_seed", "eval_batch_size", "reference")
_TASK_KEYS = ("year", "name", "type", "source", "splits", "image_policy", "max_train_samples",
              "max_test_samples")
_SOURCE_KEYS = {"generator": ("generator", "params", "per_class", "seed"),
                "dataset": ("dataset",),
                "hub": ("hub", "config", "label_column", "image_column", "local")}


class ImagePolicy(enum.Enum):
    """How a task's images become the stream's (C, H, W).

    ``resize``: bilinear, antialiased resize of the whole image (aspect ratio not kept);
    ``pad``: centre on a black canvas, centre-cropping any side that is too long (keeps scale);
    ``crop``: centre-crop the largest square, then resize (keeps aspect ratio).
    Grey images are repeated to three channels, colour images averaged to one, as needed.
    """

    RESIZE = "resize"
    PAD = "pad"
    CROP = "crop"


@dataclass(frozen=True)
class ProceduralSource:
    generator: str
    params: dict[str, Any]
    per_class: tuple[int, int, int]  # train, dev, test samples per class
    seed: int

    @property
    def class_names(self) -> tuple[str, ...]:
        return GENERATORS[self.generator].class_names(self.params)

    def identity(self) -> str:
        return f"procedural:{self.generator}:{sorted(self.params.items())}:{self.seed}"


@dataclass(frozen=True)
class DatasetSource:
    dataset: str  # a dataset of the harness cache (`harness data import NAME`)

    def identity(self) -> str:
        return f"dataset:{self.dataset}"


@dataclass(frozen=True)
class HubSource:
    hub: str
    config: str | None = None
    label_column: str = "label"
    image_column: str = "image"
    local: tuple[str, ...] = ()  # cached datasets tried first (e.g. imported from files)

    def identity(self) -> str:
        return f"hub:{self.hub}:{self.config}"


Source = ProceduralSource | DatasetSource | HubSource


@dataclass(frozen=True)
class StreamTask:
    year: int
    name: str
    task_type: str
    source: Source
    splits: dict[str, str]  # role (train, dev, test) -> the source's split name
    image_policy: ImagePolicy
    max_train_samples: int | None = None
    max_test_samples: int | None = None


@dataclass(frozen=True)
class NevisBudget:
    """Per task: `epochs_per_task` passes over its training split (batches of `batch_size`);
    at most `search_trials_per_task` in-task search trials (each at most as many epochs);
    `time_limit_s` for the whole stream run."""

    epochs_per_task: int
    batch_size: int
    search_trials_per_task: int
    time_limit_s: float


@dataclass(frozen=True)
class NevisProtocol:
    """`num_trials` quasi-random configurations tried on the dev stream (scored by its average
    dev-test error), the best evaluated on the test stream over `num_seeds` seeds. `reference`:
    the method the knowledge-accumulation view compares with (an independent learner)."""

    num_trials: int = 2
    num_seeds: int = 1
    sampler_seed: int = 0
    eval_batch_size: int = 512
    reference: str | None = None
    tuning_metric: str = "avg_error"


@dataclass(frozen=True)
class NevisSuite:
    name: str
    description: str
    path: Path
    version: str
    backbone: str
    backbone_options: dict[str, Any]
    image_shape: tuple[int, int, int]
    stop_year: int
    split_seed: int
    budget: NevisBudget
    protocol: NevisProtocol
    tasks: tuple[StreamTask, ...] = field(default=())
    performance: PerformanceOptions = PerformanceOptions()

    @property
    def dev_tasks(self) -> tuple[StreamTask, ...]:
        return tuple(t for t in self.tasks if t.year <= self.stop_year)

    @property
    def test_tasks(self) -> tuple[StreamTask, ...]:
        return tuple(t for t in self.tasks if t.year > self.stop_year)


def parse_nevis_suite(data: dict[str, Any], path: Path, text: str,
                      problems: Problems) -> NevisSuite | None:
    """Validate a stream suite, recording every problem in `problems` (None if any)."""
    problems.unknown_keys(data, _TOP_KEYS, "the suite")
    name = problems.require(data, "name", str, "the suite")
    description = problems.require(data, "description", str, "the suite")
    backbone = problems.require(data, "backbone", str, "the suite")
    if backbone is not None and backbone not in BACKBONES:
        problems.add(f'unknown backbone "{backbone}"{did_you_mean(backbone, BACKBONES)}',
                     key="backbone")
    shape = _image_shape(data, problems)
    stop_year = problems.require(data, "stop_year", int, "the suite")
    budget = _budget(data.get("budget", {}), problems)
    protocol = _protocol(data.get("protocol", {}), problems)
    performance = parse_performance(data, problems, STREAM_KEYS)
    raw = problems.require(data, "task", list, "the suite (as [[task]] tables)") or []
    tasks = [t for i, entry in enumerate(raw)
             if (t := _task(entry, problems, f"[[task]] #{i + 1}")) is not None]
    if len(tasks) == len(raw) and stop_year is not None:
        _check_stream(tasks, stop_year, problems)
    if problems:
        return None
    return NevisSuite(
        name=name, description=description, path=path,
        version=suite_version(text), backbone=backbone,
        backbone_options=dict(data.get("backbone_options", {})), image_shape=shape,
        stop_year=stop_year, split_seed=int(data.get("split_seed", 0)), budget=budget,
        protocol=protocol, tasks=tuple(tasks), performance=performance)


def _check_stream(tasks: list[StreamTask], stop_year: int, problems: Problems) -> None:
    names = [t.name for t in tasks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.add(f"task names must be unique; repeated: {', '.join(duplicates)}")
    for before, after in zip(tasks, tasks[1:], strict=False):
        if after.year < before.year:
            problems.add(f'tasks must be in chronological order: "{after.name}" ({after.year}) '
                         f'comes after "{before.name}" ({before.year})')
    dev = [t for t in tasks if t.year <= stop_year]
    test = [t for t in tasks if t.year > stop_year]
    if not dev or not test:
        problems.add(f"stop_year {stop_year} leaves the {'dev' if not dev else 'test'} stream "
                     "empty; choose a year between the first and the last task's",
                     key="stop_year")
    shared = {t.source.identity() for t in dev} & {t.source.identity() for t in test}
    if shared:
        problems.add(f"the dev and test streams share a source ({sorted(shared)[0]}): a tuning "
                     "run would see test-stream data; give every task its own source")


def _image_shape(data: dict[str, Any], problems: Problems) -> tuple[int, int, int]:
    shape = data.get("image_shape", [3, 32, 32])
    if (not isinstance(shape, list) or len(shape) != 3
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in shape)
            or shape[0] not in (1, 3) or min(shape[1:]) < 8):
        problems.add(f'"image_shape" must be [channels (1 or 3), height, width] with sides '
                     f">= 8, got {shape!r}", key="image_shape")
        return (3, 32, 32)
    return (shape[0], shape[1], shape[2])


def _positive(table: dict[str, Any], key: str, where: str, problems: Problems,
              default: Any, kind: type | tuple[type, ...] = int) -> Any:
    value = table.get(key, default)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if value is None or isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        problems.add(f'"{key}" in {where} must be a positive number, got {value!r}', key=key)
        return default
    return value


def _budget(table: Any, problems: Problems) -> NevisBudget:
    if not isinstance(table, dict):
        problems.add("[budget] must be a table")
        table = {}
    problems.unknown_keys(table, _BUDGET_KEYS, "[budget]")
    return NevisBudget(
        epochs_per_task=_positive(table, "epochs_per_task", "[budget]", problems, 2),
        batch_size=_positive(table, "batch_size", "[budget]", problems, 32),
        search_trials_per_task=_positive(table, "search_trials_per_task", "[budget]",
                                         problems, 3),
        time_limit_s=float(_positive(table, "time_limit_s", "[budget]", problems, 3600.0,
                                     (int, float))))


def _protocol(table: Any, problems: Problems) -> NevisProtocol:
    if not isinstance(table, dict):
        problems.add("[protocol] must be a table")
        table = {}
    problems.unknown_keys(table, _PROTOCOL_KEYS, "[protocol]")
    reference = table.get("reference")
    if reference is not None and not isinstance(reference, str):
        problems.add('"reference" in [protocol] must be a method name', key="reference")
        reference = None
    return NevisProtocol(
        num_trials=_positive(table, "num_trials", "[protocol]", problems, 2),
        num_seeds=_positive(table, "num_seeds", "[protocol]", problems, 1),
        sampler_seed=int(table.get("sampler_seed", 0)),
        eval_batch_size=_positive(table, "eval_batch_size", "[protocol]", problems, 512),
        reference=reference)


def _task(entry: Any, problems: Problems, where: str) -> StreamTask | None:
    if not isinstance(entry, dict):
        problems.add(f"{where} must be a table")
        return None
    problems.unknown_keys(entry, _TASK_KEYS, where)
    name = problems.require(entry, "name", str, where)
    where = f'task "{name}"' if name else where
    year = problems.require(entry, "year", int, where)
    if year is not None and not 1900 <= year <= 2100:
        problems.add(f"{where}: year {year} is not a publication year", key="year")
    task_type = problems.require(entry, "type", str, where)
    if task_type is not None and task_type not in TASK_TYPES:
        problems.add(f'{where}: unknown type "{task_type}"{did_you_mean(task_type, TASK_TYPES)}'
                     f"; allowed: {', '.join(TASK_TYPES)}")
    policy_name = entry.get("image_policy", "resize")
    policies = [p.value for p in ImagePolicy]
    if policy_name not in policies:
        problems.add(f'{where}: unknown image_policy "{policy_name}"'
                     f"{did_you_mean(str(policy_name), policies)}; allowed: {', '.join(policies)}")
        policy_name = "resize"
    source = _source(entry.get("source"), problems, where)
    splits = _splits(entry, source, problems, where)
    limits = {k: _positive(entry, k, where, problems, None) if k in entry else None
              for k in ("max_train_samples", "max_test_samples")}
    if None in (name, year, task_type, source, splits):
        return None
    return StreamTask(year=year, name=name, task_type=task_type, source=source, splits=splits,
                      image_policy=ImagePolicy(policy_name), **limits)


def _splits(entry: dict[str, Any], source: Source | None, problems: Problems,
            where: str) -> dict[str, str] | None:
    if isinstance(source, ProceduralSource | DatasetSource):
        default = {"train": "train", "dev": "val", "test": "test"}
    else:
        default = {"train": "train", "test": "test"}
    splits = entry.get("splits", default)
    if not isinstance(splits, dict) or not all(isinstance(v, str) for v in splits.values()):
        problems.add(f'{where}: "splits" must map roles (train, dev, test) to split names')
        return None
    for role in splits:
        if role not in ROLES:
            problems.add(f'{where}: unknown split role "{role}"{did_you_mean(role, ROLES)}; '
                         f"roles: {', '.join(ROLES)}")
    if "train" not in splits:
        problems.add(f'{where}: "splits" must name the source split with the "train" role')
        return None
    repeated = sorted({name for name in splits.values() if list(splits.values()).count(name) > 1})
    if repeated:
        problems.add(f'{where}: "splits" gives the source split "{repeated[0]}" two roles; each '
                     "role needs its own split (a test split that is also trained on scores "
                     "training data)")
        return None
    return dict(splits)


def _source(raw: Any, problems: Problems, where: str) -> Source | None:
    if not isinstance(raw, dict):
        problems.add(f'{where}: "source" must be a table naming a generator, a dataset or a hub '
                     "id")
        return None
    kinds = [k for k in _SOURCE_KEYS if k in raw]
    if len(kinds) != 1:
        problems.add(f'{where}: "source" must name exactly one of generator, dataset, hub; '
                     f"got {', '.join(kinds) or 'none'}")
        return None
    kind = kinds[0]
    problems.unknown_keys(raw, _SOURCE_KEYS[kind], f"{where}'s source")
    if kind == "dataset":
        value = problems.require(raw, "dataset", str, f"{where}'s source")
        return DatasetSource(value) if value else None
    if kind == "hub":
        hub = problems.require(raw, "hub", str, f"{where}'s source")
        local = raw.get("local", [])
        if not isinstance(local, list) or not all(isinstance(n, str) for n in local):
            problems.add(f'{where}: "local" must be a list of cached dataset names')
            local = []
        return HubSource(hub, raw.get("config"), raw.get("label_column", "label"),
                         raw.get("image_column", "image"), tuple(local)) if hub else None
    return _procedural(raw, problems, where)


def _procedural(raw: dict[str, Any], problems: Problems, where: str) -> ProceduralSource | None:
    generator = raw["generator"]
    if generator not in GENERATORS:
        problems.add(f'{where}: unknown generator "{generator}"'
                     f"{did_you_mean(str(generator), GENERATORS)}; known: "
                     f"{', '.join(GENERATORS)}")
        return None
    kind = GENERATORS[generator]
    params = raw.get("params", {})
    if not isinstance(params, dict):
        problems.add(f'{where}: "params" must be a table')
        return None
    merged = {**kind.defaults, **params}
    try:
        class_names = kind.class_names(merged)
    except (KeyError, TypeError) as exc:
        problems.add(f"{where}: generator {generator} needs the parameter {exc} in params")
        return None
    if len(class_names) < 2 or len(set(class_names)) != len(class_names):
        problems.add(f"{where}: a task needs at least 2 distinct classes, got {class_names}")
    known = set(kind.defaults) | {"chars", "fonts", "shapes", "textures", "counts",
                                  "num_angles", "colours", "symmetries", "levels"}
    for key in params:
        if key not in known:
            problems.add(f'{where}: unknown parameter "{key}" of generator {generator}'
                         f"{did_you_mean(key, known)}")
    per_class = raw.get("per_class", [100, 20, 20])
    if (not isinstance(per_class, list) or len(per_class) != 3
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1
                       for c in per_class)):
        problems.add(f'{where}: "per_class" must be [train, dev, test] sample counts >= 1, got '
                     f"{per_class!r}")
        return None
    return ProceduralSource(generator=generator, params=merged,
                            per_class=(per_class[0], per_class[1], per_class[2]),
                            seed=int(raw.get("seed", 0)))
