"""Continual-learning metrics over the canonical accuracy matrix.

Data convention (every function here takes it and nothing else):

    acc: float array of shape (T + 1, T), values in [0, 1], T = number of tasks >= 1.
    acc[0, i]  accuracy on task i of the untrained model (before any learning);
    acc[j, i]  accuracy on task i after learning tasks 0 .. j-1, i.e. right after task j-1,
               for j = 1 .. T.

So the diagonal-below entry `acc[i + 1, i]` is task i's accuracy right after learning it, the
last row `acc[T]` is the final model, and `acc[i, i]` is task i's accuracy just *before* it is
learned (zero-shot forward transfer). In the papers' 1-based notation R_{j,i} (accuracy on task
i after learning task j), R_{j,i} = acc[j, i - 1].

Metrics that compare a task with its later self (BWT, FWT, forgetting) are undefined for T == 1;
they return `nan`, and callers drop `nan` values.
"""

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "METRIC_DIRECTIONS",
    "average_incremental_accuracy",
    "backward_transfer",
    "final_average_accuracy",
    "forgetting",
    "forward_transfer",
    "learning_accuracy",
    "summarize",
]

METRIC_DIRECTIONS: dict[str, str] = {
    "final_avg_acc": "higher",
    "avg_incremental_acc": "higher",
    "bwt": "higher",
    "fwt": "higher",
    "forgetting": "lower",
    "learning_acc": "higher",
    "min_acc": "higher",
    "wc_acc": "higher",
    "intransigence": "lower",
}
"""For each key of `summarize`: "higher" or "lower" is better."""


