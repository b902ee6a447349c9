import torch
import torch.nn.functional as F

from harness.api import Budget, LearnerContext, MultiHead, Scenario, TaskInfo
from harness.models import backbone_factory, resnet18_reduced


def test_reduced_resnet18_matches_gem_size_and_exposes_features():
    net = resnet18_reduced((3, 32, 32), 100)
    assert 1.0e6 < sum(p.numel() for p in net.parameters()) < 1.3e6  # GEM: ~1.1 M
    x = torch.randn(2, 3, 32, 32)
    assert net.features(x).shape == (2, 160) and net(x).shape == (2, 100)


def test_backbone_factory_builds_fresh_networks_from_the_torch_seed():
    make = backbone_factory("mlp", (1, 28, 28), 10, hidden=16)
    torch.manual_seed(0)
    a = make()
    torch.manual_seed(0)
    b = make()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def context(scenario):
    return LearnerContext(torch.device("cpu"), 0, torch.Generator(), 2, 4, (1,), scenario,
                          Budget(1, 1, 0, 1.0), lambda: None)


def test_multihead_limits_each_sample_to_its_own_tasks_classes():
    heads = MultiHead(context(Scenario.TASK))
    heads.add_task(TaskInfo(0, (0, 1), Scenario.TASK, 1))
    heads.add_task(TaskInfo(1, (2, 3), Scenario.TASK, 1))
    logits = torch.zeros(2, 4, requires_grad=True)
    labels = torch.tensor([1, 2])
    masked = heads(logits, labels)
    assert torch.isinf(masked[0, 2:]).all() and torch.isfinite(masked[0, :2]).all()
    assert torch.isinf(masked[1, :2]).all() and torch.isfinite(masked[1, 2:]).all()
    loss = F.cross_entropy(masked, labels)
    loss.backward()  # finite: each row keeps its true class
    assert torch.isfinite(loss) and logits.grad[0, 2:].abs().sum() == 0


def test_multihead_is_the_identity_outside_task_incremental():
    heads = MultiHead(context(Scenario.CLASS))
    logits = torch.randn(3, 4)
    assert heads(logits, torch.tensor([0, 1, 2])) is logits
