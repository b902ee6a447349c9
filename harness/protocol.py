"""The tuning / evaluation protocol (DESIGN §4).

1. **Tune**: `num_trials` configurations drawn quasi-randomly (scrambled Sobol, seeded by the
   suite) from the submission's search space, each trained on the suite's *tuning* scenario and
   scored on tuning-validation data.
2. **Select**: the trial with the best tuning metric; failed trials never win; ties go to the
   lower trial index (deterministic).
3. **Evaluate**: the selected configuration, fixed, on the *evaluation* scenario over
   `num_seeds` seeds.

A self-tuning submission (no search space) skips 1–2 and is evaluated with its own defaults.
Tuning seeds are disjoint from evaluation seeds (offset `TUNING_SEED_OFFSET`), so no evaluation
run repeats a tuning run's randomness.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.data.scenario import ScenarioPlan
from harness.errors import ConfigError
from harness.metrics.continual import METRIC_DIRECTIONS
from harness.runner.result import RunResult
from harness.runner.spec import Phase, RunSpec
from harness.submission import Submission
from harness.suite import Suite

TUNING_SEED_OFFSET = 10_000


def check_separation(suite_name: str, tuning: ScenarioPlan, evaluation: ScenarioPlan) -> None:
    """Refuse a suite whose tuning scenario reads any sample the evaluation is scored on.

    Compares (dataset fingerprint, split, index) of every sample the tuning side trains or is
    scored on with the evaluation side's scored samples.
    """
    scored = _samples(evaluation, evaluation.eval_split, evaluation.eval_indices)
    tuning_train = np.concatenate([t.train_indices for t in tuning.tasks])
    touched = (_samples(tuning, tuning.train_split, tuning_train)
               | _samples(tuning, tuning.eval_split, tuning.eval_indices)) & scored
    if touched:
        raise ConfigError(
            f"suite {suite_name}: its tuning scenario reads {len(touched)} samples that the "
            f"evaluation is scored on ({evaluation.dataset.name}/{evaluation.eval_split}); "
            "tune on different data (other classes, another split or another dataset)")


def check_same_shape(suite_name: str, tuning: ScenarioPlan, evaluation: ScenarioPlan) -> None:
    """Refuse tuning and evaluation scenarios of different shapes: hyperparameters tuned with
    2 classes per task and 6 outputs would be judged on 3 per task and 9 outputs."""
    shapes = [(len(plan.tasks), tuple(len(t.classes) for t in plan.tasks), plan.num_outputs)
              for plan in (tuning, evaluation)]
    if shapes[0] != shapes[1]:
        (tasks, per_task, outputs), (tasks2, per_task2, outputs2) = shapes
        raise ConfigError(
            f"suite {suite_name}: the tuning scenario has {tasks} tasks of {list(per_task)} "
            f"classes ({outputs} outputs), the evaluation scenario {tasks2} tasks of "
            f"{list(per_task2)} ({outputs2} outputs); both sides need the same shape, so the "
            "tuned hyperparameters fit the problem they are judged on")


def _samples(plan: ScenarioPlan, split: str, indices: np.ndarray) -> set[tuple[str, str, int]]:
    return {(plan.dataset.fingerprint, split, int(i)) for i in indices}


def tuning_specs(suite: Suite, scenario: str, submission: Submission,
                 num_trials: int | None = None, phase: Phase = Phase.TUNE) -> list[RunSpec]:
    """One run per quasi-random trial; empty for self-tuning submissions.

    `phase` LEGACY_TUNE gives the same trials, to be scored on the evaluation data.
    """
    if submission.search_space is None:
        return []
    n = num_trials if num_trials is not None else suite.protocol.num_trials
    trials = submission.search_space.sample(n, seed=suite.protocol.sampler_seed)
    return [
        RunSpec(suite=suite.name, suite_version=suite.version, scenario=scenario,
                phase=phase, submission=submission.meta.name,
                submission_hash=submission.content_hash, hparams=hparams,
                seed=TUNING_SEED_OFFSET + i, trial=i)
        for i, hparams in enumerate(trials)
    ]


def evaluation_specs(suite: Suite, scenario: str, submission: Submission, hparams: dict,
                     num_seeds: int | None = None,
                     phase: Phase = Phase.EVALUATE) -> list[RunSpec]:
    """One run per evaluation seed (0 .. num_seeds-1) with the fixed `hparams`."""
    n = num_seeds if num_seeds is not None else suite.protocol.num_seeds
    return [
        RunSpec(suite=suite.name, suite_version=suite.version, scenario=scenario,
                phase=phase, submission=submission.meta.name,
                submission_hash=submission.content_hash, hparams=dict(hparams), seed=seed)
        for seed in range(n)
    ]


def select_best(results: Sequence[RunResult], metric: str) -> RunResult | None:
    """The successful trial with the best `metric` (ties: lowest trial); None if none succeeded."""
    higher = METRIC_DIRECTIONS[metric] == "higher"
    candidates = [r for r in results if r.ok and metric in r.metrics]
    if not candidates:
        return None
    return min(candidates,
               key=lambda r: ((-1 if higher else 1) * r.metrics[metric], r.spec.trial))
