import torch

from harness.data.augment import Augmentation, augmenter, horizontal_flip, random_crop


def test_random_crop_is_a_shifted_window_of_the_zero_padded_image():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4) + 1
    out = random_crop(x, 2, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for b in range(2):  # each output equals some 4x4 window of its own padded image
        windows = [padded[b, :, r:r + 4, c:c + 4] for r in range(5) for c in range(5)]
        assert any(torch.equal(out[b], w) for w in windows)


def test_flip_flips_about_half_and_is_seeded():
    x = torch.randn(400, 3, 2, 2)
    out = horizontal_flip(x, torch.Generator().manual_seed(1))
    flipped = (out == x.flip(3)).flatten(1).all(1) & ~(out == x).flatten(1).all(1)
    kept = (out == x).flatten(1).all(1)
    assert torch.all(flipped | kept) and 150 < int(flipped.sum()) < 250
    again = horizontal_flip(x, torch.Generator().manual_seed(1))
    assert torch.equal(out, again)


def test_augmenter_is_none_without_augmentations_and_applies_them_in_order():
    assert augmenter((), torch.Generator()) is None
    apply = augmenter((Augmentation.RANDOM_CROP, Augmentation.HORIZONTAL_FLIP),
                      torch.Generator().manual_seed(0))
    assert apply(torch.randn(8, 3, 32, 32)).shape == (8, 3, 32, 32)
