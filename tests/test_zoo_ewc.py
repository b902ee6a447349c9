"""EWC (submissions/ewc): the penalty, the Fisher it uses, and the learner contract."""

from __future__ import annotations

import pytest
import torch
from torch import nn

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
    task_info,
)

pytestmark = pytest.mark.usefixtures(one_torch_thread.__name__)
NAME = "ewc"
HPARAMS = {"lr": 1e-2, "lambda": 10.0}


def model_at(params: dict[str, torch.Tensor], num_outputs: int = 4) -> TinyBackbone:
    model = TinyBackbone(num_outputs)
    model.load_state_dict(params, strict=False)
    return model


def first_task_learner(hparams=HPARAMS, scenario=Scenario.CLASS):
    learner = load(NAME).Learner(make_ctx(scenario), dict(hparams))
    run_tasks(learner, scenario, task_classes=TASK_CLASSES[:1])
    return learner


@pytest.mark.parametrize("empirical", [False, True])
def test_fisher_is_the_previous_tasks_fisher_at_its_optimum(empirical):
    hparams = {**HPARAMS, "fisher": "empirical" if empirical else "true"}
    learner = first_task_learner(hparams)
    for name, p in learner.model.named_parameters():
        torch.testing.assert_close(learner.mean[name], p.detach())  # θ* = the model after task 0
    data = task_data(0, TASK_CLASSES[0], Scenario.CLASS)
    expected = manual_fisher(model_at(learner.mean), data.x, data.y, [0, 1], empirical)
    for name in expected:
        torch.testing.assert_close(learner.precision[name], expected[name], rtol=1e-4, atol=1e-7)
    assert sum(f.sum() for f in learner.precision.values()) > 0 and learner.constant == 0


def test_sampled_fisher_uses_one_label_per_sample_drawn_from_the_model():
    learner = first_task_learner({**HPARAMS, "fisher": "sample"})
    data = task_data(0, TASK_CLASSES[0], Scenario.CLASS)
    mask = torch.tensor([True, True, False, False])
    state = learner.ctx.generator.get_state()
    fisher = learner.task_fisher(data.x, 1 - data.y, mask)  # wrong labels: must be ignored
    learner.ctx.generator.set_state(state)
    model = model_at(dict(learner.model.named_parameters()))
    with torch.no_grad():
        probs = torch.softmax(model(data.x)[:, :2], dim=1)
    labels = torch.multinomial(probs, 1, generator=learner.ctx.generator).flatten()
    expected = manual_fisher(model, data.x, labels, [0, 1], empirical=True)
    for name in expected:
        torch.testing.assert_close(fisher[name], expected[name], rtol=1e-4, atol=1e-7)


def test_penalty_is_zero_at_the_anchor_and_half_fisher_weighted_distance_away():
    learner = first_task_learner()
    assert learner.penalty().item() == 0.0
    shift = {n: 0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1))
             for n, p in learner.model.named_parameters()}
    with torch.no_grad():
        for n, p in learner.model.named_parameters():
            p.add_(shift[n])
    expected = 0.5 * sum((learner.precision[n] * shift[n] ** 2).sum() for n in shift)
    assert learner.penalty().item() > 0
    torch.testing.assert_close(learner.penalty(), expected)


def test_penalty_is_the_sum_of_one_quadratic_per_earlier_task():
    learner = load(NAME).Learner(make_ctx(num_tasks=2), dict(HPARAMS))
    snapshots = []
    run_tasks(learner, after_task=lambda _: snapshots.append(
        {n: p.detach().clone() for n, p in learner.model.named_parameters()}))
    data = task_data(1, TASK_CLASSES[1], Scenario.CLASS)
    fishers = [
        manual_fisher(model_at(snapshots[0]), *_first_task_xy(), [0, 1]),
        manual_fisher(model_at(snapshots[1]), data.x, data.y, [0, 1, 2, 3]),
    ]
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in learner.model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator))
    expected = 0.5 * sum((f[n] * (p - optimum[n]) ** 2).sum()
                         for f, optimum in zip(fishers, snapshots, strict=True)
                         for n, p in learner.model.named_parameters())
    penalty = learner.penalty()
    torch.testing.assert_close(penalty, expected, rtol=1e-4, atol=1e-9)
    got = torch.autograd.grad(penalty, list(learner.model.parameters()))
    want = torch.autograd.grad(expected, list(learner.model.parameters()))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-9)


def _first_task_xy() -> tuple[torch.Tensor, torch.Tensor]:
    data = task_data(0, TASK_CLASSES[0], Scenario.CLASS)
    return data.x, data.y


