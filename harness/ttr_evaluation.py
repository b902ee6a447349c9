"""`harness evaluate` for time-to-result suites: training algorithms × workloads × studies.

External tuning (AlgoPerf): each of `num_studies` studies draws `num_trials` configurations
from the submission's search space with its own sampler seed; every configuration runs on every
workload (held-out variants included). Self-tuning submissions run once per study with their own
defaults and `self_tuning_budget_factor` × the runtime budget. Runs are keyed and resumable like
every other run; a workload is a run's `scenario`.

Timed runs never share the machine: whatever `--jobs` says and whichever executor runs them,
`harness.runner.serial.one_at_a_time` runs one at a time (the local executor never has two
workers past their start-up, a Ray cluster never has two timed runs in flight; serializing per
machine rather than per node keeps a single-node cluster honest; a multi-node cluster could run
one per node, which would need per-node placement in the Ray executor).
"""

from __future__ import annotations

import math
from dataclasses import replace

from harness.configfile import suite_version
from harness.data.cache import DatasetCache
from harness.evaluation import EvaluateOptions, EvaluationReport, Reporter, _PhaseRunner
from harness.metrics.time_to_result import timing_noise_note
from harness.runner.execute import RunJob
from harness.runner.local import threads_per_job
from harness.runner.serial import one_at_a_time
from harness.runner.spec import Phase, RunSpec
from harness.store import Store
from harness.submission import Submission, check_unique_names
from harness.ttr_data import Prepared, prepare
from harness.ttr_suite import TTRSuite

STUDY_SEED_STRIDE = 7919  # sampler seed of study s: sampler_seed + s × stride


def ttr_specs(suite: TTRSuite, sub: Submission, num_trials: int | None = None,
              num_studies: int | None = None) -> list[RunSpec]:
    """Every run of `sub` on `suite`: studies × trials × workloads."""
    studies = num_studies or suite.protocol.num_studies
    specs = []
    for study in range(studies):
        if sub.search_space is None:
            trials = [{}]
        else:
            trials = sub.search_space.sample(
                num_trials or suite.protocol.num_trials,
                seed=suite.protocol.sampler_seed + STUDY_SEED_STRIDE * study)
        for trial, hparams in enumerate(trials):
            specs += [RunSpec(suite=suite.name, suite_version=suite.version, scenario=w.name,
                              phase=Phase.EVALUATE, submission=sub.meta.name,
                              submission_hash=sub.content_hash, hparams=hparams,
                              seed=1000 * study + trial, trial=trial, study=study)
                      for w in suite.workloads]
    return specs


def evaluate_ttr(suite: TTRSuite, submissions: list[Submission], store: Store,
                 options: EvaluateOptions | None = None, *,
                 cache: DatasetCache | None = None,
                 reporter: Reporter | None = None) -> EvaluationReport:
    check_unique_names(submissions)
    cache = cache or DatasetCache()
    options = options or EvaluateOptions()
    prepared = {w.name: prepare(w, cache) for w in suite.workloads}  # fails before any run
    for sub in submissions:
        store.write_submission(sub.meta.name, sub.content_hash, sub.meta.to_json())
    text = suite.path.read_text(encoding="utf-8")
    if suite_version(text) == suite.version:  # not edited since
        store.write_suite_file(suite.name, suite.version, text)
    report = EvaluationReport()
    runner = _TTRRunner(suite, store, replace(options, jobs=1), reporter or Reporter(), report)
    runner.executor = one_at_a_time(runner.executor)
    runner.prepared = prepared
    items = [(spec, sub) for sub in submissions
             for spec in ttr_specs(suite, sub, options.num_trials, options.num_seeds)]
    runner.run("time-to-result", items)
    noise = [r.metrics.get("timing_noise", math.nan) for r in report.results if r.ok]
    if note := timing_noise_note(noise):
        report.info.append(note)
    return report


class _TTRRunner(_PhaseRunner):
    prepared: dict[str, Prepared]

    def _job(self, spec: RunSpec, sub: Submission) -> RunJob:
        workload = next(w for w in self.suite.workloads if w.name == spec.scenario)
        prepared = self.prepared[workload.name]
        files, plan, data = prepared.files, prepared.plan, prepared.data
        fingerprints = prepared.fingerprints
        factor = self.suite.protocol.self_tuning_budget_factor if sub.search_space is None \
            else 1.0
        runtime_s = workload.max_runtime_s * factor
        threads = self.suite.protocol.num_threads or threads_per_job(1)
        payload = {
            **files, "api": "training-algorithm", "seed": spec.seed, "hparams": spec.hparams,
            "submission_dir": str(sub.path.resolve()), "num_threads": threads,
            "device": self.options.device, "eval_batch_size": self.suite.protocol.eval_batch_size,
            "performance": self.suite.performance.to_payload(),
            "stop_at_target": plan.stop_at_target,
            # No workload name or dataset here: the worker's job file is readable by the
            # submission, and per-workload special-casing must be impossible.
            "workload": {"kind": workload.kind.value, "metric": workload.metric,
                         "model": workload.model, "model_options": workload.model_options,
                         **data, "step_hint": workload.step_hint, "max_runtime_s": runtime_s,
                         "eval_period_s": workload.eval_period_s},
            "dataset_fingerprints": fingerprints,
        }
        return RunJob(spec=spec, plan=replace(plan, max_runtime_s=runtime_s), payload=payload,
                      time_limit_s=runtime_s * 20 + 60)
