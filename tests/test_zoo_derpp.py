"""DER++ (submissions/derpp): stored (x, y, logits), α-MSE plus β-CE on two buffer batches, the
reservoir, and the contract."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.nn import functional as F

from harness.api import Scenario
from tests.zoo_helpers import (
    blobs,
    check_consumes_once_and_predicts,
    check_deterministic_under_ctx_generator,
    check_state_within_audit,
    check_validates,
    load,
    make_ctx,
    one_torch_thread,
    run_tasks,
)

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)
NAME = "derpp"
HPARAMS = {"lr": 1e-2, "alpha": 0.3, "beta": 0.7}


def test_buffer_stores_labels_and_the_logits_of_the_step_that_saw_the_batch():
    learner = load(NAME).Learner(make_ctx(replay_samples=100), dict(HPARAMS))
    x, y = blobs((0, 1), 8, seed=0)
    with torch.no_grad():
        logits_before_step = learner.model(x)
    learner.step(x, y)
    stored = learner.buffer.fields
    assert torch.equal(stored["x"][:16], x) and torch.equal(stored["y"][:16], y)
    torch.testing.assert_close(stored["logits"][:16], logits_before_step)


def test_loss_adds_alpha_mse_on_logits_and_beta_cross_entropy_on_labels():
    learner = load(NAME).Learner(make_ctx(replay_samples=12), {**HPARAMS,
                                                               "replay_batch_size": 12})
    buffered_x, buffered_y = blobs((0, 1, 2), 4, seed=1)
    stored_logits = torch.randn(12, 4, generator=torch.Generator().manual_seed(2))
    learner.buffer.add(x=buffered_x, y=buffered_y, logits=stored_logits)
    x, y = blobs((2, 3), 8, seed=3)
    reference = copy.deepcopy(learner.model)
    loss = (F.cross_entropy(reference(x), y)
            + 0.3 * F.mse_loss(reference(buffered_x), stored_logits)
            + 0.7 * F.cross_entropy(reference(buffered_x), buffered_y))
    loss.backward()
    learner.step(x, y)  # both buffer batches are the whole buffer, in some order
    for p, q in zip(learner.model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-7)


def test_the_two_buffer_batches_are_drawn_independently():
    learner = load(NAME).Learner(make_ctx(replay_samples=40), {**HPARAMS,
                                                               "replay_batch_size": 4})
    learner.buffer.add(x=torch.arange(40.0).view(40, 1), y=torch.arange(40) % 4,
                       logits=torch.zeros(40, 4))
    draws = []
    sample = learner.buffer.sample

    def spy(size, *names):
        drawn = sample(size, *names)
        draws.append(drawn[0].flatten().tolist())
        return drawn

    learner.buffer.sample = spy
    learner.buffer.add = lambda **_: None  # keep the buffer fixed for this check
    learner.model = torch.nn.Sequential(torch.nn.Linear(1, 4))
    learner.optimizer = torch.optim.SGD(learner.model.parameters(), lr=0.0)
    learner.step(torch.zeros(2, 1), torch.tensor([0, 1]))
    assert len(draws) == 2 and draws[0] != draws[1]


def test_reservoir_stays_within_the_allowance_and_reports_its_bytes():
    learner = load(NAME).Learner(make_ctx(replay_samples=50), dict(HPARAMS))
    sizes = []
    run_tasks(learner, per_class=50, num_epochs=3,
              after_task=lambda _: sizes.append(learner.state_size_bytes()))
    assert learner.buffer.num_stored == 50 and learner.buffer.num_seen == 600
    assert sizes == [50 * (16 * 4 + 8 + 4 * 4)] * 2  # x, y and logits of 50 samples
    labels = learner.buffer.fields["y"]
    assert (labels < 2).any() and (labels >= 2).any()  # both tasks are in the buffer


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_state_within_the_audited_allowance():
    # the buffer and Adam's 2 moments
    check_state_within_audit(NAME, HPARAMS, replay_samples=30, model_copies=2)


def test_validates():
    check_validates(NAME)
