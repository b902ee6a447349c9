"""Time-to-result scoring (AlgoPerf: Dahl et al. 2023, *Benchmarking Neural Network Training
Algorithms*, §4).

Data conventions (every function states which it takes):

    eval curve   eval_times_s, eval_scores: float arrays of shape (num_evals,), one entry per
                 evaluation of one trial, in the order they happened; times are submission
                 time (timed calls only), non-decreasing.
    trial_times  float array of shape (..., num_studies, num_trials): time to target of every
                 trial (`inf` where the target was not reached).
    study_times  float array of shape (..., num_studies): each study's fastest trial.
    times        float array of shape (num_submissions, num_workloads): each submission's time
                 to target on each workload (the median over its studies); `inf` where it
                 never reached the target. Times must be > 0.

Scoring, in order:

1. `time_to_target` per trial: the submission time of the first evaluation that meets the
   target, `inf` if none does within the workload's max runtime.
2. `fastest_trial_times` per study: the trial with the least *time* (not the fewest
   evaluations: a trial that evaluates more often can reach the target sooner).
3. `median_study_times` per workload: the median over studies, `inf`-aware (the median of
   [1, inf, inf] is inf: a submission must reach the target in most studies).
4. `apply_heldout_rule`: a submission that misses the target on a workload's held-out variant
   (does not reach it within the variant's max runtime) scores `inf` on the base workload. The
   variant's time is not compared with other submissions' (no 4× cut on variants): the rule
   tests that an algorithm is robust to a change of the workload, not how fast it is there.
5. `performance_ratios` -> `performance_profile` -> `benchmark_score`: ratios to the fastest
   submission per workload, cut at `max_ratio` (= 4), and the normalized area under the profile.

Beyond AlgoPerf: bootstrap intervals over studies (`bootstrap_workload_times`,
`bootstrap_benchmark_score`), `geometric_mean_speedup` against a reference submission, and
`check_same_hardware`, because a time is only comparable with times from the same hardware.
Randomness comes only from the `numpy.random.Generator` passed in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from harness.errors import UserError

__all__ = [
    "DEFAULT_MAX_RATIO",
    "apply_heldout_rule",
    "benchmark_score",
    "bootstrap_benchmark_score",
    "bootstrap_workload_times",
    "check_same_hardware",
    "fastest_trial_times",
    "geometric_mean_speedup",
    "median_study_times",
    "performance_profile",
    "performance_ratios",
    "time_to_target",
]

DEFAULT_MAX_RATIO = 4.0
"""AlgoPerf's τ_max: times more than 4x the fastest count as not reaching the target."""


def time_to_target(eval_times_s: ArrayLike, eval_scores: ArrayLike, target: float, *,
                   higher_is_better: bool, max_runtime_s: float) -> float:
    """Submission time of the first evaluation meeting `target`; `inf` if none within budget.

    Args:
        eval_times_s: shape (num_evals,), submission time at each evaluation, non-decreasing.
        eval_scores: shape (num_evals,), the validation metric at each evaluation; NaN (a
            diverged run) never meets the target.
        target: the workload's validation target; met when score >= target
            (`higher_is_better`) or score <= target (otherwise).
        max_runtime_s: evaluations after this submission time do not count.
    """
    times = np.asarray(eval_times_s, dtype=float)
    scores = np.asarray(eval_scores, dtype=float)
    if times.ndim != 1 or times.shape != scores.shape:
        raise ValueError(f"eval_times_s and eval_scores must both have shape (num_evals,), "
                         f"got {times.shape} and {scores.shape}")
    if np.any(np.isnan(times)) or np.any(np.diff(times) < 0):
        raise ValueError("eval_times_s must be non-decreasing and free of NaN")
    with np.errstate(invalid="ignore"):  # NaN scores compare False: never meet the target
        met = scores >= target if higher_is_better else scores <= target
    met &= times <= max_runtime_s
    if not met.any():
        return float("inf")
    return float(times[np.argmax(met)])


