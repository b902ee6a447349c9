"""Turning coverage masks into coloured, noisy uint8 images (shared by the procedural generators).

Generators draw only *what* is in the image as a float mask in [0, 1] of shape (N, H, W); this
module paints it with a foreground and a background colour whose luminance differs enough for the
content to stay visible, adds mild pixel noise, and returns uint8 (N, 3, H, W) arrays (CHW, what
torch wants). Colour and noise are nuisances, never the class.
"""

from __future__ import annotations

import numpy as np

# ITU-R BT.601 luma weights: contrast is judged on perceived brightness, not on RGB distance.
_LUMA = np.array([0.299, 0.587, 0.114])


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Luma of colours in [0, 1]; `rgb` has shape (..., 3)."""
    return rgb @ _LUMA


def contrasting_colours(
    rng: np.random.Generator, num_images: int, min_contrast: float
) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background colours, each (num_images, 3) in [0, 1].

    Pairs are drawn uniformly in RGB and redrawn until their luminances differ by at least
    `min_contrast`, so either polarity (dark on light, light on dark) occurs.
    """
    if not 0.0 <= min_contrast < 0.9:
        raise ValueError(f"min_contrast must be in [0, 0.9), got {min_contrast}")
    fg = rng.random((num_images, 3))
    bg = rng.random((num_images, 3))
    redraw = np.abs(luminance(fg) - luminance(bg)) < min_contrast
    while redraw.any():
        count = int(redraw.sum())
        fg[redraw] = rng.random((count, 3))
        bg[redraw] = rng.random((count, 3))
        redraw = np.abs(luminance(fg) - luminance(bg)) < min_contrast
    return fg, bg


def paint(
    rng: np.random.Generator,
    masks: np.ndarray,
    min_contrast: float,
    noise_std: float,
) -> np.ndarray:
    """Colour masks (N, H, W) in [0, 1] and add Gaussian noise; returns uint8 (N, 3, H, W).

    `noise_std` is in [0, 1] intensity units (0.04 is about 10 grey levels).
    """
    if masks.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {masks.shape}")
    fg, bg = contrasting_colours(rng, masks.shape[0], min_contrast)
    # float32 throughout: half the memory traffic of float64, and the result is 8-bit anyway.
    alpha = masks[:, None, :, :].astype(np.float32)
    images = rng.standard_normal(size=alpha.shape[:1] + (3,) + alpha.shape[2:], dtype=np.float32)
    images *= np.float32(noise_std * 255.0)
    images += bg[:, :, None, None].astype(np.float32) * 255.0 * (1.0 - alpha)
    images += fg[:, :, None, None].astype(np.float32) * 255.0 * alpha
    np.rint(images, out=images)
    np.clip(images, 0, 255, out=images)
    return images.astype(np.uint8)
