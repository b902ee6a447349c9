"""`harness evaluate` for time-to-result suites: training algorithms × workloads × studies.

External tuning (AlgoPerf): each of `num_studies` studies draws `num_trials` configurations
from the submission's search space with its own sampler seed; every configuration runs on every
workload (held-out variants included). Self-tuning submissions run once per study with their own
defaults and `self_tuning_budget_factor` × the runtime budget. Timed runs never share the
machine: they run one at a time whatever `--jobs` says. Runs are keyed and resumable like every
other run; a workload is a run's `scenario`.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from harness.data.cache import DatasetCache
from harness.evaluation import EvaluateOptions, EvaluationReport, Reporter, _PhaseRunner
from harness.runner.execute import RunJob
from harness.runner.local import threads_per_job
from harness.runner.spec import Phase, RunSpec
from harness.runner.ttr_scoring import TTRPlan
from harness.store import Store
from harness.submission import Submission
from harness.ttr_suite import TTRSuite, Workload

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
    cache = cache or DatasetCache()
    options = options or EvaluateOptions()
    prepared = {w.name: _prepare(w, cache) for w in suite.workloads}  # fails before any run
    for sub in submissions:
        store.write_submission(sub.meta.name, sub.content_hash, sub.meta.to_json())
    report = EvaluationReport()
    runner = _TTRRunner(suite, store, replace(options, jobs=1), reporter or Reporter(), report)
    runner.prepared = prepared
    items = [(spec, sub) for sub in submissions
             for spec in ttr_specs(suite, sub, options.num_trials, options.num_seeds)]
    runner.run("time-to-result", items)
    return report


def _prepare(workload: Workload, cache: DatasetCache) -> tuple[dict, TTRPlan, dict[str, str]]:
    """Subsample the workload's data (fixed seed) into files named by hash, not by workload."""
    dataset = cache.get(workload.dataset)
    rng = np.random.default_rng(0)
    labels = dataset.labels(workload.train_split)
    train = _subset(len(labels), workload.max_train_samples, rng)
    eval_labels_all = dataset.labels(workload.eval_split)
    held = _subset(len(eval_labels_all), workload.max_eval_samples, rng)
    key = hashlib.sha256(f"{dataset.fingerprint}|{workload.train_split}|{workload.eval_split}|"
                         f"{train.tobytes().hex()}|{held.tobytes().hex()}".encode()).hexdigest()
    folder = cache.root / ".prepared" / f"ttr-{key[:16]}"
    if not (folder / "eval_inputs.npy").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        np.save(tmp / "train_images.npy", dataset.images(workload.train_split)[train])
        np.save(tmp / "train_labels.npy", labels[train])
        np.save(tmp / "eval_inputs.npy", dataset.images(workload.eval_split)[held])
        try:
            tmp.rename(folder)
        except OSError:  # prepared concurrently by another process
            shutil.rmtree(tmp, ignore_errors=True)
    files = {name: str(folder / f"{name}.npy")
             for name in ("train_images", "train_labels", "eval_inputs")}
    files["_data"] = {"input_shape": list(dataset.image_shape), "mean": list(dataset.mean),
                      "std": list(dataset.std), "num_outputs": len(dataset.class_names)}
    plan = TTRPlan(eval_labels=eval_labels_all[held], target=workload.target,
                   max_runtime_s=workload.max_runtime_s)
    fingerprints = {f"{dataset.name}/{s}": dataset.split_fingerprints[s]
                    for s in (workload.train_split, workload.eval_split)}
    return files, plan, fingerprints


def _subset(size: int, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or limit >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=limit, replace=False))


class _TTRRunner(_PhaseRunner):
    prepared: dict[str, tuple[dict, TTRPlan, dict[str, str]]]

    def _job(self, spec: RunSpec, sub: Submission) -> RunJob:
        workload = next(w for w in self.suite.workloads if w.name == spec.scenario)
        files, plan, fingerprints = self.prepared[workload.name]
        factor = self.suite.protocol.self_tuning_budget_factor if sub.search_space is None \
            else 1.0
        files = {k: v for k, v in files.items() if k != "_data"}
        data = self.prepared[workload.name][0]["_data"]
        runtime_s = workload.max_runtime_s * factor
        payload = {
            **files, "api": "training-algorithm", "seed": spec.seed, "hparams": spec.hparams,
            "submission_dir": str(sub.path.resolve()), "num_threads": threads_per_job(1),
            "device": self.options.device, "eval_batch_size": self.suite.protocol.eval_batch_size,
            # No workload name or dataset here: the worker's job file is readable by the
            # submission, and per-workload special-casing must be impossible.
            "workload": {"model": workload.model, "model_options": workload.model_options,
                         **data, "step_hint": workload.step_hint, "max_runtime_s": runtime_s,
                         "eval_period_s": workload.eval_period_s},
            "dataset_fingerprints": fingerprints,
        }
        return RunJob(spec=spec, plan=replace(plan, max_runtime_s=runtime_s), payload=payload,
                      time_limit_s=runtime_s * 20 + 60)
