"""`harness evaluate` as a library function: suite + submissions → runs → store.

For every scenario of the suite and every submission: tune (all trials of all submissions in
parallel), select and record the decision, then evaluate the chosen configuration over the
evaluation seeds (again all in parallel). Runs whose key is already stored are skipped, which is
what makes a killed evaluation resumable: re-run the same command.

Failed runs are stored with their reason and are *not* retried on the next invocation unless
`retry_failed` is set (a failure of unchanged code is usually deterministic; editing the method
folder changes its hash and therefore every run key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from harness.data.cache import CachedDataset, DatasetCache
from harness.data.scenario import ScenarioPlan, build_plan
from harness.protocol import (
    check_same_shape,
    check_separation,
    evaluation_specs,
    select_best,
    tuning_specs,
)
from harness.runner.execute import RunJob, prepare_plan_files
from harness.runner.local import LocalExecutor, threads_per_job
from harness.runner.process import WorkerSettings
from harness.runner.result import RunResult, RunStatus
from harness.runner.sandbox import ResourceLimits
from harness.runner.spec import Phase, RunSpec
from harness.store import Decision, Store
from harness.submission import Submission, check_unique_names
from harness.suite import ScenarioData, Suite


@dataclass(frozen=True)
class EvaluateOptions:
    """How to run a campaign.

    Executor (`harness.runner.local` / `harness.runner.ray_executor`): `executor` "local" runs
    `jobs` workers here; "ray" runs each run as a Ray task at `ray_address` (None: a local Ray
    instance) with `cpus_per_run`/`gpus_per_run`, retrying a run whose Ray worker or node was
    lost up to `max_retries` times. `sandbox`: run workers under bubblewrap where it works
    (`harness.runner.sandbox`; the CLI turns it on unless `--no-sandbox`; off here so library
    callers that watch a worker from outside, as tests do, opt in). `memory_limit_mb`: address
    space per run (None: an equal share of physical memory per job).
    """

    jobs: int = 1
    force: bool = False
    retry_failed: bool = False
    num_seeds: int | None = None
    num_trials: int | None = None
    device: str = "cpu"
    legacy_test_tuning: bool = False
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    cpus_per_run: float = 1.0
    gpus_per_run: float = 0.0
    max_retries: int = 2
    sandbox: bool = False
    memory_limit_mb: int | None = None


@dataclass
class EvaluationReport:
    """What one `evaluate` call did. `results` holds every run of the campaign (new or stored);
    `notes` are problems (the command exits 1), `info` what the user should know."""

    results: list[RunResult] = field(default_factory=list)
    executed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if not r.ok]


class Reporter:
    """Progress callbacks; the CLI passes a rich-based one, tests the silent default."""

    def phase(self, name: str, total: int, skipped: int) -> None: ...
    def run_done(self, result: RunResult) -> None: ...
    def phase_done(self) -> None: ...


@dataclass(frozen=True)
class _Benchmark:
    scenario: str
    tuning: ScenarioPlan
    evaluation: ScenarioPlan
    tuning_files: dict[str, str]
    evaluation_files: dict[str, str]


def evaluate(suite: Suite, submissions: Sequence[Submission], store: Store,
             options: EvaluateOptions = EvaluateOptions(), *, cache: DatasetCache | None = None,
             reporter: Reporter | None = None) -> EvaluationReport:
    """Run the whole protocol for `submissions` on `suite`, storing every run."""
    check_unique_names(submissions)
    cache = cache or DatasetCache()
    reporter = reporter or Reporter()
    benchmarks = _prepare(suite, cache)  # fails on a missing dataset before any run starts
    for sub in submissions:
        store.write_submission(sub.meta.name, sub.content_hash, sub.meta.to_json())
    report = EvaluationReport()
    runner = _PhaseRunner(suite, store, options, reporter, report)

    phases = [(Phase.TUNE, Phase.EVALUATE)]
    if options.legacy_test_tuning:
        phases.append((Phase.LEGACY_TUNE, Phase.LEGACY))
    for tune_phase, evaluate_phase in phases:
        _tune_select_evaluate(suite, benchmarks, submissions, store, runner, options,
                              tune_phase, evaluate_phase)
    return report


def _tune_select_evaluate(suite, benchmarks, submissions, store, runner, options, tune_phase,
                          evaluate_phase) -> None:
    """Trials of every (scenario, submission), then the chosen settings over the seeds.

    The fair protocol's trials train on the tuning scenario; legacy trials on the evaluation
    scenario, scored on its test split. Self-tuning methods have no legacy phase.
    """
    legacy = tune_phase is Phase.LEGACY_TUNE
    trials = {(b.scenario, s.meta.name): tuning_specs(suite, b.scenario, s, options.num_trials,
                                                      tune_phase)
              for b in benchmarks for s in submissions}
    runner.run(tune_phase.value, [
        (spec, *((b.evaluation, b.evaluation_files) if legacy else (b.tuning, b.tuning_files)),
         s) for b in benchmarks for s in submissions for spec in trials[(b.scenario, s.meta.name)]
    ])
    evaluation_jobs = []
    for b in benchmarks:
        for sub in submissions:
            if legacy and sub.search_space is None:
                continue
            hparams = _decide(suite, b.scenario, sub, trials[(b.scenario, sub.meta.name)],
                              store, runner.report, tune_phase)
            if hparams is None:
                continue
            evaluation_jobs += [(spec, b.evaluation, b.evaluation_files, sub) for spec in
                                evaluation_specs(suite, b.scenario, sub, hparams,
                                                 options.num_seeds, evaluate_phase)]
    runner.run(evaluate_phase.value, evaluation_jobs)


def _prepare(suite: Suite, cache: DatasetCache) -> list[_Benchmark]:
    tuning_ds = cache.get(suite.tuning.dataset)
    evaluation_ds = cache.get(suite.evaluation.dataset)
    prepared_root = cache.root / ".prepared"  # hidden: not a dataset folder
    benchmarks = []
    for scenario in suite.scenarios:
        tuning = build_plan(suite.tuning, scenario, tuning_ds)
        evaluation = build_plan(suite.evaluation, scenario, evaluation_ds)
        check_separation(suite.name, tuning, evaluation)
        check_same_shape(suite.name, tuning, evaluation)
        per_task = suite.continual_eval.samples_per_task if suite.continual_eval.every_steps \
            else 0
        benchmarks.append(_Benchmark(
            scenario.value, tuning, evaluation,
            prepare_plan_files(tuning, prepared_root, per_task),
            prepare_plan_files(evaluation, prepared_root, per_task),
        ))
    return benchmarks


def _decide(suite: Suite, scenario: str, sub: Submission, trials: list[RunSpec], store: Store,
            report: EvaluationReport, phase: Phase = Phase.TUNE) -> dict | None:
    """Select the hyperparameters to evaluate; record the decision. None: cannot evaluate."""
    if not trials:  # self-tuning: evaluated with the submission's own defaults
        return {}
    stored = store.statuses(spec.key for spec in trials)
    results = [store.get_run(spec.key) for spec in trials if spec.key in stored]
    metric = suite.protocol.tuning_metric
    best = select_best(results, metric)
    if best is None:
        report.notes.append(f"{sub.meta.name} on {suite.name}/{scenario}: every {phase.value} "
                            "trial failed, so it was not evaluated (see `harness results list "
                            "--status failed`)")
        return None
    store.write_decision(Decision(
        suite=suite.name, suite_version=suite.version, scenario=scenario,
        submission=sub.meta.name, submission_hash=sub.content_hash,
        chosen_hparams=best.spec.hparams, chosen_run_key=best.spec.key, metric_name=metric,
        metric_value=best.metrics[metric], trial_keys=tuple(s.key for s in trials),
        phase=phase.value,
    ))
    return best.spec.hparams


class _PhaseRunner:
    """Runs the pending runs of one phase and records every outcome."""

    def __init__(self, suite: Suite, store: Store, options: EvaluateOptions, reporter: Reporter,
                 report: EvaluationReport):
        self.suite, self.store, self.options = suite, store, options
        self.reporter, self.report = reporter, report
        if options.executor == "ray":
            from harness.runner.ray_executor import RayExecutor  # optional dependency

            self.executor = RayExecutor(
                options.ray_address, cpus_per_run=options.cpus_per_run,
                gpus_per_run=options.gpus_per_run, max_retries=options.max_retries,
                sandbox=options.sandbox, memory_limit_mb=options.memory_limit_mb)
        else:
            self.executor = LocalExecutor(options.jobs, WorkerSettings(
                sandbox=options.sandbox,
                limits=ResourceLimits.for_jobs(options.jobs, options.memory_limit_mb)))

    def run(self, phase: str, items: list[tuple[RunSpec, ScenarioPlan, dict, Submission]]):
        statuses = self.store.statuses(spec.key for spec, *_ in items)
        pending, done, changed = [], [], []
        for item in items:
            status = statuses.get(item[0].key)
            rerun = self.options.force or (status is RunStatus.FAILED and
                                           self.options.retry_failed)
            job = self._job(*item)
            if status is None or rerun:
                pending.append(job)
                continue
            stored = self.store.get_run(item[0].key)
            # A run key names the suite version, not the data it read: a re-imported or
            # regenerated dataset keeps the keys, and its stored runs are of other data.
            if stored.dataset_fingerprints and \
                    stored.dataset_fingerprints != job.payload["dataset_fingerprints"]:
                pending.append(job)
                changed.append(item[0])
            else:
                done.append(stored)
        if changed:
            self.report.info.append(
                f"{len(changed)} stored {phase} run(s) were made on other data (the dataset "
                "was re-imported or regenerated since: its fingerprint changed); they are run "
                "again on the data in the cache now")
        self.report.results += done
        self.report.skipped += len(done)
        self.reporter.phase(phase, total=len(items), skipped=len(done))
        for result in self.executor.map(iter(pending)):
            self.store.write_run(result)
            self.report.results.append(result)
            self.report.executed += 1
            self.reporter.run_done(result)
        self.reporter.phase_done()

    def _job(self, spec: RunSpec, plan: ScenarioPlan, files: dict, sub: Submission) -> RunJob:
        side: ScenarioData = self.suite.tuning if spec.phase is Phase.TUNE else \
            self.suite.evaluation  # legacy trials read the evaluation data: that is the point
        payload = {
            **files, "seed": spec.seed, "hparams": spec.hparams,
            "submission_dir": str(sub.path.resolve()), "scenario": plan.scenario.value,
            "backbone": self.suite.backbone, "backbone_options": self.suite.backbone_options,
            "input_shape": list(plan.dataset.image_shape), "num_outputs": plan.num_outputs,
            "num_tasks": plan.num_tasks, "mean": list(plan.dataset.mean),
            "std": list(plan.dataset.std),
            "budget": {k: v for k, v in vars(self.suite.budget).items()
                       if k != "state_bytes_allowed"},
            "model_copies": self.suite.model_copies,
            # References that break the continual rules (joint training) are measured, not held
            # to the state allowance.
            "audit_state": sub.meta.continual,
            "augment": [a.value for a in self.suite.augment],
            "ce_every_steps": self.suite.continual_eval.every_steps,
            "ce_samples_per_task": self.suite.continual_eval.samples_per_task,
            "groups": [list(g) for g in plan.groups],
            "eval_batch_size": self.suite.protocol.eval_batch_size,
            "num_threads": threads_per_job(self.options.jobs), "device": self.options.device,
            "performance": self.suite.performance.to_payload(),
            "dataset_fingerprints": _fingerprints(plan.dataset, side),
        }
        return RunJob(spec=spec, plan=plan, payload=payload,
                      time_limit_s=self.suite.budget.time_limit_s)


def _fingerprints(dataset: CachedDataset, side: ScenarioData) -> dict[str, str]:
    """Fingerprints of the two splits a run reads, by "dataset/split"."""
    return {f"{dataset.name}/{split}": dataset.split_fingerprints[split]
            for split in (side.train_split, side.eval_split)}

