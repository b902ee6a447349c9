import pytest
import torch

from harness.data import batches
from harness.data.batches import DeviceTaskData, Normalizer
from harness.errors import BudgetExceededError


def make(num_samples=10, batch_size=4, epochs=2, seed=0):
    images = torch.arange(num_samples * 3 * 2 * 2, dtype=torch.int64).remainder(256)
    images = images.to(torch.uint8).view(num_samples, 3, 2, 2)
    labels = torch.arange(num_samples)
    normalize = Normalizer([0.5, 0.4, 0.3], [0.2, 0.25, 0.3], torch.device("cpu"))
    return DeviceTaskData(images, labels, batch_size=batch_size, num_epochs=epochs,
                          normalize=normalize, generator=torch.Generator().manual_seed(seed))


def test_every_epoch_is_a_permutation_of_all_samples_in_batches():
    data = make()
    seen = [y for _, y in data]
    assert [len(y) for y in seen] == [4, 4, 2, 4, 4, 2]
    first, second = torch.cat(seen[:3]), torch.cat(seen[3:])
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(10))
    assert first.tolist() != second.tolist()  # each epoch draws a fresh permutation
    assert data.samples_yielded == 20 and len(data) == 6


def test_images_are_normalized_per_channel():
    data = make(num_samples=1, batch_size=1, epochs=1)
    x, _ = next(iter(data))
    raw = torch.arange(12).to(torch.float32).view(1, 3, 2, 2)
    mean = torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)
    std = torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    torch.testing.assert_close(x, (raw / 255 - mean) / std)


def test_second_pass_exceeds_the_budget():
    data = make()
    list(data)
    with pytest.raises(BudgetExceededError, match="second time"):
        iter(data)


def test_same_seed_same_batches_and_prenormalized_equals_per_batch(monkeypatch):
    up_front = [(x.clone(), y.clone()) for x, y in make(seed=3)]
    monkeypatch.setattr(batches, "PRENORMALIZE_MAX_BYTES", 0)  # force per-batch conversion
    per_batch = list(make(seed=3))
    for (xa, ya), (xb, yb) in zip(up_front, per_batch, strict=True):
        assert torch.equal(ya, yb)
        assert torch.equal(xa, xb)  # bit-identical, not merely close


def test_the_task_tensors_are_not_public():
    """`data.images` / `data.labels` let a learner train on the whole task without iterating:
    0 samples seen, 0 FLOPs, any number of epochs. The batches are the only documented way."""
    data = make()
    assert not hasattr(data, "images") and not hasattr(data, "labels")
    assert [name for name in vars(data) if not name.startswith("_")] == [
        "num_samples", "batch_size", "num_epochs", "samples_yielded"]


def test_a_second_iter_says_how_to_take_batches_from_one_iterator():
    data = make()
    next(iter(data))
    with pytest.raises(BudgetExceededError, match=r"batches = iter\(data\); next\(batches\)"):
        iter(data)
