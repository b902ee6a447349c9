"""Compute accounting: FLOP counts of a known conv net agree with the analytic count, and the
in-task search helper charges every trial's training and dev predictions."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from harness.data.batches import Normalizer
from harness.errors import BudgetExceededError
from harness.nevis.search import TaskSearch
from harness.runner.instrument import StepInstrument

B, C_IN, C_OUT, K, H = 8, 3, 4, 3, 6  # batch, channels, kernel, side (padding 1 keeps H)


def _conv_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(C_IN, C_OUT, K, padding=1, bias=False), nn.Flatten(),
                         nn.Linear(C_OUT * H * H, 5, bias=False))


# Forward: conv 2·B·C_OUT·H·H·C_IN·K·K, linear 2·B·(C_OUT·H·H)·5. Backward: linear ∂W and ∂x
# (2 × its forward), conv ∂W only (the input needs no gradient: 1 × its forward).
CONV = 2 * B * C_OUT * H * H * C_IN * K * K
LINEAR = 2 * B * C_OUT * H * H * 5
STEP_FLOPS = (CONV + LINEAR) + (2 * LINEAR + CONV)


def test_sampled_step_flops_of_a_conv_net_match_the_analytic_count():
    torch.manual_seed(0)
    model = _conv_net()
    instrument = StepInstrument(10, evaluate=None, every_steps=0, learner=object(),
                                clock=lambda: 0.0)
    for step in range(10):
        with instrument(step, B):
            F.cross_entropy(model(torch.randn(B, C_IN, H, H)),
                            torch.zeros(B, dtype=torch.long)).backward()
    assert instrument.estimated_flops == pytest.approx(10 * STEP_FLOPS)


def _search(num_train: int = 32, max_trials: int = 3) -> TaskSearch:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 255, (num_train, C_IN, H, H), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 2, (num_train,), generator=g)
    dev_x = torch.randint(0, 255, (B, C_IN, H, H), generator=g, dtype=torch.uint8)
    return TaskSearch(train=(x, y), dev=(dev_x, torch.zeros(B, dtype=torch.long)),
                      classes=torch.tensor([0, 1]), max_trials=max_trials, batch_size=B,
                      num_epochs=1, normalize=Normalizer([0.5] * 3, [0.25] * 3,
                                                         torch.device("cpu")),
                      seed=1, learner=object(), clock=lambda: 0.0)


def _trial(hparams, data):
    torch.manual_seed(0)
    model = _conv_net()
    opt = torch.optim.SGD(model.parameters(), lr=float(hparams["lr"]))
    for x, y in data:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return lambda x: model(x)


def test_search_counts_every_trial_and_its_dev_predictions():
    search = _search()
    result = search.run([{"lr": 0.0}, {"lr": 0.5}], _trial)
    steps = 32 // B
    dev_forward = CONV + LINEAR  # one dev batch of B images
    assert search.flops == pytest.approx(2 * (steps * STEP_FLOPS + dev_forward))
    assert search.trials_run == 2 and search.samples == 64
    assert len(result.dev_errors) == 2 and result.best == [{"lr": 0.0}, {"lr": 0.5}][
        result.best_index]
    assert result.dev_errors[result.best_index] == min(result.dev_errors)


def test_search_refuses_trials_beyond_the_budget():
    search = _search(max_trials=1)
    with pytest.raises(BudgetExceededError, match="search_trials_per_task"):
        search.run([{"lr": 0.1}, {"lr": 0.2}], _trial)
