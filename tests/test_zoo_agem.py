"""A-GEM (submissions/agem): the gradient projection, the per-task memory, and the contract."""

from __future__ import annotations

import pytest
import torch

from harness.api import Scenario
from tests.zoo_helpers import (
    TASK_CLASSES,
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
NAME = "agem"
HPARAMS = {"lr": 0.05}


def test_projection_never_leaves_a_negative_dot_product_on_random_gradients():
    project = load(NAME).project
    generator = torch.Generator().manual_seed(0)
    num_projected = 0
    for _ in range(500):
        g, g_ref = torch.randn(2, 50, generator=generator, dtype=torch.float64)
        projected = project(g, g_ref)
        assert torch.dot(projected, g_ref) >= -1e-10 * g.norm() * g_ref.norm()
        if torch.dot(g, g_ref) >= 0:
            assert torch.equal(projected, g)  # no conflict: the gradient is kept as is
        else:
            num_projected += 1
            expected = g - torch.dot(g, g_ref) / torch.dot(g_ref, g_ref) * g_ref
            torch.testing.assert_close(projected, expected)
            assert abs(torch.dot(projected, g_ref)) < 1e-10 * g.norm() * g_ref.norm()
    assert 150 < num_projected < 350


def test_projection_holds_inside_every_training_step(monkeypatch):
    module = load(NAME)
    learner = module.Learner(make_ctx(replay_samples=40), dict(HPARAMS))
    run_tasks(learner, task_classes=TASK_CLASSES[:1])
    calls = []
    project = module.project

    def spy(g, g_ref):
        projected = project(g, g_ref)
        calls.append((g, g_ref, projected))
        return projected

    monkeypatch.setattr(module, "project", spy)
    monkeypatch.setattr(learner, "step", _recording_step(learner, calls))
    data = task_data(1, TASK_CLASSES[1], Scenario.CLASS)
    learner.learn(task_info(1, TASK_CLASSES[1], data.num_samples), data)
    assert len(calls) == 10  # every step of task 1 (80 samples / 16, 2 epochs) is projected
    for g, g_ref, projected, applied in calls:
        assert torch.dot(projected, g_ref) >= -1e-6 * g.norm() * g_ref.norm()
        torch.testing.assert_close(applied, projected)  # what the optimizer stepped along
    assert any(torch.dot(g, g_ref) < 0 for g, g_ref, _, _ in calls)  # conflicts occurred


def _recording_step(learner, calls):
    """Wrap `learner.step` to append the gradient the optimizer used to the last call."""
    original = learner.step

    def step(x, y, mask):
        original(x, y, mask)
        applied = torch.cat([p.grad.flatten() for p in learner.params])
        calls[-1] = (*calls[-1], applied)

    return step


def test_memory_holds_an_equal_random_share_of_each_task():
    learner = load(NAME).Learner(make_ctx(replay_samples=41, num_tasks=2), dict(HPARAMS))
    datas = run_tasks(learner)
    assert len(learner.memory_x) == 40  # 41 // 2 per task, task 0's first
    for index, data in enumerate(datas):
        rows = slice(20 * index, 20 * (index + 1))
        stream = {tuple(row) for row in data.x.flatten(1).tolist()}
        stored = [tuple(row) for row in learner.memory_x[rows].flatten(1).tolist()]
        assert len(set(stored)) == 20 and set(stored) <= stream  # distinct samples of the task
        assert set(learner.memory_y[rows].tolist()) <= set(TASK_CLASSES[index])
    assert learner.state_size_bytes() == 40 * (16 * 4 + 8)


@pytest.mark.parametrize("scenario", [Scenario.TASK, Scenario.CLASS])
def test_memory_gradient_scores_each_sample_on_its_own_tasks_head(scenario):
    learner = load(NAME).Learner(make_ctx(scenario, replay_samples=40), dict(HPARAMS))
    run_tasks(learner, scenario)
    first_task = learner.memory_y < 2
    learner.memory_x, learner.memory_y = learner.memory_x[first_task], learner.memory_y[first_task]
    g_ref = learner.memory_gradient(20, torch.ones(4, dtype=torch.bool))
    head_bias = g_ref[-4:]  # the last parameter: the head's bias
    if scenario is Scenario.TASK:  # task-0 samples never touch task 1's outputs
        assert (head_bias[2:] == 0).all() and (head_bias[:2] != 0).all()
    else:  # class-incremental: every class seen so far competes
        assert (head_bias != 0).all()


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_no_memory_budget_is_fine_tuning():
    learner = load(NAME).Learner(make_ctx(replay_samples=0), dict(HPARAMS))
    run_tasks(learner)
    assert learner.memory_x is None and learner.state_size_bytes() == 0


def test_state_within_the_audited_allowance():
    # samples only (plain SGD keeps no state)
    check_state_within_audit(NAME, HPARAMS, replay_samples=30, model_copies=0)


def test_validates():
    check_validates(NAME)
