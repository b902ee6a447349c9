"""`harness evaluate` for NEVIS-like streams: tune on the dev stream, evaluate on the test stream.

1. Every task is materialized (`harness.nevis.tasks`); a task whose data is missing is reported
   in the campaign's notes with its reason and left out. The stream runs on the available
   subset, and a partial stream is named by its size and a hash of its task names
   (``test-stream-5of12-1a2b3c``), so results on different subsets never mix; the tasks a run
   covered are stored with it (curve ``nevis_tasks``).
2. The two streams are packed (`harness.nevis.pack`) and checked to share no data: no split
   fingerprint read by the dev stream is read by the test stream (`check_stream_separation`).
3. **Tune**: `num_trials` quasi-random configurations from each method's search space, each a
   run over the whole dev stream (trained on train splits, scored on dev-test splits); the
   configuration with the lowest average dev-test error is chosen and the decision stored.
4. **Evaluate**: the chosen configuration over `num_seeds` seeds on the test stream.

Before any run, checkpoint folders no run will resume are swept (`sweep_run_folders`).

Runs are keyed, stored and skipped like every other run; a stream run also checkpoints after
every task (`harness.nevis.execute`), so a killed run resumes at its next task.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.data.cache import DatasetCache
from harness.errors import ConfigError, UserError
from harness.evaluation import EvaluateOptions, EvaluationReport, Reporter, _PhaseRunner
from harness.nevis.execute import sweep_run_folders
from harness.nevis.pack import StreamPlan, pack_stream, plan_payload
from harness.nevis.stream import NevisSuite, StreamTask
from harness.nevis.tasks import MaterializedTask, TaskUnavailable, materialize
from harness.protocol import evaluation_specs, tuning_specs
from harness.runner.execute import RunJob
from harness.runner.local import threads_per_job
from harness.runner.result import RunStatus
from harness.runner.spec import Phase, RunSpec
from harness.store import Decision, Store
from harness.submission import Submission, check_unique_names

TUNING_METRIC = "avg_error"


@dataclass(frozen=True)
class PreparedStreams:
    dev: StreamPlan
    test: StreamPlan
    dev_scenario: str
    test_scenario: str
    unavailable: tuple[str, ...]  # one line per task left out


def stream_scenario(side: str, available: Sequence[StreamTask], total: int) -> str:
    """``dev-stream`` / ``test-stream``, or a name that identifies a partial subset."""
    name = f"{side}-stream"
    if len(available) == total:
        return name
    digest = hashlib.sha256("|".join(t.name for t in available).encode()).hexdigest()[:6]
    return f"{name}-{len(available)}of{total}-{digest}"


def prepare_streams(suite: NevisSuite, cache: DatasetCache) -> PreparedStreams:
    """Materialize and pack both streams; UserError when a stream has no available task."""
    sides: dict[str, list[MaterializedTask]] = {"dev": [], "test": []}
    unavailable = []
    for side, tasks in (("dev", suite.dev_tasks), ("test", suite.test_tasks)):
        for task in tasks:
            try:
                sides[side].append(materialize(suite, task, cache))
            except TaskUnavailable as exc:
                unavailable.append(f"{side} stream: {exc}")
    for side, tasks in sides.items():
        if not tasks:
            raise UserError(f"suite {suite.name}: no task of its {side} stream is available "
                            f"({len(unavailable)} unavailable; first: "
                            f"{unavailable[0] if unavailable else '-'})")
    root = cache.root / ".prepared"
    check_sources_separate(suite.name, sides["dev"], sides["test"])
    dev, test = pack_stream(sides["dev"], "dev", root), pack_stream(sides["test"], "test", root)
    check_stream_separation(suite.name, dev, test)
    return PreparedStreams(
        dev=dev, test=test,
        dev_scenario=stream_scenario("dev", [m.task for m in sides["dev"]],
                                     len(suite.dev_tasks)),
        test_scenario=stream_scenario("test", [m.task for m in sides["test"]],
                                      len(suite.test_tasks)),
        unavailable=tuple(unavailable))


def check_sources_separate(suite_name: str, dev: list[MaterializedTask],
                           test: list[MaterializedTask]) -> None:
    """Refuse a dev task and a test task made from one source dataset, however the suite file
    names it (`dataset = "mnist"` and `hub = "ylecun/mnist"`, or a local fallback): the suite
    check compares the names, the packed-file check the processed splits, which differ when
    the two tasks process the source differently."""
    def sources(tasks: list[MaterializedTask]) -> dict[str, str]:
        return {str(m.dataset.source["source_fingerprint"]): m.task.name for m in tasks
                if m.dataset.source.get("source_fingerprint")}

    dev_sources, test_sources = sources(dev), sources(test)
    for fingerprint in sorted(dev_sources.keys() & test_sources.keys()):
        raise ConfigError(f"suite {suite_name}: dev task {dev_sources[fingerprint]!r} and test "
                          f"task {test_sources[fingerprint]!r} are made from the same source "
                          "data; tuning must never see test-stream data: give the dev stream "
                          "another source")


def check_stream_separation(suite_name: str, dev: StreamPlan, test: StreamPlan) -> None:
    """Refuse streams whose dev side reads any data the test side reads (by fingerprint)."""
    shared = set(dev.fingerprints.values()) & set(test.fingerprints.values())
    if shared:
        raise ConfigError(f"suite {suite_name}: the dev stream reads data the test stream "
                          "also reads; tuning must never see test-stream tasks")


def evaluate_nevis(suite: NevisSuite, submissions: Sequence[Submission], store: Store,
                   options: EvaluateOptions | None = None, *, cache: DatasetCache | None = None,
                   reporter: Reporter | None = None) -> EvaluationReport:
    check_unique_names(submissions)
    cache = cache or DatasetCache()
    options = options or EvaluateOptions()
    streams = prepare_streams(suite, cache)  # fails on no data before any run starts
    for sub in submissions:
        store.write_submission(sub.meta.name, sub.content_hash, sub.meta.to_json())
    report = EvaluationReport()
    report.notes += [f"{line}; the stream runs without it" for line in streams.unavailable]
    finished = {k for k, status in store.statuses().items() if status is RunStatus.OK}
    removed, freed = sweep_run_folders(cache.root, finished)
    if removed:
        report.notes.append(f"removed {removed} stream checkpoint folder(s) no run will resume "
                            f"({freed / 2**20:.1f} MiB) from {cache.root / '.nevis-runs'}")
    if options.legacy_test_tuning:
        report.notes.append("--legacy-test-tuning does not apply to stream suites: their "
                            "tuning never sees the test stream; ignored")
    runner = _StreamRunner(suite, store, options, reporter or Reporter(), report)
    runner.cache_root = cache.root
    trials = {s.meta.name: tuning_specs(suite, streams.dev_scenario, s, options.num_trials)
              for s in submissions}
    runner.run(Phase.TUNE.value, [(spec, streams.dev, s) for s in submissions
                                  for spec in trials[s.meta.name]])
    jobs = []
    for sub in submissions:
        hparams = _decide(suite, streams.test_scenario, sub, trials[sub.meta.name], store,
                          report)
        if hparams is not None:
            jobs += [(spec, streams.test, sub) for spec in evaluation_specs(
                suite, streams.test_scenario, sub, hparams, options.num_seeds)]
    runner.run(Phase.EVALUATE.value, jobs)
    return report


def _decide(suite: NevisSuite, scenario: str, sub: Submission, trials: list[RunSpec],
            store: Store, report: EvaluationReport) -> dict | None:
    if not trials:
        return {}
    stored = store.statuses(spec.key for spec in trials)
    results = [store.get_run(s.key) for s in trials if s.key in stored]
    ok = [r for r in results if r.ok and TUNING_METRIC in r.metrics]
    if not ok:
        report.notes.append(f"{sub.meta.name} on {suite.name}: every dev-stream trial failed, "
                            "so it was not evaluated (see `harness results list --status "
                            "failed`)")
        return None
    best = min(ok, key=lambda r: (r.metrics[TUNING_METRIC], r.spec.trial))
    store.write_decision(Decision(
        suite=suite.name, suite_version=suite.version, scenario=scenario,
        submission=sub.meta.name, submission_hash=sub.content_hash,
        chosen_hparams=best.spec.hparams, chosen_run_key=best.spec.key,
        metric_name=TUNING_METRIC, metric_value=best.metrics[TUNING_METRIC],
        trial_keys=tuple(s.key for s in trials)))
    return best.spec.hparams


def stream_job(suite: NevisSuite, spec: RunSpec, plan: StreamPlan, sub: Submission, *,
               options: EvaluateOptions, cache_root: Path) -> RunJob:
    """The job of one stream run: what its worker is told (the payload) and how it is scored.

    The payload carries the suite's `[performance]` options, which the stream worker applies
    (`harness.nevis.worker`); the run key needs no help from here, since it hashes the suite
    version, which hashes the whole suite file, the table included.
    """
    budget = suite.budget
    payload = {
        **plan_payload(plan), "api": "nevis", "seed": spec.seed, "hparams": spec.hparams,
        "submission_dir": str(sub.path.resolve()), "backbone": suite.backbone,
        "backbone_options": suite.backbone_options, "input_shape": list(suite.image_shape),
        "budget": {"epochs_per_task": budget.epochs_per_task,
                   "batch_size": budget.batch_size,
                   "search_trials_per_task": budget.search_trials_per_task,
                   "time_limit_s": budget.time_limit_s},
        "eval_batch_size": suite.protocol.eval_batch_size,
        "num_threads": threads_per_job(options.jobs), "device": options.device,
        "checkpoint_root": str(cache_root),
        "performance": suite.performance.to_payload(),
        "dataset_fingerprints": plan.fingerprints,
    }
    return RunJob(spec=spec, plan=plan, payload=payload, time_limit_s=budget.time_limit_s)


class _StreamRunner(_PhaseRunner):
    cache_root = None

    def _job(self, spec: RunSpec, plan: StreamPlan, sub: Submission) -> RunJob:
        return stream_job(self.suite, spec, plan, sub, options=self.options,
                          cache_root=self.cache_root)
