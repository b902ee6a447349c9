"""Textures: gratings at four orientations, checkerboards, dots, rings, waves and two noises.

Images are computed in closed form on a coordinate grid with numpy, a whole batch at a time, at
`SUPERSAMPLE` times the output size and box-downsampled. Per sample the period, phase
(translation), orientation jitter, edge sharpness (sine to square wave), contrast and colours are
drawn at random; only the texture family (and, for gratings, the orientation) is the class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from harness.data.compositing import paint

IMAGE_SIZE_PX = 32
SUPERSAMPLE = 2
_CHUNK = 1024  # images per vectorised batch: bounds memory at ~16 MB per float32 array

# A texture maps rotated coordinates u, v (B, H, W) in output pixels, the period (B, 1, 1) and
# a generator to a wave in [-1, 1] of shape (B, H, W).
Texture = Callable[[np.ndarray, np.ndarray, np.ndarray, np.random.Generator], np.ndarray]

DEFAULT_PARAMS: dict[str, Any] = {
    "period_px": [3.5, 8.0],
    "orientation_jitter_deg": 12.0,
    "sharpness": [0.5, 4.0],  # tanh gain: ~sine at 0.5, ~square wave at 4
    "contrast": [0.45, 1.0],
    "min_contrast": 0.3,
    "noise_std": 0.05,
}


def _grating(u, v, period, rng):
    # Varies along v: the stripes run along u, so "grating-0" has horizontal stripes.
    return np.sin(2 * np.pi * v / period)


def _checkerboard(u, v, period, rng):
    return np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period) * 2.0


def _dots(u, v, period, rng):
    # Distance to the nearest lattice point, in periods; dots cover about a third of the area.
    du = np.mod(u / period, 1.0) - 0.5
    dv = np.mod(v / period, 1.0) - 0.5
    return np.clip((0.32 - np.hypot(du, dv)) * 8.0, -1.0, 1.0)


def _rings(u, v, period, rng):
    return np.sin(2 * np.pi * np.hypot(u, v) / period)


def _waves(u, v, period, rng):
    return np.sin(2 * np.pi * (u + 0.6 * period * np.sin(2 * np.pi * v / (3 * period))) / period)


def _pixel_noise(u, v, period, rng):
    # i.i.d. at the output resolution, so supersampling does not average it away.
    num_images, size = u.shape[0], u.shape[1] // SUPERSAMPLE
    noise = rng.standard_normal((num_images, size, size), dtype=np.float32)
    noise = noise.repeat(SUPERSAMPLE, axis=1).repeat(SUPERSAMPLE, axis=2)
    return np.clip(noise / 1.5, -1.0, 1.0)


def _blobs(u, v, period, rng):
    # White noise low-passed with a Gaussian whose width scales with the period.
    num_images, size = u.shape[0], u.shape[1]
    noise = rng.standard_normal((num_images, size, size))
    freq = np.fft.fftfreq(size)
    radius2 = freq[:, None] ** 2 + freq[None, :] ** 2
    sigma_px = period * SUPERSAMPLE / 4.0
    gain = np.exp(-2 * np.pi**2 * radius2[None] * sigma_px**2)
    smooth = np.fft.ifft2(np.fft.fft2(noise) * gain).real
    smooth /= smooth.std(axis=(1, 2), keepdims=True)
    return np.clip(smooth, -1.0, 1.0)


# name -> (texture, base orientation in degrees, or None for a uniformly random orientation)
TEXTURES: dict[str, tuple[Texture, float | None]] = {
    "grating-0": (_grating, 0.0),
    "grating-45": (_grating, 45.0),
    "grating-90": (_grating, 90.0),
    "grating-135": (_grating, 135.0),
    "checkerboard": (_checkerboard, 0.0),
    "dots": (_dots, None),
    "rings": (_rings, None),
    "waves": (_waves, None),
    "pixel-noise": (_pixel_noise, None),
    "blobs": (_blobs, None),
}
TEXTURE_NAMES: tuple[str, ...] = tuple(TEXTURES)


def render_textures(
    rng: np.random.Generator, labels: np.ndarray, params: Mapping[str, Any]
) -> np.ndarray:
    """uint8 images (N, 3, 32, 32) of the textures `params["textures"][label]`."""
    names: list[str] = list(params["textures"])
    unknown = sorted(set(names) - set(TEXTURES))
    if unknown:
        raise ValueError(f"unknown textures {unknown}; known: {', '.join(TEXTURE_NAMES)}")
    num_images = len(labels)
    period = rng.uniform(*params["period_px"], num_images)
    base_deg = np.array([TEXTURES[name][1] for name in names], dtype=float)[labels]
    jitter_deg = rng.uniform(-1.0, 1.0, num_images) * params["orientation_jitter_deg"]
    angle_deg = np.where(np.isnan(base_deg), rng.uniform(0.0, 180.0, num_images), base_deg)
    angle = np.deg2rad(angle_deg + jitter_deg)
    # A translation of up to half the frame: the phase for periodic textures, the centre for rings.
    shift_px = rng.uniform(-0.5, 0.5, (num_images, 2)) * IMAGE_SIZE_PX
    sharpness = rng.uniform(*params["sharpness"], num_images)
    contrast = rng.uniform(*params["contrast"], num_images)
    masks = np.empty((num_images, IMAGE_SIZE_PX, IMAGE_SIZE_PX), dtype=np.float32)
    for start in range(0, num_images, _CHUNK):
        part = slice(start, start + _CHUNK)
        waves = _render_waves(
            rng, labels[part], names, angle[part], shift_px[part], period[part]
        )
        gain = sharpness[part, None, None]
        waves = np.tanh(gain * waves) / np.tanh(gain)
        masks[part] = 0.5 + 0.5 * contrast[part, None, None] * waves
    return paint(rng, masks, params["min_contrast"], params["noise_std"])


def _render_waves(
    rng: np.random.Generator,
    labels: np.ndarray,
    names: list[str],
    angle: np.ndarray,
    shift_px: np.ndarray,
    period: np.ndarray,
) -> np.ndarray:
    """Waves in [-1, 1] of shape (B, 32, 32), box-downsampled from the supersampled grid."""
    size = IMAGE_SIZE_PX * SUPERSAMPLE
    grid = (np.arange(size, dtype=np.float32) + 0.5) / SUPERSAMPLE - IMAGE_SIZE_PX / 2
    x = grid[None, None, :] - shift_px[:, 0, None, None]
    y = grid[None, :, None] - shift_px[:, 1, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    # y grows downwards in images: rotate by -angle so that u at 45 degrees rises to the right.
    u = x * cos - y * sin
    v = x * sin + y * cos
    waves = np.empty((len(labels), size, size), dtype=np.float32)
    for label in np.unique(labels):
        rows = labels == label
        texture = TEXTURES[names[label]][0]
        waves[rows] = texture(u[rows], v[rows], period[rows, None, None], rng)
    pooled = waves.reshape(len(labels), IMAGE_SIZE_PX, SUPERSAMPLE, IMAGE_SIZE_PX, SUPERSAMPLE)
    return pooled.mean(axis=(2, 4))
