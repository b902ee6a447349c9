"""Data augmentation on whole batches, on the device, with an explicit generator.

What the Split-CIFAR literature uses (random crop with 4-pixel zero padding, horizontal flip),
done as tensor ops on a batch — no per-sample Python. Random draws come from the harness's
generator, so augmentation is identical for every method at a given seed.
"""

from __future__ import annotations

import enum

import torch


class Augmentation(enum.Enum):
    # Pad 4 and crop back at a random offset. Batches are already normalized, so the padding
    # is the dataset's mean colour (0 after normalization), not black.
    RANDOM_CROP = "random_crop"
    HORIZONTAL_FLIP = "horizontal_flip"  # flip half of the images


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Crop each image of (B, C, H, W) at a random offset of its zero-padded copy."""
    batch, _, height, width = x.shape
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    offsets = torch.randint(0, 2 * padding + 1, (2, batch), generator=generator).to(x.device)
    rows = offsets[0, :, None] + torch.arange(height, device=x.device)  # (B, H)
    cols = offsets[1, :, None] + torch.arange(width, device=x.device)   # (B, W)
    index_b = torch.arange(batch, device=x.device)[:, None, None]
    gathered = padded.permute(0, 2, 3, 1)[index_b, rows[:, :, None], cols[:, None, :]]
    return gathered.permute(0, 3, 1, 2).contiguous()


def horizontal_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip a random half (in expectation) of the images left-right."""
    flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def augmenter(names: tuple[Augmentation, ...], generator: torch.Generator):
    """A batch function applying `names` in order, or None when there are none."""
    if not names:
        return None

    def apply(x: torch.Tensor) -> torch.Tensor:
        for name in names:
            if name is Augmentation.RANDOM_CROP:
                x = random_crop(x, 4, generator)
            elif name is Augmentation.HORIZONTAL_FLIP:
                x = horizontal_flip(x, generator)
        return x

    return apply
