"""LwF (submissions/lwf): distillation to the frozen old model's softened outputs, and the
contract."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

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
NAME = "lwf"
HPARAMS = {"lr": 1e-2}


def test_distillation_loss_is_soft_cross_entropy_at_temperature():
    student = torch.tensor([[1.0, 0.0]])
    teacher = torch.tensor([[0.0, 2.0]])
    # T = 2: targets softmax([0, 1]), predictions softmax([0.5, 0]).
    targets = torch.tensor([1.0, torch.e]) / (1 + torch.e)
    log_predictions = torch.log_softmax(torch.tensor([0.5, 0.0]), dim=0)
    expected = -(targets * log_predictions).sum()
    torch.testing.assert_close(load(NAME).distillation_loss(student, teacher, 2.0), expected)


def test_distillation_gradient_vanishes_when_the_student_matches_the_teacher():
    teacher = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    student = teacher.clone().requires_grad_(True)
    load(NAME).distillation_loss(student, teacher, 2.0).backward()
    torch.testing.assert_close(student.grad, torch.zeros_like(student), atol=1e-7, rtol=0)


@pytest.mark.parametrize("scenario", [Scenario.CLASS, Scenario.TASK])
def test_loss_adds_distillation_on_the_old_classes(scenario):
    learner = load(NAME).Learner(make_ctx(scenario), {**HPARAMS, "distill_weight": 0.7})
    run_tasks(learner, scenario, task_classes=TASK_CLASSES[:1])
    learner.old_groups = learner.distillation_groups()
    assert [g.tolist() for g in learner.old_groups] == [[0, 1]]
    x, y = next(iter(task_data(1, TASK_CLASSES[1], scenario)))
    mask = learner.active_mask(task_info(1, TASK_CLASSES[1], len(x), scenario))
    with torch.no_grad():
        logits, old_logits = learner.model(x), learner.old_model(x)
        ce = F.cross_entropy(logits.masked_fill(~mask, -1e9), y)
        soft_targets = F.softmax(old_logits[:, :2] / 2, dim=1)
        kd = -(soft_targets * F.log_softmax(logits[:, :2] / 2, dim=1)).sum(1).mean()
        torch.testing.assert_close(learner.loss(x, y, mask), ce + 0.7 * kd)
    assert kd > 0


def test_old_model_is_a_frozen_copy_of_the_model_after_the_previous_task():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    run_tasks(learner, task_classes=TASK_CLASSES[:1])
    old = learner.old_model
    after_first = {n: p.detach().clone() for n, p in learner.model.named_parameters()}
    assert all(not p.requires_grad for p in old.parameters()) and not old.training
    data = task_data(1, TASK_CLASSES[1], Scenario.CLASS)
    learner.learn(task_info(1, TASK_CLASSES[1], data.num_samples), data)
    for n, p in old.named_parameters():  # used throughout task 1, never updated
        assert torch.equal(p, after_first[n])
    assert learner.old_model is not old  # the next task distils from the latest model


def test_distillation_keeps_old_class_outputs_close_to_the_old_model():
    divergences = []
    for weight in (0.0, 1.0):
        learner = load(NAME).Learner(make_ctx(), {**HPARAMS, "distill_weight": weight})
        run_tasks(learner, task_classes=TASK_CLASSES[:1])
        old = learner.old_model
        data = task_data(1, TASK_CLASSES[1], Scenario.CLASS)
        learner.learn(task_info(1, TASK_CLASSES[1], data.num_samples), data)
        x = data.x  # LwF constrains the old heads' outputs on the new task's inputs
        with torch.no_grad():
            p_old = F.log_softmax(old(x)[:, :2] / 2, dim=1)
            p_new = F.log_softmax(learner.model(x)[:, :2] / 2, dim=1)
        divergences.append(F.kl_div(p_new, p_old, log_target=True, reduction="batchmean"))
    assert divergences[1] < 0.5 * divergences[0], divergences


def test_state_is_the_stored_model():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    assert learner.state_size_bytes() == 0
    run_tasks(learner)
    assert learner.state_size_bytes() == sum(p.numel() * 4 for p in learner.model.parameters())


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_state_within_the_audited_allowance():
    # the old model and Adam's 2 moments
    check_state_within_audit(NAME, HPARAMS, replay_samples=0, model_copies=3)


def test_validates():
    check_validates(NAME)
