"""DER (submissions/der): logits stored at insertion, the α-MSE on them, the reservoir, and the
contract."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.nn import functional as F

from harness.api import Scenario
from tests.zoo_helpers import (
    TASK_CLASSES,
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
NAME = "der"
HPARAMS = {"lr": 1e-2, "alpha": 0.5}


def test_buffer_stores_the_logits_of_the_step_that_saw_the_batch():
    learner = load(NAME).Learner(make_ctx(replay_samples=100), dict(HPARAMS))
    x, y = blobs((0, 1), 8, seed=0)
    with torch.no_grad():
        logits_before_step = learner.model(x)
    learner.step(x, y)
    stored = learner.buffer.fields
    assert torch.equal(stored["x"][:16], x)
    torch.testing.assert_close(stored["logits"][:16], logits_before_step)
    with torch.no_grad():  # the model has moved on; the buffer keeps the old logits
        assert not torch.allclose(learner.model(x), stored["logits"][:16])


def test_loss_is_cross_entropy_plus_alpha_mse_to_the_stored_logits():
    learner = load(NAME).Learner(make_ctx(replay_samples=12), {**HPARAMS,
                                                               "replay_batch_size": 12})
    buffered_x, _ = blobs((0, 1, 2), 4, seed=1)
    stored_logits = torch.randn(12, 4, generator=torch.Generator().manual_seed(2))
    learner.buffer.add(x=buffered_x, logits=stored_logits)
    x, y = blobs((2, 3), 8, seed=3)
    reference = copy.deepcopy(learner.model)
    loss = (F.cross_entropy(reference(x), y)
            + 0.5 * F.mse_loss(reference(buffered_x), stored_logits))
    loss.backward()
    learner.step(x, y)  # draws the whole buffer (12 of 12), in some order
    for p, q in zip(learner.model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-7)


def test_reservoir_offers_every_batch_and_stays_within_the_allowance():
    learner = load(NAME).Learner(make_ctx(replay_samples=50), dict(HPARAMS))
    sizes = []
    run_tasks(learner, per_class=50, num_epochs=3,
              after_task=lambda _: sizes.append(learner.state_size_bytes()))
    buffer = learner.buffer
    assert buffer.num_stored == 50 and buffer.num_seen == 2 * 100 * 3  # all epochs offered
    assert sizes == [50 * (16 * 4 + 4 * 4)] * 2  # x and logits of 50 samples, nothing else


def test_buffer_keeps_samples_of_both_tasks():
    learner = load(NAME).Learner(make_ctx(replay_samples=60), dict(HPARAMS))
    datas = run_tasks(learner, per_class=50, num_epochs=1)
    stored = [tuple(row) for row in learner.buffer.fields["x"].flatten(1).tolist()]
    streams = [{tuple(row) for row in data.x.flatten(1).tolist()} for data in datas]
    from_first = sum(row in streams[0] for row in stored)
    from_second = sum(row in streams[1] for row in stored)
    assert from_first + from_second == 60 and 15 <= from_first <= 45


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_without_memory_it_is_fine_tuning():
    learner = load(NAME).Learner(make_ctx(replay_samples=0), dict(HPARAMS))
    run_tasks(learner, task_classes=TASK_CLASSES)
    assert learner.buffer.num_stored == 0 and learner.state_size_bytes() == 0


def test_state_within_the_audited_allowance():
    # the buffer and Adam's 2 moments
    check_state_within_audit(NAME, HPARAMS, replay_samples=30, model_copies=2)


def test_validates():
    check_validates(NAME)
