"""The zoo on a tiny class-incremental problem: the known shape of the results (slow).

5 tasks × 2 classes of Gaussian blobs in 32 dimensions, the harness's MLP backbone, a replay
allowance of 100 samples, 5 epochs per task. In class-incremental learning, fine-tuning forgets
most earlier tasks, and every method that replays stored samples (DER, DER++, A-GEM, iCaRL,
GDumb) keeps far more of them.
"""

from __future__ import annotations

import pytest
import torch

from harness.api import Budget, LearnerContext, Scenario, TaskInfo
from harness.models import mlp
from tests.zoo_helpers import FakeTaskData, load, one_torch_thread

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures(one_torch_thread.__name__)]

DIM, NUM_CLASSES, NUM_TASKS, EPOCHS, BATCH = 32, 10, 5, 5, 32
SEEDS = (0, 1)
REPLAY_METHODS = {
    "der": {"lr": 1e-2},
    "derpp": {"lr": 1e-2},
    "agem": {"lr": 0.05},
    "icarl": {"lr": 1e-2},
    "gdumb": {"memory_epochs": 32},  # the paper's 128 passes, shortened for the test's time
}


def blobs(seed: int, per_class: int, split: int) -> tuple[torch.Tensor, torch.Tensor]:
    centres = torch.randn(NUM_CLASSES, DIM, generator=torch.Generator().manual_seed(100 + seed))
    noise = torch.Generator().manual_seed(1000 * seed + split)
    y = torch.arange(NUM_CLASSES).repeat_interleave(per_class)
    return centres[y] + 0.5 * torch.randn(len(y), DIM, generator=noise), y


def final_average_accuracy(name: str, hparams: dict, seed: int) -> float:
    """Accuracy over all classes after the last task (equal test sizes: the mean over tasks)."""
    torch.manual_seed(seed)
    ctx = LearnerContext(
        device=torch.device("cpu"), seed=seed, generator=torch.Generator().manual_seed(seed),
        num_tasks=NUM_TASKS, num_outputs=NUM_CLASSES, input_shape=(DIM,),
        scenario=Scenario.CLASS,
        budget=Budget(epochs_per_task=EPOCHS, batch_size=BATCH, replay_samples=100,
                      time_limit_s=60.0),
        make_backbone=lambda: mlp((DIM,), NUM_CLASSES, hidden=100))
    learner = load(name).Learner(ctx, dict(hparams))
    x, y = blobs(seed, 100, split=0)
    for t in range(NUM_TASKS):
        classes = (2 * t, 2 * t + 1)
        rows = (y == classes[0]) | (y == classes[1])
        info = TaskInfo(t, classes, Scenario.CLASS, int(rows.sum()))
        learner.learn(info, FakeTaskData(x[rows], y[rows], BATCH, EPOCHS, seed=t))
        learner.end_of_task(info)
    x_test, y_test = blobs(seed, 50, split=1)
    with torch.inference_mode():
        return (learner.predict(x_test).argmax(1) == y_test).float().mean().item()


def mean_accuracy(name: str, hparams: dict) -> float:
    return sum(final_average_accuracy(name, hparams, seed) for seed in SEEDS) / len(SEEDS)


def test_replay_methods_beat_fine_tuning_in_class_incremental_learning():
    naive = mean_accuracy("naive", {"lr": 1e-2})
    assert naive < 0.6  # fine-tuning forgets: otherwise the problem shows nothing
    results = {name: mean_accuracy(name, hparams) for name, hparams in REPLAY_METHODS.items()}
    for name, accuracy in results.items():
        assert accuracy > naive + 0.2, (name, accuracy, naive, results)
