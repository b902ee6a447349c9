"""Shared fixtures of the method-zoo tests (tests/test_zoo_*.py): tiny data, a tiny backbone,
a fake `TaskData`, and the checks every zoo method must pass (the learner contract)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from harness.api import Budget, ContinualLearner, HParams, LearnerContext, Scenario, TaskInfo
from harness.runner.audit import allowed_state_bytes, measure_state_bytes, network_bytes
from harness.submission import validate_submission
from harness.submission_check import import_submission_module

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
INPUT_SHAPE = (1, 4, 4)
NUM_CLASSES = 4
TASK_CLASSES = [(0, 1), (2, 3)]


@pytest.fixture
def one_torch_thread():
    """Tiny models run fastest on one thread; more only contend on a busy test machine.

    Use it with `pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)`."""
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


def load(name: str):
    """The submission module of `submissions/<name>`."""
    return import_submission_module(SUBMISSIONS / name)


class TinyBackbone(nn.Module):
    """Flatten + MLP with `.features` and `.head`; counts samples it sees in training mode."""

    def __init__(self, num_outputs: int, in_features: int = 16, hidden: int = 32):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, num_outputs)
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


def blobs(classes: tuple[int, ...], per_class: int, seed: int, num_classes: int = NUM_CLASSES,
          scale: float = 3.0, noise: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian blobs, one per class (same centres for every seed); global class labels."""
    centres = torch.randn(num_classes, 16, generator=torch.Generator().manual_seed(99)) * scale
    generator = torch.Generator().manual_seed(seed)
    y = torch.tensor(classes).repeat_interleave(per_class)
    x = centres[y] + noise * torch.randn(len(y), 16, generator=generator)
    return x.reshape(len(y), *INPUT_SHAPE), y


def make_ctx(scenario: Scenario = Scenario.CLASS, replay_samples: int = 64, seed: int = 0,
             num_tasks: int = 2, num_classes: int = NUM_CLASSES,
             backbone: Callable[[int], nn.Module] | None = None) -> LearnerContext:
    """A context whose backbone is the same for a given seed, whatever the global RNG."""
    num_outputs = num_classes // num_tasks if scenario is Scenario.DOMAIN else num_classes
    build = backbone or TinyBackbone

    def make_backbone() -> nn.Module:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            return build(num_outputs)

    return LearnerContext(
        device=torch.device("cpu"), seed=seed, generator=torch.Generator().manual_seed(seed),
        num_tasks=num_tasks, num_outputs=num_outputs, input_shape=INPUT_SHAPE,
        scenario=scenario, budget=Budget(epochs_per_task=2, batch_size=16,
                                         replay_samples=replay_samples, time_limit_s=60.0),
        make_backbone=make_backbone)


def task_info(index: int, classes: tuple[int, ...], num_samples: int,
              scenario: Scenario = Scenario.CLASS) -> TaskInfo:
    return TaskInfo(index=index, classes=classes, scenario=scenario,
                    num_train_samples=num_samples)


def task_data(index: int, classes: tuple[int, ...], scenario: Scenario, per_class: int = 40,
              num_epochs: int = 2, batch_size: int = 16) -> FakeTaskData:
    """One task's data, labelled as `scenario` says (positions within the task for DOMAIN)."""
    x, y = blobs(classes, per_class, seed=index)
    if scenario is Scenario.DOMAIN:
        y = torch.searchsorted(torch.tensor(classes), y)
    return FakeTaskData(x, y, batch_size, num_epochs, seed=index)


def run_tasks(learner: ContinualLearner, scenario: Scenario = Scenario.CLASS,
              task_classes: list[tuple[int, ...]] = TASK_CLASSES, per_class: int = 40,
              num_epochs: int = 2, batch_size: int = 16,
              after_task: Callable[[int], None] | None = None) -> list[FakeTaskData]:
    """Learn each task in turn as the harness does (learn, then end_of_task)."""
    datas = []
    for index, classes in enumerate(task_classes):
        data = task_data(index, classes, scenario, per_class, num_epochs, batch_size)
        # As the harness does: TaskInfo.classes are scenario labels (positions in domain-IL).
        shown = tuple(range(len(classes))) if scenario is Scenario.DOMAIN else classes
        info = task_info(index, shown, data.num_samples, scenario)
        learner.learn(info, data)
        learner.end_of_task(info)
        datas.append(data)
        if after_task is not None:
            after_task(index)
    return datas