def fastest_trial_times(trial_times: ArrayLike) -> np.ndarray:
    """Each study's time to target: its fastest trial.

    trial_times: shape (..., num_studies, num_trials) -> returns shape (..., num_studies).
    A study none of whose trials reached the target gets `inf`.
    """
    array = _non_negative(trial_times, "trial_times", min_ndim=2)
    return array.min(axis=-1)


def median_study_times(study_times: ArrayLike) -> np.ndarray:
    """Each workload's time to target: the median over studies, `inf`-aware.

    study_times: shape (..., num_studies) -> returns shape (...). With an odd number of studies
    the median is `inf` when most studies are `inf` ([1, inf, inf] -> inf); with an even number
    the two middle values are averaged, so one `inf` among them gives `inf`.
    """
    array = _non_negative(study_times, "study_times", min_ndim=1)
    return np.median(array, axis=-1)


def apply_heldout_rule(base_times: ArrayLike, variant_times: ArrayLike) -> np.ndarray:
    """Base-workload times with AlgoPerf's held-out-variant rule applied.

    base_times, variant_times: shape (num_submissions, num_workloads); `variant_times[s, w]` is
    submission s's time on workload w's held-out variant, NaN where w has no variant. Where the
    variant time is `inf`, the base time becomes `inf`; the variant's own time is not scored.
    """
    base = _times(base_times)
    variant = np.asarray(variant_times, dtype=float)
    if variant.shape != base.shape:
        raise ValueError(f"variant_times must have the shape of base_times {base.shape}, "
                         f"got {variant.shape}")
    return np.where(np.isposinf(variant), np.inf, base)


def performance_ratios(times: ArrayLike, max_ratio: float = DEFAULT_MAX_RATIO) -> np.ndarray:
    """Each time divided by the fastest submission's time on that workload, cut at `max_ratio`.

    times: shape (num_submissions, num_workloads) -> ratios of the same shape, each >= 1 or
    `inf`. A ratio above `max_ratio` becomes `inf`; on a workload no submission solved, every
    ratio is `inf`.
    """
    return _ratios(_times(times), _max_ratio(max_ratio))


def performance_profile(times: ArrayLike, taus: ArrayLike, *,
                        max_ratio: float = DEFAULT_MAX_RATIO) -> np.ndarray:
    """ρ_s(τ): the fraction of workloads on which submission s is within a factor τ of the best.

    times: shape (num_submissions, num_workloads); taus: shape (num_taus,).
    Returns shape (num_submissions, num_taus): ρ_s(τ) = |{w : r_sw <= τ}| / num_workloads,
    with r the `performance_ratios`.
    """
    ratios = performance_ratios(times, max_ratio)
    tau = np.asarray(taus, dtype=float)
    if tau.ndim != 1:
        raise ValueError(f"taus must have shape (num_taus,), got {tau.shape}")
    return (ratios[:, :, None] <= tau[None, None, :]).mean(axis=1)


def benchmark_score(times: ArrayLike, max_ratio: float = DEFAULT_MAX_RATIO) -> np.ndarray:
    """Area under each performance profile over [1, max_ratio], divided by (max_ratio - 1).

    times: shape (num_submissions, num_workloads) -> scores of shape (num_submissions,), in
    [0, 1]; 1 means fastest on every workload. Computed exactly: ρ is a step function, and a
    workload with ratio r <= max_ratio adds 1/num_workloads to ρ(τ) for every τ in [r, max_ratio],
    i.e. contributes (max_ratio - r) / (max_ratio - 1) / num_workloads to the score (AlgoPerf's
    code integrates ρ on a grid instead; the exact area is its limit).
    """
    cut = _max_ratio(max_ratio)
    return _scores_of(_ratios(_times(times), cut), cut)


