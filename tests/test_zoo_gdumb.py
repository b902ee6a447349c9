"""GDumb (submissions/gdumb): the greedy class-balanced memory, retraining from scratch on it,
and the contract."""

from __future__ import annotations

import pytest
import torch

from harness.api import Scenario
from tests.zoo_helpers import (
    TASK_CLASSES,
    TinyBackbone,
    check_consumes_once_and_predicts,
    check_deterministic_under_ctx_generator,
    check_state_within_audit,
    check_validates,
    load,
    make_ctx,
    one_torch_thread,
    run_tasks,
    task_data,
    task_info,
)

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)
NAME = "gdumb"
HPARAMS = {"lr": 0.05, "memory_epochs": 3}


def test_memory_is_greedily_class_balanced_on_an_imbalanced_stream():
    memory = load(NAME).GreedyClassBalancedMemory(12, torch.Generator().manual_seed(0))
    # 30 samples of class 0 arrive first, then 10 of class 1, then 10 of class 2.
    y = torch.tensor([0] * 30 + [1] * 10 + [2] * 10)
    x = torch.arange(len(y), dtype=torch.float32).unsqueeze(1)
    for start in range(0, len(y), 7):
        memory.add(x[start:start + 7], y[start:start + 7])
        assert memory.num_stored <= 12
    assert memory.counts() == {0: 4, 1: 4, 2: 4}
    stored = memory.x[:, 0].long()
    assert torch.equal(y[stored], memory.y)  # every slot holds a real (x, y) of the stream
    assert len(set(stored.tolist())) == 12


def test_memory_is_balanced_after_tasks_and_within_the_allowance():
    learner = load(NAME).Learner(make_ctx(replay_samples=20), dict(HPARAMS))
    sizes = []
    run_tasks(learner, per_class=30, num_epochs=3,
              after_task=lambda _: sizes.append(learner.state_size_bytes()))
    assert learner.memory.counts() == {0: 5, 1: 5, 2: 5, 3: 5}
    assert sizes == [20 * (16 * 4 + 8)] * 2


def test_retrains_a_fresh_network_from_scratch_on_the_memory_only():
    calls = []

    def backbone(num_outputs):
        model = TinyBackbone(num_outputs)
        calls.append(model)
        return model

    learner = load(NAME).Learner(make_ctx(replay_samples=20, backbone=backbone), HPARAMS)
    run_tasks(learner, per_class=30, num_epochs=2)
    assert len(calls) == 3 and learner.model is calls[-1]  # one new network per task
    # Each network saw nothing but `memory_epochs` passes over the memory of its time: 20
    # samples after either task (the allowance fills during task 0), never the task streams.
    assert [model.train_samples_seen for model in calls] == [0, 3 * 20, 3 * 20]


def test_retrained_network_learns_the_memory():
    learner = load(NAME).Learner(make_ctx(replay_samples=40), {**HPARAMS, "memory_epochs": 15})
    run_tasks(learner, per_class=30, num_epochs=1)
    memory = learner.memory
    with torch.inference_mode():
        predicted = learner.predict(memory.x[:memory.num_stored]).argmax(1)
    assert (predicted == memory.y[:memory.num_stored]).float().mean() > 0.9


def test_classes_absent_from_memory_are_never_predicted():
    learner = load(NAME).Learner(make_ctx(replay_samples=20), dict(HPARAMS))
    data = task_data(0, TASK_CLASSES[0], Scenario.CLASS)
    learner.learn(task_info(0, TASK_CLASSES[0], data.num_samples), data)
    with torch.inference_mode():
        predicted = learner.predict(task_data(1, TASK_CLASSES[1], Scenario.CLASS).x).argmax(1)
    assert set(predicted.tolist()) <= {0, 1}


def test_only_the_first_epoch_is_offered():
    learner = load(NAME).Learner(make_ctx(replay_samples=1000), dict(HPARAMS))
    run_tasks(learner, per_class=30, num_epochs=3)
    assert learner.memory.num_stored == 2 * 60


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_state_within_the_audited_allowance():
    # the memory only (its optimizer lives inside a retraining)
    check_state_within_audit(NAME, HPARAMS, replay_samples=30, model_copies=0)


def test_validates():
    check_validates(NAME)
