"""NCM (submissions/ncm): nearest class mean on first-task features, frozen afterwards, and the
contract."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from harness.api import Scenario
from tests.zoo_helpers import (
    NUM_CLASSES,
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
NAME = "ncm"
HPARAMS = {"lr": 1e-2}


def test_class_means_are_the_exact_feature_means_and_predict_picks_the_nearest():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    datas = run_tasks(learner, num_epochs=3)
    with torch.no_grad():
        feats = [F.normalize(learner.model.features(data.x), dim=1) for data in datas]
        labels = torch.cat([data.y for data in datas])
        feats = torch.cat(feats)
        expected = torch.stack([feats[labels == c].mean(0) for c in range(NUM_CLASSES)])
    torch.testing.assert_close(learner.class_means(), expected, rtol=1e-5, atol=1e-6)
    x, _ = blobs(tuple(range(NUM_CLASSES)), 10, seed=4)
    with torch.no_grad():
        nearest = torch.cdist(F.normalize(learner.model.features(x), dim=1), expected).argmin(1)
    with torch.inference_mode():
        assert torch.equal(learner.predict(x).argmax(1), nearest)


def test_features_train_on_the_first_task_then_freeze():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    initial = {n: p.detach().clone() for n, p in learner.model.named_parameters()}
    snapshots = []
    run_tasks(learner, after_task=lambda _: snapshots.append(
        {n: p.detach().clone() for n, p in learner.model.named_parameters()}))
    assert any(not torch.equal(initial[n], snapshots[0][n]) for n in initial)
    assert all(torch.equal(snapshots[0][n], snapshots[1][n]) for n in initial)
    assert learner.model.train_samples_seen == 2 * 80  # the first task's two epochs only


def test_random_feature_variant_never_trains():
    learner = load(NAME).Learner(make_ctx(), {**HPARAMS, "train_first_task": False})
    initial = {n: p.detach().clone() for n, p in learner.model.named_parameters()}
    run_tasks(learner)
    assert all(torch.equal(initial[n], p) for n, p in learner.model.named_parameters())
    assert learner.counts.tolist() == [40.0] * NUM_CLASSES  # each sample counted once


def test_learns_new_classes_without_forgetting_old_ones():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    run_tasks(learner)
    x, y = blobs(tuple(range(NUM_CLASSES)), 20, seed=6)
    with torch.inference_mode():
        accuracy = (learner.predict(x).argmax(1) == y).float().mean()
    assert accuracy > 0.9


def test_unseen_classes_get_a_large_finite_negative_logit_and_no_samples_are_kept():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    run_tasks(learner, task_classes=TASK_CLASSES[:1])
    with torch.inference_mode():
        logits = learner.predict(blobs((2, 3), 5, seed=1)[0])
    assert torch.isfinite(logits).all() and (logits[:, 2:] <= -1e8).all()
    assert learner.state_size_bytes() == NUM_CLASSES * 4 + NUM_CLASSES * 32 * 4


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_state_within_the_audited_allowance():
    # class sums and counts: the size of the head, no samples
    check_state_within_audit(NAME, HPARAMS, replay_samples=0, model_copies=1)


def test_validates():
    check_validates(NAME)
