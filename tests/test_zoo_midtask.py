"""Continual evaluation predicts in the middle of a task: a class-incremental method must be
able to predict the classes it is learning then, or the stability-gap curves show the current
task stuck at zero and the old tasks measured without their competitors."""

from __future__ import annotations

import pytest
import torch

from harness.api import Scenario
from tests.zoo_helpers import TASK_CLASSES, blobs, load, make_ctx, task_data, task_info

HPARAMS = {  # those of each method's own test file
    "ewc": {"lr": 1e-2, "lambda": 10.0},
    "online-ewc": {"lr": 1e-2, "lambda": 10.0, "gamma": 0.7},
    "si": {"lr": 1e-2, "c": 0.5, "xi": 0.1},
    "lwf": {"lr": 1e-2},
    "naive": {"lr": 1e-2},
}


class MidTask:
    """Task data that, half-way through, asks the learner what it predicts (as the harness's
    continual evaluation does between steps)."""

    def __init__(self, data, learner, classes):
        self.data, self.learner, self.classes = data, learner, classes
        self.predicted: set[int] = set()
        self.num_samples, self.num_epochs = data.num_samples, data.num_epochs

    def __iter__(self):
        batches = list(self.data)
        for i, batch in enumerate(batches):
            if i == len(batches) - 1:
                x, _ = blobs(self.classes, 20, seed=5)
                with torch.inference_mode():
                    self.predicted = set(self.learner.predict(x).argmax(1).tolist())
            yield batch


@pytest.mark.parametrize("name", sorted(HPARAMS))
def test_mid_task_predictions_can_name_the_classes_being_learned(name):
    ctx = make_ctx(Scenario.CLASS)
    learner = load(name).Learner(ctx, dict(HPARAMS[name]))
    for index, classes in enumerate(TASK_CLASSES[:2]):
        data = task_data(index, classes, Scenario.CLASS, num_epochs=3)
        probe = MidTask(data, learner, classes)
        info = task_info(index, classes, data.num_samples)
        learner.learn(info, probe)
        learner.end_of_task(info)
        assert probe.predicted & set(classes), (name, index, probe.predicted)
