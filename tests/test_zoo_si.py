"""SI (submissions/si): the path integral, the importance Ω, the surrogate, and the contract."""

from __future__ import annotations

import copy

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
NAME = "si"
HPARAMS = {"lr": 1e-2, "c": 0.5, "xi": 0.1}


def test_omega_is_the_normalized_path_integral_of_minus_g_dot_delta():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    # Replay the same steps by hand on a copy: same init, same Adam, same batches.
    model = copy.deepcopy(learner.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=HPARAMS["lr"])
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    path = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for x, y in task_data(0, TASK_CLASSES[0], Scenario.CLASS):
        optimizer.zero_grad()
        logits = model(x).masked_fill(torch.tensor([False, False, True, True]), -1e9)
        F.cross_entropy(logits, y).backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        optimizer.step()
        for n, p in model.named_parameters():
            path[n] -= grads[n] * (p.detach() - before[n])
    run_tasks(learner, task_classes=TASK_CLASSES[:1])
    for n, p in model.named_parameters():
        delta = p.detach() - start[n]
        expected = (path[n] / (delta ** 2 + HPARAMS["xi"])).clamp_min(0)
        torch.testing.assert_close(learner.omega[n], expected, rtol=1e-4, atol=1e-8)
        torch.testing.assert_close(learner.anchor[n], p.detach(), rtol=1e-5, atol=1e-6)
    assert sum(o.sum() for o in learner.omega.values()) > 0
    assert all((w == 0).all() for w in learner.path.values())  # reset for the next task


def test_path_integral_uses_the_unregularized_gradient_and_the_step_adds_the_surrogate():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    run_tasks(learner, task_classes=TASK_CLASSES[:1])
    with torch.no_grad():  # move away from θ̃ so the surrogate's gradient is not zero
        for p in learner.model.parameters():
            p.add_(0.05)
    x, y = next(iter(task_data(1, TASK_CLASSES[1], Scenario.CLASS)))
    before = copy.deepcopy(learner.model)
    F.cross_entropy(before(x), y).backward()
    learner.step(x, y, torch.ones(4, dtype=torch.bool))
    for (n, p), old in zip(learner.model.named_parameters(), before.parameters(), strict=True):
        delta = p.detach() - old.detach()
        torch.testing.assert_close(learner.path[n], -old.grad * delta, rtol=1e-5, atol=1e-9)
        surrogate = 2 * HPARAMS["c"] * learner.omega[n] * (old.detach() - learner.anchor[n])
        torch.testing.assert_close(p.grad, old.grad + surrogate, rtol=1e-5, atol=1e-8)


def test_surrogate_is_zero_at_the_anchor_and_omega_weighted_away_from_it():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    run_tasks(learner, task_classes=TASK_CLASSES[:1])
    assert learner.surrogate_loss().item() == 0.0
    with torch.no_grad():
        for p in learner.model.parameters():
            p.add_(0.1)
    expected = sum((o * 0.01).sum() for o in learner.omega.values())
    torch.testing.assert_close(learner.surrogate_loss(), expected)


def test_omega_accumulates_over_tasks():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    totals = []
    run_tasks(learner, after_task=lambda _: totals.append(
        sum(o.sum() for o in learner.omega.values()).item()))
    assert 0 < totals[0] < totals[1]


def test_state_counts_omega_anchor_and_running_path():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    run_tasks(learner)
    param_bytes = sum(p.numel() * 4 for p in learner.model.parameters())
    assert learner.state_size_bytes() == 3 * param_bytes


def test_task_incremental_trains_the_current_tasks_outputs_only():
    learner = load(NAME).Learner(make_ctx(Scenario.TASK), dict(HPARAMS))
    head = learner.model.head.weight.detach().clone()
    data = task_data(0, TASK_CLASSES[0], Scenario.TASK)
    learner.learn(task_info(0, TASK_CLASSES[0], data.num_samples, Scenario.TASK), data)
    assert torch.equal(learner.model.head.weight[2:], head[2:])
    assert not torch.equal(learner.model.head.weight[:2], head[:2])


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_state_within_the_audited_allowance():
    # Ω, θ̃, the running path integral and Adam's 2 moments
    check_state_within_audit(NAME, HPARAMS, replay_samples=0, model_copies=5)


def test_validates():
    check_validates(NAME)