def _validated(acc: ArrayLike) -> np.ndarray:
    """Return `acc` as a float array after checking the (T + 1, T) convention and [0, 1] range."""
    array = np.asarray(acc, dtype=float)
    if array.ndim != 2 or array.shape[1] < 1 or array.shape[0] != array.shape[1] + 1:
        raise ValueError(
            f"accuracy matrix must have shape (T + 1, T) with T >= 1 (row 0 = untrained model), "
            f"got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("accuracy matrix contains NaN or infinite values")
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(
            f"accuracy matrix values must lie in [0, 1] (fractions, not percent), "
            f"got range [{array.min():g}, {array.max():g}]"
        )
    return array


def final_average_accuracy(acc: ArrayLike) -> float:
    """Average accuracy over all tasks of the final model.

    ACC = 1/T sum_{i=0}^{T-1} acc[T, i]

    Sources: Chaudhry et al. 2018, "Riemannian Walk for Incremental Learning" (A_T);
    Lopez-Paz & Ranzato 2017, "Gradient Episodic Memory for Continual Learning" (ACC).
    `acc` follows the module convention, shape (T + 1, T).
    """
    array = _validated(acc)
    return float(np.mean(array[-1]))


def average_incremental_accuracy(acc: ArrayLike) -> float:
    """Mean over the stream of the average accuracy on the tasks seen so far.

    A_inc = 1/T sum_{k=1}^{T} ( 1/k sum_{i<k} acc[k, i] )

    Source: Rebuffi et al. 2017, "iCaRL: Incremental Classifier and Representation Learning".
    `acc` follows the module convention, shape (T + 1, T).
    """
    array = _validated(acc)
    num_tasks = array.shape[1]
    per_step = [np.mean(array[k, :k]) for k in range(1, num_tasks + 1)]
    return float(np.mean(per_step))


def backward_transfer(acc: ArrayLike) -> float:
    """Backward transfer: how learning later tasks changed accuracy on earlier ones.

    BWT = 1/(T-1) sum_{i=0}^{T-2} ( acc[T, i] - acc[i + 1, i] )

    Negative values mean forgetting. `nan` for T == 1 (no earlier task).
    Source: Lopez-Paz & Ranzato 2017, "Gradient Episodic Memory for Continual Learning".
    `acc` follows the module convention, shape (T + 1, T).
    """
    array = _validated(acc)
    num_tasks = array.shape[1]
    if num_tasks == 1:
        return math.nan
    tasks = np.arange(num_tasks - 1)
    return float(np.mean(array[-1, tasks] - array[tasks + 1, tasks]))


def forward_transfer(acc: ArrayLike) -> float:
    """Forward transfer: zero-shot accuracy on a task before learning it, over a baseline.

    FWT = 1/(T-1) sum_{i=1}^{T-1} ( acc[i, i] - acc[0, i] )

    acc[i, i] is task i's accuracy after learning tasks 0 .. i-1 (before task i). GEM's baseline
    b_i (a model with random initialization) is taken to be the untrained row acc[0, i].
    `nan` for T == 1 (no task comes after another).
    Source: Lopez-Paz & Ranzato 2017, "Gradient Episodic Memory for Continual Learning".
    `acc` follows the module convention, shape (T + 1, T).
    """
    array = _validated(acc)
    num_tasks = array.shape[1]
    if num_tasks == 1:
        return math.nan
    tasks = np.arange(1, num_tasks)
    return float(np.mean(array[tasks, tasks] - array[0, tasks]))


def forgetting(acc: ArrayLike) -> float:
    """Average forgetting: best accuracy a task ever had minus its final accuracy.

    F = 1/(T-1) sum_{i=0}^{T-2} ( max_{l = i+1 .. T-1} acc[l, i]  -  acc[T, i] )

    The max runs over the *earlier* steps only, starting at the step where task i was learned
    (row i + 1) and ending one step before the final model (row T - 1); the final task has no
    earlier step and is left out. Rows before task i was learned are excluded, so zero-shot
    accuracy never counts as something to forget. Lower is better; it can be negative when
    accuracy kept rising. `nan` for T == 1.
    Source: Chaudhry et al. 2018, "Riemannian Walk for Incremental Learning", eq. for f_j^k
    with k = T.
    `acc` follows the module convention, shape (T + 1, T).
    """
    array = _validated(acc)
    num_tasks = array.shape[1]
    if num_tasks == 1:
        return math.nan
    per_task = [np.max(array[i + 1 : num_tasks, i]) - array[-1, i] for i in range(num_tasks - 1)]
    return float(np.mean(per_task))


def learning_accuracy(acc: ArrayLike) -> float:
    """Average accuracy on each task right after learning it (plasticity).

    LA = 1/T sum_{i=0}^{T-1} acc[i + 1, i]

    Source: Riemer et al. 2019, "Learning to Learn without Forgetting by Maximizing Transfer and
    Minimizing Interference" (MER).
    `acc` follows the module convention, shape (T + 1, T).
    """
    array = _validated(acc)
    tasks = np.arange(array.shape[1])
    return float(np.mean(array[tasks + 1, tasks]))


def summarize(acc: ArrayLike) -> dict[str, float]:
    """All metrics of this module, keyed as in `METRIC_DIRECTIONS`.

    Keys: final_avg_acc, avg_incremental_acc, bwt, fwt, forgetting, learning_acc. For T == 1,
    bwt, fwt and forgetting are `nan` (undefined); callers drop `nan` values.
    `acc` follows the module convention, shape (T + 1, T).
    """
    array = _validated(acc)
    return {
        "final_avg_acc": final_average_accuracy(array),
        "avg_incremental_acc": average_incremental_accuracy(array),
        "bwt": backward_transfer(array),
        "fwt": forward_transfer(array),
        "forgetting": forgetting(array),
        "learning_acc": learning_accuracy(array),
    }


def minimum_accuracy(trace: ArrayLike, trace_task: ArrayLike) -> float:
    """min-ACC (De Lange et al. 2023, *Continual evaluation for lifelong learning: identifying
    the stability gap*, eq. 3): for each task i but the last, the lowest accuracy on i measured
    at any evaluation *after* task i was learned (while later tasks were being learned),
    averaged over those tasks.

    Convention: `trace` has shape (num_evaluations, T), accuracy on every task at each
    evaluation; `trace_task[r]` is the task being learned at evaluation r, with evaluations at
    the end of a task labelled by that task. An evaluation counts for task i when
    `trace_task[r] > i`. nan when T == 1 or no evaluation follows a task.
    """
    trace = np.asarray(trace, dtype=float)
    trace_task = np.asarray(trace_task)
    mins = [trace[trace_task > i, i].min() for i in range(trace.shape[1] - 1)
            if (trace_task > i).any()]
    return float(np.mean(mins)) if mins else float("nan")


def worst_case_accuracy(trace: ArrayLike, trace_task: ArrayLike, final_acc: ArrayLike) -> float:
    """WC-ACC (De Lange et al. 2023, eq. 4): (1/T) · a_T(T) + (1 − 1/T) · min-ACC, where
    a_T(T) is the accuracy on the last task once learned (`final_acc[-1]`, the last row of the
    accuracy matrix) — a per-iteration worst-case lower bound on average accuracy.
    """
    final_acc = np.asarray(final_acc, dtype=float)
    num_tasks = len(final_acc)
    min_acc = minimum_accuracy(trace, trace_task)
    if num_tasks == 1 or np.isnan(min_acc):
        return float("nan")
    return float(final_acc[-1] / num_tasks + (1 - 1 / num_tasks) * min_acc)


def intransigence(acc: ArrayLike, reference_acc: ArrayLike) -> float:
    """Intransigence (Chaudhry et al. 2018, *Riemannian Walk*, eq. 8): how much less a method
    learns each new task than a reference that sees all data so far (joint training):
    I = (1/T) Σ_k (a*_k − a_{k,k}), with a_{k,k} = acc[k+1, k] the method's accuracy on task k
    right after learning it and a*_k = reference_acc[k+1, k] the joint reference's, both
    accuracy matrices of shape (T + 1, T). Positive: the method is less able to learn new
    tasks than the reference. Lower is better.
    """
    acc, reference = _validated(acc), _validated(reference_acc)
    if acc.shape != reference.shape:
        raise ValueError(f"accuracy matrices differ in shape: {acc.shape} vs {reference.shape}")
    num_tasks = acc.shape[1]
    just_learned = acc[np.arange(1, num_tasks + 1), np.arange(num_tasks)]
    reference_learned = reference[np.arange(1, num_tasks + 1), np.arange(num_tasks)]
    return float(np.mean(reference_learned - just_learned))
