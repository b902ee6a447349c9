"""Data augmentation on whole batches, on the device, with an explicit generator.

What the Split-CIFAR literature uses (random crop with 4-pixel zero padding, horizontal flip),
done as tensor ops on a batch — no per-sample Python. Random draws come from the harness's
generator, so augmentation is identical for every method at a given seed.

The *alternating* flip is the derandomized flip of airbench (Jordan, "94% on CIFAR-10 in 3.29
Seconds on a Single GPU", 2024): each image is flipped on every other epoch, and which half of
the epochs (even or odd) is drawn once per image per task. Over any two consecutive epochs every
image is seen once as is and once mirrored, where a random flip shows half of them the same
way both times. The paper finds it better than the random flip wherever flipping helps at all.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import torch


class Augmentation(enum.Enum):
    # Pad 4 and crop back at a random offset. Batches are already normalized, so the padding
    # is the dataset's mean colour (0 after normalization), not black.
    RANDOM_CROP = "random_crop"
    HORIZONTAL_FLIP = "horizontal_flip"  # flip half of the images
    ALTERNATING_FLIP = "alternating_flip"  # flip each image on every other epoch (airbench)


# apply(x, index, epoch): `index` (B,) holds the task-level sample indices of the batch and
# `epoch` its epoch; only the alternating flip needs them.
BatchAugmenter = Callable[..., torch.Tensor]


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


def draw_flip_parity(num_samples: int, generator: torch.Generator) -> torch.Tensor:
    """Bool (num_samples,): True for the images flipped on even epochs, False for odd ones.

    Drawn once per task (each image a fair coin, as airbench does), on the CPU from the
    harness's generator so the draw is the same on every device.
    """
    return torch.rand(num_samples, generator=generator) < 0.5


def alternating_flip(x: torch.Tensor, epoch: int, flip_parity: torch.Tensor) -> torch.Tensor:
    """Flip image b of (B, C, H, W) left-right iff `flip_parity[b]` XOR `epoch` is odd.

    `flip_parity` is the (B,) bool slice of `draw_flip_parity` for this batch's images, on
    `x.device`. A pure function of (x, epoch, parity): no random draw, no host sync.
    """
    flip = flip_parity ^ bool(epoch % 2)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def augmenter(names: tuple[Augmentation, ...], generator: torch.Generator, *,
              num_samples: int | None = None) -> BatchAugmenter | None:
    """A batch function `apply(x, index=None, epoch=0)` applying `names` in order, or None.

    `num_samples` (the task's size) is needed for the alternating flip: the per-image parity
    is drawn here, before any other draw of `generator`, so adding it never shifts the crops
    of a run that does not use it. Its `apply` then needs the batch's `index` and `epoch`.
    """
    if not names:
        return None
    if {Augmentation.HORIZONTAL_FLIP, Augmentation.ALTERNATING_FLIP} <= set(names):
        raise ValueError("horizontal_flip and alternating_flip are two ways of flipping; "
                         "choose one")
    parity = None
    if Augmentation.ALTERNATING_FLIP in names:
        if num_samples is None:
            raise ValueError("the alternating flip needs the task's num_samples, to draw each "
                             "image's flip parity once per task")
        parity = draw_flip_parity(num_samples, generator)

    def apply(x: torch.Tensor, index: torch.Tensor | None = None, epoch: int = 0) -> torch.Tensor:
        nonlocal parity
        for name in names:
            if name is Augmentation.RANDOM_CROP:
                x = random_crop(x, 4, generator)
            elif name is Augmentation.HORIZONTAL_FLIP:
                x = horizontal_flip(x, generator)
            elif name is Augmentation.ALTERNATING_FLIP:
                if index is None:
                    raise ValueError("the alternating flip needs each batch's sample index "
                                     "and epoch: call apply(x, index, epoch)")
                if parity.device != x.device:  # moved once, on first use
                    parity = parity.to(x.device)
                x = alternating_flip(x, epoch, parity[index.to(x.device)])
        return x

    return apply
