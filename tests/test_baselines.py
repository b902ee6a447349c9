"""The baseline learners (and the template) on tiny data: the contract and each method's rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

from harness.api import Budget, ContinualLearner, LearnerContext, Scenario, TaskInfo
from harness.submission_check import import_submission_module

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
LEARNERS = ["_template", "naive", "replay", "joint"]
INPUT_SHAPE = (1, 4, 4)
NUM_CLASSES = 4


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; more only contend on a busy test machine."""
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


def learner_class(name: str) -> type[ContinualLearner]:
    return import_submission_module(SUBMISSIONS / name).Learner


class TinyBackbone(nn.Module):
    """Flatten + MLP with `.features` and `.head`; counts samples it sees in training mode."""

    def __init__(self, num_outputs: int):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU())
        self.head = nn.Linear(32, num_outputs)
        self.train_samples_seen = 0

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.train_samples_seen += len(x)
        return self.head(self.features(x))


class FakeTaskData:
    """`num_epochs` seeded permutations of (x, y) in batches; iterating twice raises."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, num_epochs: int,
                 seed: int = 0):
        self.x, self.y = x, y
        self.num_samples, self.batch_size, self.num_epochs = len(x), batch_size, num_epochs
        self.seed = seed
        self.num_iterations = 0
        self.num_yielded = 0

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.num_iterations += 1
        if self.num_iterations > 1:
            raise RuntimeError("task data iterated twice")
        generator = torch.Generator().manual_seed(self.seed)
        for _ in range(self.num_epochs):
            order = torch.randperm(self.num_samples, generator=generator)
            for start in range(0, self.num_samples, self.batch_size):
                index = order[start:start + self.batch_size]
                self.num_yielded += len(index)
                yield self.x[index], self.y[index]


def blobs(classes: tuple[int, ...], per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Well separated Gaussian blobs, one per class (same centres for every seed)."""
    centres = torch.randn(NUM_CLASSES, 16, generator=torch.Generator().manual_seed(99)) * 3
    generator = torch.Generator().manual_seed(seed)
    y = torch.tensor(classes).repeat_interleave(per_class)
    x = centres[y] + 0.5 * torch.randn(len(y), 16, generator=generator)
    return x.reshape(len(y), *INPUT_SHAPE), y


def make_ctx(replay_samples: int = 64, seed: int = 0) -> LearnerContext:
    def make_backbone() -> nn.Module:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return TinyBackbone(NUM_CLASSES)

    return LearnerContext(
        device=torch.device("cpu"), seed=seed, generator=torch.Generator().manual_seed(seed),
        num_tasks=2, num_outputs=NUM_CLASSES, input_shape=INPUT_SHAPE, scenario=Scenario.CLASS,
        budget=Budget(epochs_per_task=2, batch_size=16, replay_samples=replay_samples,
                      time_limit_s=60.0),
        make_backbone=make_backbone)


def task(index: int, classes: tuple[int, ...], num_samples: int) -> TaskInfo:
    return TaskInfo(index=index, classes=classes, scenario=Scenario.CLASS,
                    num_train_samples=num_samples)


def run_two_tasks(learner: ContinualLearner, per_class: int = 40, num_epochs: int = 2,
                  batch_size: int = 16) -> list[FakeTaskData]:
    datas = []
    for index, classes in enumerate([(0, 1), (2, 3)]):
        x, y = blobs(classes, per_class, seed=index)
        data = FakeTaskData(x, y, batch_size, num_epochs, seed=index)
        learner.learn(task(index, classes, len(x)), data)
        learner.end_of_task(task(index, classes, len(x)))
        datas.append(data)
    return datas


@pytest.mark.parametrize("name", LEARNERS)
def test_learner_consumes_each_task_once_and_predicts_logits(name):
    learner = learner_class(name)(make_ctx(), {"lr": 1e-2})
    for data in run_two_tasks(learner):
        assert data.num_iterations == 1
        assert data.num_yielded == data.num_samples * data.num_epochs  # consumed to the end
    x, _ = blobs((0, 3), 5, seed=5)
    with torch.inference_mode():
        logits = learner.predict(x)
        assert logits.shape == (10, NUM_CLASSES) and logits.dtype == torch.float32
        assert learner.predict(x, task=1).shape == (10, NUM_CLASSES)
    size = learner.state_size_bytes()
    assert size is None or (isinstance(size, int) and size >= 0)


@pytest.mark.parametrize("name", LEARNERS)
def test_learner_uses_ctx_generator_not_the_global_rng(name):
    predictions = []
    for global_seed in (1, 2):
        learner = learner_class(name)(make_ctx(seed=0), {"lr": 1e-2})
        torch.manual_seed(global_seed)
        run_two_tasks(learner)
        with torch.inference_mode():
            predictions.append(learner.predict(blobs((0, 1, 2, 3), 3, seed=9)[0]))
    torch.testing.assert_close(predictions[0], predictions[1], rtol=0, atol=0)