def predictions(learner: ContinualLearner, scenario: Scenario, task: int = 1) -> torch.Tensor:
    x, _ = blobs(tuple(range(NUM_CLASSES)), 3, seed=9)
    with torch.inference_mode():
        return learner.predict(x, task if scenario.gives_task_at_test else None)


# The contract checks every zoo method's test file runs ------------------------------------


def check_consumes_once_and_predicts(name: str, hparams: HParams, scenario: Scenario) -> None:
    """Each task's data is iterated once and to the end; logits have the right shape and are
    finite, before the first task and after each; the state size is a byte count."""
    ctx = make_ctx(scenario)
    learner = load(name).Learner(ctx, dict(hparams))
    before = predictions(learner, scenario, task=0)
    assert before.shape == (12, ctx.num_outputs) and torch.isfinite(before).all()
    for data in run_tasks(learner, scenario):
        assert data.num_iterations == 1
        assert data.num_yielded == data.num_samples * data.num_epochs
    logits = predictions(learner, scenario)
    assert logits.shape == (12, ctx.num_outputs) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all()
    size = learner.state_size_bytes()
    assert isinstance(size, int) and size >= 0


def check_deterministic_under_ctx_generator(name: str, hparams: HParams,
                                            scenario: Scenario = Scenario.CLASS) -> None:
    """Same ctx seed, different global RNG state: identical predictions."""
    outputs = []
    for global_seed in (1, 2):
        learner = load(name).Learner(make_ctx(scenario, seed=0), dict(hparams))
        torch.manual_seed(global_seed)
        run_tasks(learner, scenario)
        outputs.append(predictions(learner, scenario))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def check_state_within_audit(name: str, hparams: HParams, replay_samples: int,
                             model_copies: int, scenario: Scenario = Scenario.CLASS,
                             slack_bytes: int = 256) -> None:
    """The harness's audit (every tensor the learner holds, minus its live network) stays
    within `replay_samples` samples plus `model_copies` parameter copies after every task:
    pass the fewest copies the method needs, so that a leak of one copy fails. `slack_bytes`
    covers bookkeeping scalars (Adam's step counters, class masks), far below one copy."""
    ctx = make_ctx(scenario, replay_samples=replay_samples)
    learner = load(name).Learner(ctx, dict(hparams))
    num_params = sum(p.numel() for p in ctx.make_backbone().parameters())
    allowed = allowed_state_bytes(replay_samples, INPUT_SHAPE, ctx.num_outputs, num_params,
                                  model_copies) + slack_bytes
    measured = []
    fresh = network_bytes(ctx.make_backbone())  # as the worker counts the live network
    run_tasks(learner, scenario, per_class=50, num_epochs=3,
              after_task=lambda _: measured.append(measure_state_bytes(learner, fresh)))
    assert all(size <= allowed for size in measured), (measured, allowed)


def check_validates(name: str) -> None:
    assert validate_submission(SUBMISSIONS / name) == []


def accuracy(learner: ContinualLearner, classes: tuple[int, ...], scenario: Scenario,
             task: int | None = None, seed: int = 7) -> float:
    x, y = blobs(classes, 30, seed=seed)
    with torch.inference_mode():
        logits = learner.predict(x, task)
    if scenario is Scenario.TASK:
        allowed = torch.tensor(classes)
        chosen = allowed[logits[:, allowed].argmax(dim=1)]
    else:
        chosen = logits.argmax(dim=1)
    return (chosen == y).float().mean().item()


def manual_fisher(model: nn.Module, x: torch.Tensor, y: torch.Tensor, columns: list[int],
                  empirical: bool = False) -> dict[str, torch.Tensor]:
    """Diagonal Fisher the slow, obvious way: one sample and one class at a time (eval mode).

    True Fisher: mean_x Σ_c p(c|x) (∂ log p(c|x))²; empirical: mean_x (∂ log p(y|x))²; the
    softmax is over the output units `columns` (labels `y` are global ids among them)."""
    model.eval()
    fisher = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for sample, label in zip(x, y.tolist(), strict=True):
        log_probs = F.log_softmax(model(sample.unsqueeze(0))[0, columns], dim=0)
        weights = log_probs.exp().detach()
        for position in range(len(columns)):
            if empirical and columns[position] != label:
                continue
            model.zero_grad()
            log_probs[position].backward(retain_graph=True)
            weight = 1.0 if empirical else float(weights[position])
            for n, p in model.named_parameters():
                fisher[n] += weight * p.grad ** 2
    return {n: f / len(x) for n, f in fisher.items()}