def test_penalty_keeps_important_parameters_near_the_previous_optimum():
    distances = []
    for strength in (0.0, 1e6):
        learner = load(NAME).Learner(make_ctx(), {**HPARAMS, "lambda": strength})
        run_tasks(learner, task_classes=TASK_CLASSES[:1])
        fisher = {n: f.clone() for n, f in learner.precision.items()}
        optimum = {n: m.clone() for n, m in learner.mean.items()}
        data = task_data(1, TASK_CLASSES[1], Scenario.CLASS)
        learner.learn(task_info(1, TASK_CLASSES[1], data.num_samples), data)
        distances.append(sum((fisher[n] * (p.detach() - optimum[n]) ** 2).sum()
                             for n, p in learner.model.named_parameters()).item())
    assert distances[1] < 0.1 * distances[0], distances


def test_state_stays_two_parameter_copies_however_many_tasks():
    learner = load(NAME).Learner(make_ctx(), dict(HPARAMS))
    sizes = []
    run_tasks(learner, after_task=lambda _: sizes.append(learner.state_size_bytes()))
    param_bytes = sum(p.numel() * 4 for p in learner.model.parameters())
    assert sizes == [2 * param_bytes, 2 * param_bytes] and learner.num_consolidated == 2


def test_task_incremental_fisher_only_covers_the_current_tasks_head():
    learner = first_task_learner(scenario=Scenario.TASK)
    first_task_head = learner.precision["head.weight"]
    assert (first_task_head[2:] == 0).all() and (first_task_head[:2] > 0).any()


def test_fisher_sample_count_can_be_capped():
    learner = first_task_learner({**HPARAMS, "fisher_n": 8})
    assert learner.num_consolidated == 1  # from 8 samples, without touching the data again


@pytest.mark.parametrize("scenario", list(Scenario))
def test_contract(scenario):
    check_consumes_once_and_predicts(NAME, HPARAMS, scenario)


def test_deterministic_under_ctx_generator():
    check_deterministic_under_ctx_generator(NAME, HPARAMS)


def test_class_incremental_never_predicts_unseen_classes():
    learner = first_task_learner()
    x = task_data(1, TASK_CLASSES[1], Scenario.CLASS).x
    with torch.inference_mode():
        assert set(learner.predict(x).argmax(1).tolist()) <= {0, 1}


def test_state_within_the_audited_allowance():
    # 2 (A, μ) + Adam's 2 moments
    check_state_within_audit(NAME, HPARAMS, replay_samples=0, model_copies=4)


def test_validates():
    check_validates(NAME)


@pytest.mark.parametrize("name", [NAME, "online-ewc"])
@pytest.mark.parametrize("empirical", [False, True])
def test_per_layer_fisher_of_an_mlp_equals_per_sample_gradients(name, empirical):
    module = load(name)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 9), nn.ReLU(), nn.Linear(9, 9),
                          nn.Tanh(), nn.Linear(9, 5))
    x, y = torch.randn(70, 3, 4), torch.randint(1, 4, (70,))
    columns = torch.tensor([1, 2, 3])
    labels = y - 1 if empirical else None
    fast = module._linear_fisher(model, x, labels, columns)
    reference = module._functional_fisher(model, x, labels, columns)
    assert fast is not None and fast.keys() == reference.keys()
    for n in reference:
        torch.testing.assert_close(fast[n], reference[n], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", [NAME, "online-ewc"])
def test_fisher_of_the_harness_mlp_with_in_place_relu_equals_per_sample_gradients(name):
    """The Split-MNIST backbone (`harness.models.mlp`) uses ReLU(inplace=True), which would
    overwrite each layer's saved output: the gradient must be taken before the activation."""
    from harness.models import mlp

    module = load(name)
    torch.manual_seed(0)
    model = mlp((1, 4, 4), 5, hidden=12)
    assert any(getattr(m, "inplace", False) for m in model.modules())
    x = torch.randn(40, 1, 4, 4)
    columns = torch.arange(5)
    fast = module._linear_fisher(model, x, None, columns)
    reference = module._functional_fisher(model, x, None, columns)
    assert fast is not None
    for n in reference:
        torch.testing.assert_close(fast[n], reference[n], rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(model(x), model(x))  # the model is unchanged by the hooks


def test_networks_beyond_linear_layers_take_the_per_sample_route():
    module = load(NAME)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3))
    shared = nn.Linear(4, 4)
    twice = nn.Sequential(nn.Flatten(), shared, nn.ReLU(), shared)  # one layer applied twice
    columns = torch.arange(3)
    assert module._linear_fisher(conv, torch.randn(5, 1, 4, 4), None, columns) is None
    assert module._linear_fisher(twice, torch.randn(5, 4), None, columns) is None
    fisher = module.diagonal_fisher(conv, torch.randn(5, 1, 4, 4), torch.zeros(5, dtype=torch.long),
                                    columns, empirical=False)
    assert set(fisher) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert all(f.ge(0).all() and f.sum() > 0 for f in fisher.values())