def test_default_learning_rate_is_used_without_hparams():
    learner = learner_class("naive")(make_ctx(), {})
    assert learner.optimizer.param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize("name", ["_template", "naive"])
def test_fine_tuning_learns_a_separable_task(name):
    learner = learner_class(name)(make_ctx(), {"lr": 1e-2})
    x, y = blobs((0, 1, 2, 3), 50, seed=0)
    learner.learn(task(0, (0, 1, 2, 3), len(x)), FakeTaskData(x, y, 16, 3))
    x_test, y_test = blobs((0, 1, 2, 3), 50, seed=1)
    with torch.inference_mode():
        accuracy = (learner.predict(x_test).argmax(1) == y_test).float().mean().item()
    assert accuracy > 0.9


def test_replay_buffer_stays_within_budget_and_keeps_both_tasks_evenly():
    learner = learner_class("replay")(make_ctx(replay_samples=100), {"lr": 1e-2})
    run_two_tasks(learner, per_class=100, num_epochs=3)
    buffer = learner.buffer
    assert buffer.num_stored == 100 and len(buffer.x) == 100 and len(buffer.y) == 100
    assert buffer.num_seen == 400  # only the first epoch of each task is offered
    share_first_task = (buffer.y < 2).float().mean().item()
    assert 0.35 <= share_first_task <= 0.65
    assert learner.state_size_bytes() == 100 * 16 * 4 + 100 * 8


def test_replay_trains_on_current_plus_an_equal_memory_batch():
    learner = learner_class("replay")(make_ctx(replay_samples=1000), {"lr": 1e-2})
    x, y = blobs((0, 1), 32, seed=0)  # 64 samples: 4 batches of 16 per epoch
    learner.learn(task(0, (0, 1), 64), FakeTaskData(x, y, 16, 2))
    # Step 1 has an empty memory; steps 2-8 each add 16 replayed samples.
    assert learner.model.train_samples_seen == 8 * 16 + 7 * 16
    learner = learner_class("replay")(make_ctx(), {"lr": 1e-2, "replay_batch_size": 4})
    learner.learn(task(0, (0, 1), 64), FakeTaskData(x, y, 16, 2))
    assert learner.model.train_samples_seen == 8 * 16 + 7 * 4


def test_replay_without_memory_budget_is_fine_tuning():
    learner = learner_class("replay")(make_ctx(replay_samples=0), {"lr": 1e-2})
    run_two_tasks(learner)
    assert learner.buffer.num_stored == 0 and learner.state_size_bytes() == 0


def test_reservoir_keeps_every_offered_sample_with_equal_probability():
    buffer_class = import_submission_module(SUBMISSIONS / "replay").ReservoirBuffer
    kept_per_decile = torch.zeros(10)
    for seed in range(100):
        buffer = buffer_class(100, torch.Generator().manual_seed(seed))
        stream = torch.arange(1000)
        for start in range(0, 1000, 32):
            batch = stream[start:start + 32]
            buffer.add(batch.float().unsqueeze(1), batch)
        assert buffer.num_stored == 100 and len(set(buffer.y.tolist())) == 100
        kept_per_decile += torch.bincount(buffer.y // 100, minlength=10)
    # Each decile holds 10% of the stream: expect 1000 kept over 100 runs (sd about 30).
    assert kept_per_decile.sum() == 10_000
    assert ((kept_per_decile > 880) & (kept_per_decile < 1120)).all(), kept_per_decile


def test_joint_remembers_everything_and_trains_on_the_union():
    learner = learner_class("joint")(make_ctx(replay_samples=0), {"lr": 1e-2})
    x0, y0 = blobs((0, 1), 20, seed=0)
    x1, y1 = blobs((2, 3), 30, seed=1)
    learner.learn(task(0, (0, 1), 40), FakeTaskData(x0, y0, 16, 2))
    assert learner.model.train_samples_seen == 2 * 40
    learner.learn(task(1, (2, 3), 60), FakeTaskData(x1, y1, 16, 3))
    assert learner.model.train_samples_seen == 2 * 40 + 3 * 100
    memory = sorted(map(tuple, learner.memory_x.flatten(1).tolist()))
    assert memory == sorted(map(tuple, torch.cat([x0, x1]).flatten(1).tolist()))
    assert sorted(learner.memory_y.tolist()) == sorted(torch.cat([y0, y1]).tolist())
    assert learner.state_size_bytes() == 100 * 16 * 4 + 100 * 8
