"""The alternating (derandomized) flip of airbench: each image mirrored on every other epoch."""

import pytest
import torch

from harness.data.augment import (
    Augmentation,
    alternating_flip,
    augmenter,
    draw_flip_parity,
    horizontal_flip,
    random_crop,
)


def _flipped(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B,) bool: image b of `out` is the mirror of image b of `x` (and not equal to it)."""
    mirrored = (out == x.flip(3)).flatten(1).all(1)
    same = (out == x).flatten(1).all(1)
    assert torch.all(mirrored ^ same)  # every image is exactly one of the two
    return mirrored


def test_every_image_is_flipped_in_exactly_one_of_any_two_consecutive_epochs():
    x = torch.randn(64, 3, 4, 4)  # random pixels: no image equals its own mirror
    parity = draw_flip_parity(64, torch.Generator().manual_seed(0))
    flips = torch.stack([_flipped(alternating_flip(x, epoch, parity), x) for epoch in range(6)])
    assert torch.all(flips[1:] ^ flips[:-1])
    assert torch.equal(flips[0], parity)  # parity True: flipped on the even epochs
    assert 16 < int(parity.sum()) < 48  # a per-image coin, not the same choice for all


def test_parity_is_deterministic_by_seed():
    first = draw_flip_parity(500, torch.Generator().manual_seed(3))
    again = draw_flip_parity(500, torch.Generator().manual_seed(3))
    other = draw_flip_parity(500, torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_augmenter_follows_each_image_across_shuffled_batches():
    # The augmenter is built per task; each batch passes its sample indices and epoch, so an
    # image's flip depends on the image and the epoch, never on where the shuffle put it.
    images = torch.randn(10, 1, 3, 3)
    apply = augmenter((Augmentation.ALTERNATING_FLIP,), torch.Generator().manual_seed(1),
                      num_samples=10)
    orders = [torch.randperm(10, generator=torch.Generator().manual_seed(e)) for e in range(4)]
    seen = torch.zeros(4, 10, dtype=torch.bool)
    for epoch, order in enumerate(orders):
        for index in order.split(3):
            seen[epoch, index] = _flipped(apply(images[index], index, epoch), images[index])
    assert torch.all(seen[1:] ^ seen[:-1])
    twin = augmenter((Augmentation.ALTERNATING_FLIP,), torch.Generator().manual_seed(1),
                     num_samples=10)
    assert torch.equal(twin(images, torch.arange(10), 0), apply(images, torch.arange(10), 0))


def test_alternating_flip_needs_task_size_and_batch_index_and_no_second_flip():
    with pytest.raises(ValueError, match="num_samples"):
        augmenter((Augmentation.ALTERNATING_FLIP,), torch.Generator())
    apply = augmenter((Augmentation.ALTERNATING_FLIP,), torch.Generator(), num_samples=4)
    with pytest.raises(ValueError, match="index"):
        apply(torch.randn(4, 1, 2, 2))
    with pytest.raises(ValueError, match="choose one"):
        augmenter((Augmentation.HORIZONTAL_FLIP, Augmentation.ALTERNATING_FLIP),
                  torch.Generator(), num_samples=4)


def test_other_augmentations_draw_the_same_as_before():
    # Existing suites keep their exact crops and flips: the old single-argument call works and
    # draws nothing extra from the generator.
    x = torch.randn(8, 3, 8, 8)
    names = (Augmentation.RANDOM_CROP, Augmentation.HORIZONTAL_FLIP)
    new = augmenter(names, torch.Generator().manual_seed(5))(x)
    gen = torch.Generator().manual_seed(5)
    assert torch.equal(new, horizontal_flip(random_crop(x, 4, gen), gen))


def test_task_data_flips_each_image_in_exactly_one_of_two_epochs():
    """The batch iterator hands each batch's sample indices and epoch to the augmenter."""
    from harness.data.batches import DeviceTaskData, Normalizer

    n = 10
    images = torch.zeros(n, 1, 1, 2, dtype=torch.uint8)
    images[:, 0, 0, 1] = 255  # dark left, bright right: a flip is visible
    flip = augmenter((Augmentation.ALTERNATING_FLIP,), torch.Generator().manual_seed(0),
                     num_samples=n)
    data = DeviceTaskData(images, torch.arange(n), batch_size=3, num_epochs=2,
                          normalize=Normalizer([0.0], [1.0], torch.device("cpu")), augment=flip,
                          generator=torch.Generator().manual_seed(1))
    flipped = torch.zeros(n, dtype=torch.long)
    for x, y in data:
        flipped[y] += (x[:, 0, 0, 0] > x[:, 0, 0, 1]).long()
    assert flipped.tolist() == [1] * n