def geometric_mean_speedup(times: ArrayLike, reference_index: int) -> np.ndarray:
    """Geometric mean over workloads of t_reference / t_s: > 1 means faster than the reference.

    times: shape (num_submissions, num_workloads) -> shape (num_submissions,). Only workloads
    where both submission s and the reference have a finite time count; where there is none,
    the speedup is NaN (undefined: report it as such, never as 1 or 0). The reference's own
    entry is 1 if it solved any workload. Complements the benchmark score, which counts how
    often a submission is near the best but not by how much it beats a baseline.
    """
    array = _times(times)
    if not -array.shape[0] <= reference_index < array.shape[0]:
        raise ValueError(f"reference_index {reference_index} is out of range for "
                         f"{array.shape[0]} submissions")
    both = np.isfinite(array) & np.isfinite(array[reference_index])[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_speedup = np.where(both, np.log(array[reference_index][None, :] / array), 0.0)
        counts = both.sum(axis=1)
        return np.where(counts > 0, np.exp(log_speedup.sum(axis=1) / counts), np.nan)


def bootstrap_workload_times(study_times: ArrayLike, rng: np.random.Generator,
                             reps: int = 2000, confidence: float = 0.95) -> np.ndarray:
    """Percentile bootstrap interval of the median-over-studies time, resampling studies.

    study_times: shape (..., num_studies), e.g. (num_submissions, num_workloads, num_studies);
    each cell's studies are resampled independently (studies of different submissions are not
    paired). Returns shape (2, ...): lower and upper bounds. The bounds are order statistics of
    the replicates (no interpolation, which is undefined between `inf`s), taken outward. With
    AlgoPerf's 5 studies per cell the interval is coarse; it shows the spread, not a guarantee.
    """
    replicates = _resampled_medians(study_times, rng, reps)
    return _percentile_interval(replicates, confidence)


def bootstrap_benchmark_score(study_times: ArrayLike, rng: np.random.Generator,
                              reps: int = 2000, confidence: float = 0.95, *,
                              max_ratio: float = DEFAULT_MAX_RATIO,
                              variant_study_times: ArrayLike | None = None) -> np.ndarray:
    """Percentile bootstrap interval of every submission's benchmark score.

    study_times: shape (num_submissions, num_workloads, num_studies); `variant_study_times`
    the same for held-out variants (a workload without one: all NaN in its column). Each
    replicate resamples the studies of every cell, recomputes the medians, the held-out rule,
    the ratios (the best submission may change) and the scores. Returns shape
    (2, num_submissions): lower and upper bounds.
    """
    array = _non_negative(study_times, "study_times", min_ndim=3)
    if array.ndim != 3:
        raise ValueError(f"study_times must have shape (num_submissions, num_workloads, "
                         f"num_studies), got {array.shape}")
    cut = _max_ratio(max_ratio)
    medians = _resampled_medians(array, rng, reps)  # (reps, S, W)
    if variant_study_times is not None:
        variant = np.asarray(variant_study_times, dtype=float)
        missing = np.isnan(variant)
        if variant.shape != array.shape or np.any(missing.any(-1) & ~missing.all(-1)):
            raise ValueError(f"variant_study_times must have shape {array.shape} with each "
                             f"cell all NaN (no variant) or free of NaN, got {variant.shape}")
        # A cell without a variant is filled with a finite time, so the rule never fires there.
        variant_medians = _resampled_medians(np.where(missing, 1.0, variant), rng, reps)
        medians = np.where(np.isposinf(variant_medians), np.inf, medians)
    _check_positive(medians)
    scores = _scores_of(_ratios(medians, cut), cut)  # (reps, S)
    return _percentile_interval(scores, confidence)


TIMING_NOISE_LIMIT = 0.25
"""Above this timing noise (the 90th percentile step time over the median, minus one, recorded
per run), the machine was busy while the run was timed. Measured on the idle 2-core machine:
median 0.04, 90th percentile 0.17 over 170 ttr-quick runs; under a load of 6-9, median 0.4."""


def timing_noise_note(noise: ArrayLike) -> str:
    """A warning when more than a tenth of the runs' timing noise exceeds `TIMING_NOISE_LIMIT`
    (NaN values, runs that recorded none, are left out); "" otherwise."""
    values = np.asarray(noise, dtype=float)
    values = values[np.isfinite(values)]
    noisy = int(np.sum(values > TIMING_NOISE_LIMIT))
    if noisy == 0 or noisy <= 0.1 * values.size:
        return ""
    return (f"{noisy} of {values.size} timed runs had timing noise above "
            f"{TIMING_NOISE_LIMIT:.0%} (their 90th-percentile step took that much longer than "
            "the median): the machine was busy while they ran, so their times are slower than "
            "the hardware allows and not comparable with runs on an idle machine. Time runs "
            "on an otherwise idle machine (`harness evaluate --force` runs them again).")


def check_same_hardware(hardware_classes: Iterable[str]) -> str:
    """The one hardware class of the runs being scored; UserError if there are several.

    hardware_classes: one entry per run (e.g. the stored hardware fingerprint class). Times
    measured on different hardware are not comparable, so mixing them in one score is refused.
    """
    counts = Counter(hardware_classes)
    if not counts:
        raise UserError("no runs to score: select runs with a recorded hardware class")
    if len(counts) > 1:
        listed = ", ".join(f"{name!r} ({n} run{'s' * (n != 1)})"
                           for name, n in counts.most_common())
        raise UserError(f"time-to-result scores would mix runs of {len(counts)} hardware "
                        f"classes: {listed}; score each hardware class separately, or re-run "
                        "the missing runs on one class")
    return next(iter(counts))


# --- internals ---------------------------------------------------------------------------


def _ratios(times: np.ndarray, max_ratio: float) -> np.ndarray:
    """(..., S, W) times -> (..., S, W) ratios to the per-workload minimum over submissions."""
    best = times.min(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore"):  # inf / inf where nobody solved the workload
        ratios = times / best
    return np.where(np.isfinite(ratios) & (ratios <= max_ratio), ratios, np.inf)


def _scores_of(ratios: np.ndarray, max_ratio: float) -> np.ndarray:
    """(..., S, W) cut ratios -> (..., S) exact areas under the profile, normalized."""
    contribution = np.where(np.isfinite(ratios), (max_ratio - ratios) / (max_ratio - 1.0), 0.0)
    return contribution.mean(axis=-1)


def _resampled_medians(study_times: ArrayLike, rng: np.random.Generator,
                       reps: int) -> np.ndarray:
    """(..., K) study times -> (reps, ...) medians of K studies drawn with replacement."""
    array = np.asarray(study_times, dtype=float)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    if array.ndim < 1 or array.shape[-1] < 1:
        raise ValueError(f"study_times must have shape (..., num_studies >= 1), "
                         f"got {array.shape}")
    index = rng.integers(0, array.shape[-1], size=(reps, *array.shape))
    resampled = np.take_along_axis(np.broadcast_to(array, index.shape), index, axis=-1)
    return np.median(resampled, axis=-1)


def _percentile_interval(replicates: np.ndarray, confidence: float) -> np.ndarray:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    alpha = (1.0 - confidence) / 2.0
    lower = np.quantile(replicates, alpha, axis=0, method="lower")
    upper = np.quantile(replicates, 1.0 - alpha, axis=0, method="higher")
    return np.stack([lower, upper])


def _times(times: ArrayLike) -> np.ndarray:
    array = np.asarray(times, dtype=float)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"times must have shape (num_submissions, num_workloads), both >= 1, "
                         f"got {array.shape}")
    _check_positive(array)
    return array


def _check_positive(array: np.ndarray) -> None:
    if np.any(np.isnan(array)) or np.any(array <= 0):
        raise ValueError("times must be > 0 (inf where the target was not reached) and free "
                         "of NaN; a target met at time 0 makes a workload trivial")


def _non_negative(values: ArrayLike, name: str, min_ndim: int) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim < min_ndim or array.shape[-1] < 1:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions and a non-empty "
                         f"last axis, got shape {array.shape}")
    if np.any(np.isnan(array)) or np.any(array < 0):
        raise ValueError(f"{name} must be >= 0 (inf where the target was not reached), "
                         "free of NaN")
    return array


def _max_ratio(max_ratio: float) -> float:
    if not np.isfinite(max_ratio) or max_ratio <= 1.0:
        raise ValueError(f"max_ratio must be a finite number > 1, got {max_ratio}")
    return float(max_ratio)
