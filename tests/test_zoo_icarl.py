"""iCaRL (submissions/icarl): herding, nearest-mean-of-exemplars, the distillation BCE, the
exemplar budget, and the contract."""

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
    task_data,
    task_info,
)

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)
NAME = "icarl"
HPARAMS = {"lr": 1e-2}


def test_herding_picks_the_sample_closest_to_the_mean_first_then_keeps_the_mean():
    herding = load(NAME).herding
    features = torch.tensor([[4.0, 0.0], [1.0, 1.0], [0.0, 4.0], [2.0, 2.1], [-1.0, 0.0]])
    mean = features.mean(0)  # (1.2, 1.42): [1, 1] is the nearest sample
    order = herding(features, 3).tolist()
    assert order[0] == int((features - mean).norm(dim=1).argmin()) == 1
    # Second pick: the sample whose average with the first is closest to the mean.
    pairs = ((features[1] + features) / 2 - mean).norm(dim=1)
    pairs[1] = float("inf")
    assert order[1] == int(pairs.argmin())
    assert len(set(herding(features, 5).tolist())) == 5  # no repeats, every sample once


def trained(replay_samples=20, scenario=Scenario.CLASS, task_classes=TASK_CLASSES):
    learner = load(NAME).Learner(make_ctx(scenario, replay_samples=replay_samples), HPARAMS)
    run_tasks(learner, scenario, task_classes=task_classes)
    return learner


def test_predicts_the_nearest_mean_of_exemplars():
    learner = trained()
    x, _ = blobs(tuple(range(NUM_CLASSES)), 10, seed=3)
    with torch.no_grad():
        means = torch.stack([F.normalize(F.normalize(
            learner.model.features(learner.exemplars[key]), dim=1).mean(0), dim=0)
            for key in sorted(learner.exemplars, key=lambda k: k[1])])
        feats = F.normalize(learner.model.features(x), dim=1)
        nearest = torch.cdist(feats, means).argmin(dim=1)
    with torch.inference_mode():
        logits = learner.predict(x)
    assert torch.equal(logits.argmax(dim=1), nearest)
    torch.testing.assert_close(-logits, torch.cdist(feats, means) ** 2, rtol=1e-4, atol=1e-5)


def test_exemplars_fill_the_allowance_evenly_and_old_sets_are_cut_to_a_prefix():
    learner = load(NAME).Learner(make_ctx(replay_samples=22), HPARAMS)
    sets = []
    run_tasks(learner, after_task=lambda _: sets.append(dict(learner.exemplars)))
    assert {key: len(x) for key, x in sets[0].items()} == {(0, 0): 11, (0, 1): 11}
    assert {key: len(x) for key, x in sets[1].items()} == {
        (0, 0): 5, (0, 1): 5, (1, 2): 5, (1, 3): 5}
    for key in ((0, 0), (0, 1)):
        assert torch.equal(sets[1][key], sets[0][key][:5])  # herding order: keep a prefix
    assert learner.state_size_bytes() == 20 * 16 * 4 + NUM_CLASSES * 32 * 4 + sum(
        p.numel() * 4 for p in learner.model.parameters())


def test_herded_exemplars_come_from_the_class_and_are_the_herding_choice():
    learner = trained(replay_samples=8, task_classes=TASK_CLASSES[:1])
    data = task_data(0, TASK_CLASSES[0], Scenario.CLASS)
    for label in (0, 1):
        x = data.x[data.y == label]
        with torch.no_grad():
            feats = F.normalize(learner.model.features(x), dim=1)
        expected = x[load(NAME).herding(feats, 4)]
        assert torch.equal(learner.exemplars[(0, label)], expected)


def test_loss_is_bce_with_old_classes_distilled_from_the_old_model():
    learner = trained(task_classes=TASK_CLASSES[:1])
    x, y = blobs((0, 2, 3), 4, seed=5)
    active = torch.ones(NUM_CLASSES, dtype=torch.bool)
    old = torch.tensor([True, True, False, False])
    with torch.no_grad():
        targets = F.one_hot(y, NUM_CLASSES).float()
        targets[:, :2] = torch.sigmoid(learner.old_model(x))[:, :2]
        expected = F.binary_cross_entropy_with_logits(
            learner.model(x), targets, reduction="none").sum(1).mean()
        torch.testing.assert_close(learner.loss(x, y, active, old), expected)


def test_each_exemplar_is_replayed_once_per_epoch():
    learner = trained(task_classes=TASK_CLASSES[:1])
    seen_before = learner.model.train_samples_seen
    data = task_data(1, TASK_CLASSES[1], Scenario.CLASS, num_epochs=2)
    learner.learn(task_info(1, TASK_CLASSES[1], data.num_samples), data)
    # 80 new samples and 20 exemplars per epoch, 2 epochs.
    assert learner.model.train_samples_seen - seen_before == 2 * 80 + 2 * 20


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_domain_incremental_keeps_a_share_for_every_task():
    learner = trained(replay_samples=8, scenario=Scenario.DOMAIN)
    assert {key: len(x) for key, x in learner.exemplars.items()} == {
        (0, 0): 2, (0, 1): 2, (1, 0): 2, (1, 1): 2}


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_without_memory_it_falls_back_to_the_network():
    learner = trained(replay_samples=0)
    with torch.inference_mode():
        logits = learner.predict(blobs((0, 1), 3, seed=1)[0])
    assert learner.exemplars == {} and torch.isfinite(logits).all()


def test_state_within_the_audited_allowance():
    # exemplars, the old model and Adam's 2 moments
    check_state_within_audit(NAME, HPARAMS, replay_samples=30, model_copies=3)


def test_validates():
    check_validates(NAME)
