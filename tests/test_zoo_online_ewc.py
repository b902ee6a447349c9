"""Online EWC (submissions/online-ewc): one running Fisher γ·F_old + F_new, and the contract."""

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
    manual_fisher,
    one_torch_thread,
    run_tasks,
    task_data,
)

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)
NAME = "online-ewc"
HPARAMS = {"lr": 1e-2, "lambda": 10.0, "gamma": 0.7}


def model_at(params: dict[str, torch.Tensor]) -> TinyBackbone:
    model = TinyBackbone(4)
    model.load_state_dict(params, strict=False)
    return model


def test_running_fisher_is_gamma_times_old_plus_new():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    snapshots = []
    run_tasks(learner, after_task=lambda _: snapshots.append(
        {n: f.clone() for n, f in learner.fisher.items()}))
    first_fisher = snapshots[0]
    data = task_data(1, TASK_CLASSES[1], Scenario.CLASS)
    # Class-incremental: task 1's Fisher is over every class seen so far, at θ*_1.
    new_fisher = manual_fisher(model_at(learner.anchor), data.x, data.y, [0, 1, 2, 3])
    for name, fisher in learner.fisher.items():
        torch.testing.assert_close(fisher, 0.7 * first_fisher[name] + new_fisher[name],
                                   rtol=1e-4, atol=1e-7)
    for name, p in learner.model.named_parameters():
        torch.testing.assert_close(learner.anchor[name], p.detach())  # θ* = latest model


def test_penalty_is_zero_at_the_anchor_and_uses_the_decayed_fisher():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    run_tasks(learner, task_classes=TASK_CLASSES[:1])
    assert learner.penalty().item() == 0.0
    shift = {n: 0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1))
             for n, p in learner.model.named_parameters()}
    with torch.no_grad():
        for n, p in learner.model.named_parameters():
            p.add_(shift[n])
    expected = 0.5 * 0.7 * sum((learner.fisher[n] * shift[n] ** 2).sum() for n in shift)
    assert learner.penalty().item() > 0
    torch.testing.assert_close(learner.penalty(), expected)


def test_state_stays_two_parameter_copies_however_many_tasks():
    learner = load(NAME).Learner(make_ctx(num_tasks=2), dict(HPARAMS))
    sizes = []
    run_tasks(learner, after_task=lambda _: sizes.append(learner.state_size_bytes()))
    param_bytes = sum(p.numel() * 4 for p in learner.model.parameters())
    assert sizes == [2 * param_bytes, 2 * param_bytes]


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_state_within_the_audited_allowance():
    # F̃, θ* and Adam's 2 moments
    check_state_within_audit(NAME, HPARAMS, replay_samples=0, model_copies=4)


def test_validates():
    check_validates(NAME)
