"""Procedural task generators of the NEVIS-like embedded stream (`suites/nevis-mini.toml`).

Each generator has the signature of `harness.data.procedural.Generator` — (rng, labels, params)
→ uint8 (N, 3, 32, 32) — so a stream task becomes an ordinary `ProceduralSpec` and is cached,
versioned and fingerprinted by `harness.data.cache` like every other procedural dataset (this
module's source is hashed into the version: editing a generator rebuilds its tasks).

Besides the glyphs, shapes and textures of `harness.data`, the stream needs task *kinds* those
do not cover: counting, orientation, colour, symmetry, noise level and a fine-grained font
classification. Their nuisances (position, size, colours, noise) are drawn per sample; only the
property a task is about is the class. `GENERATORS` maps a suite's `generator = "..."` to the
function, its default parameters, and how class names follow from the parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.data import glyphs, shapes, textures
from harness.data.compositing import paint

SIZE_PX = 32
_YY, _XX = np.mgrid[0:SIZE_PX, 0:SIZE_PX].astype(np.float32) + 0.5

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.1, 0.1), "green": (0.1, 0.7, 0.2), "blue": (0.15, 0.25, 0.9),
    "yellow": (0.95, 0.85, 0.1), "cyan": (0.1, 0.8, 0.85), "magenta": (0.8, 0.15, 0.75),
    "orange": (0.95, 0.5, 0.05), "purple": (0.45, 0.15, 0.6), "brown": (0.5, 0.3, 0.1),
    "pink": (0.98, 0.6, 0.7), "grey": (0.5, 0.5, 0.5), "olive": (0.5, 0.5, 0.1),
}
SYMMETRIES = ("none", "mirror-lr", "mirror-ud", "rotation-180", "rotation-90", "mirror-both")


def render_counting(rng: np.random.Generator, labels: np.ndarray,
                    params: Mapping[str, Any]) -> np.ndarray:
    """`counts[label]` discs of random radius at random, mostly non-overlapping positions."""
    counts = np.asarray(params["counts"], dtype=int)[labels]
    lo, hi = params["radius_px"]
    masks = np.zeros((len(labels), SIZE_PX, SIZE_PX), np.float32)
    for i, count in enumerate(counts):
        centres: list[tuple[float, float, float]] = []
        for _ in range(200):  # rejection sampling; dense counts may touch after 200 tries
            if len(centres) == count:
                break
            r = rng.uniform(lo, hi)
            y, x = rng.uniform(r + 1, SIZE_PX - r - 1, 2)
            if all((y - cy) ** 2 + (x - cx) ** 2 > (r + cr + 1) ** 2 for cy, cx, cr in centres):
                centres.append((y, x, r))
        while len(centres) < count:  # give up on spacing, never on the count
            r = lo
            centres.append((*rng.uniform(r + 1, SIZE_PX - r - 1, 2), r))
        for y, x, r in centres:
            disc = np.clip(r - np.hypot(_YY - y, _XX - x) + 0.5, 0.0, 1.0)
            np.maximum(masks[i], disc, out=masks[i])
    return paint(rng, masks, params["min_contrast"], params["noise_std"])


def render_orientation(rng: np.random.Generator, labels: np.ndarray,
                       params: Mapping[str, Any]) -> np.ndarray:
    """A bar through a random point at angle `label × 180° / num_angles` (± jitter)."""
    n = len(labels)
    step = 180.0 / params["num_angles"]
    angle = np.deg2rad(labels * step + rng.uniform(-1, 1, n) * params["jitter_deg"])
    centre = SIZE_PX / 2 + rng.uniform(-1, 1, (n, 2)) * params["max_shift_px"]
    half_len = rng.uniform(*params["half_length_px"], n)
    half_width = rng.uniform(*params["half_width_px"], n)
    dy, dx = _YY[None] - centre[:, 0, None, None], _XX[None] - centre[:, 1, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    along, across = dx * cos - dy * sin, dx * sin + dy * cos
    masks = (np.clip(half_width[:, None, None] - np.abs(across) + 0.5, 0, 1)
             * np.clip(half_len[:, None, None] - np.abs(along) + 0.5, 0, 1))
    return paint(rng, masks.astype(np.float32), params["min_contrast"], params["noise_std"])


def render_colour(rng: np.random.Generator, labels: np.ndarray,
                  params: Mapping[str, Any]) -> np.ndarray:
    """A disc or square of the class colour (± jitter) on a random grey background."""
    n = len(labels)
    rgb = np.array([COLOURS[c] for c in params["colours"]], np.float32)[labels]
    rgb = np.clip(rgb + rng.normal(0, params["colour_jitter"], (n, 3)), 0, 1)
    radius = rng.uniform(6, 12, n)
    centre = SIZE_PX / 2 + rng.uniform(-1, 1, (n, 2)) * 5
    dy, dx = _YY[None] - centre[:, 0, None, None], _XX[None] - centre[:, 1, None, None]
    square = rng.random(n) < 0.5
    distance = np.where(square[:, None, None], np.maximum(np.abs(dy), np.abs(dx)),
                        np.hypot(dy, dx))
    alpha = np.clip(radius[:, None, None] - distance + 0.5, 0, 1)[:, None]
    grey = rng.uniform(0.1, 0.9, n)[:, None, None, None]
    images = grey * (1 - alpha) + rgb[:, :, None, None] * alpha
    images = images + rng.normal(0, params["noise_std"], images.shape)
    return np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)


def _blob_field(rng: np.random.Generator, n: int, half: int) -> np.ndarray:
    """Smooth random binary patterns (n, half, half): low-pass noise, thresholded at 0."""
    coarse = rng.standard_normal((n, half // 4 + 1, half // 4 + 1)).astype(np.float32)
    field = coarse.repeat(4, axis=1).repeat(4, axis=2)[:, :half, :half]
    field = (field + np.roll(field, 1, 1) + np.roll(field, 1, 2) + np.roll(field, (1, 1), (1, 2)))
    return (field > 0).astype(np.float32)


def render_symmetry(rng: np.random.Generator, labels: np.ndarray,
                    params: Mapping[str, Any]) -> np.ndarray:
    """A random 24×24 pattern made symmetric as `symmetries[label]` says ("none": as drawn)."""
    side = 24
    kinds = [params["symmetries"][label] for label in labels]
    patterns = _blob_field(rng, len(labels), side)
    out = np.zeros((len(labels), SIZE_PX, SIZE_PX), np.float32)
    for i, kind in enumerate(kinds):
        p = patterns[i]
        if kind == "mirror-lr":
            p = np.concatenate([p[:, : side // 2], p[:, : side // 2][:, ::-1]], axis=1)
        elif kind == "mirror-ud":
            p = np.concatenate([p[: side // 2], p[: side // 2][::-1]], axis=0)
        elif kind == "rotation-180":
            p = np.concatenate([p[: side // 2], p[: side // 2][::-1, ::-1]], axis=0)
        elif kind == "rotation-90":
            q = p[: side // 2, : side // 2]
            p = np.block([[q, np.rot90(q, -1)], [np.rot90(q, 1), np.rot90(q, 2)]])
        elif kind == "mirror-both":
            q = p[: side // 2, : side // 2]
            p = np.block([[q, q[:, ::-1]], [q[::-1], q[::-1, ::-1]]])
        off = (SIZE_PX - side) // 2
        out[i, off:off + side, off:off + side] = p
    return paint(rng, out, params["min_contrast"], params["noise_std"])


def render_noise_level(rng: np.random.Generator, labels: np.ndarray,
                       params: Mapping[str, Any]) -> np.ndarray:
    """A random texture with Gaussian pixel noise of standard deviation `levels[label]`."""
    n = len(labels)
    names = list(textures.TEXTURE_NAMES)
    base = textures.render_textures(
        rng, rng.integers(len(names), size=n),
        {**textures.DEFAULT_PARAMS, "textures": names, "noise_std": 0.0}).astype(np.float32)
    sigma = np.asarray(params["levels"], np.float32)[labels] * 255.0
    noisy = base + rng.standard_normal(base.shape, dtype=np.float32) * sigma[:, None, None, None]
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def render_fonts(rng: np.random.Generator, labels: np.ndarray,
                 params: Mapping[str, Any]) -> np.ndarray:
    """Fine-grained OCR: a random character of `chars` in the font `fonts[label]` (the font
    family is the class, the character a nuisance)."""
    chars, fonts = list(params["chars"]), list(params["fonts"])
    n = len(labels)
    char_index = rng.integers(len(chars), size=n)
    em_lo, em_hi = params["em_px"]
    em_px = np.rint(rng.uniform(em_lo, em_hi, n) * glyphs.SUPERSAMPLE).astype(int)
    angle_deg = rng.uniform(-1.0, 1.0, n) * params["max_rotation_deg"]
    shift_px = rng.uniform(-1.0, 1.0, (n, 2)) * params["max_shift_px"]
    masks = np.empty((n, SIZE_PX, SIZE_PX), dtype=np.float32)
    for i, label in enumerate(labels):
        font = glyphs._font(fonts[label], int(em_px[i]))
        masks[i] = glyphs._glyph_mask(chars[char_index[i]], font, float(angle_deg[i]),
                                      shift_px[i], 0)
    return paint(rng, masks, params["min_contrast"], params["noise_std"])


@dataclass(frozen=True)
class GeneratorKind:
    """A generator a stream task can name: the function, its defaults, its class names."""

    render: Callable[[np.random.Generator, np.ndarray, Mapping[str, Any]], np.ndarray]
    defaults: Mapping[str, Any]
    class_names: Callable[[Mapping[str, Any]], tuple[str, ...]]


_NUISANCE = {"min_contrast": 0.3, "noise_std": 0.05}
GENERATORS: dict[str, GeneratorKind] = {
    "glyphs": GeneratorKind(glyphs.render_glyphs, glyphs.DEFAULT_PARAMS,
                            lambda p: tuple(p["chars"])),
    "fonts": GeneratorKind(render_fonts, {**glyphs.DEFAULT_PARAMS, "chars": "ABCDEFGH"},
                           lambda p: tuple(p["fonts"])),
    "shapes": GeneratorKind(shapes.render_shapes, shapes.DEFAULT_PARAMS,
                            lambda p: tuple(p["shapes"])),
    "textures": GeneratorKind(textures.render_textures, textures.DEFAULT_PARAMS,
                              lambda p: tuple(p["textures"])),
    "counting": GeneratorKind(render_counting, {**_NUISANCE, "radius_px": [1.5, 3.0]},
                              lambda p: tuple(str(c) for c in p["counts"])),
    "orientation": GeneratorKind(
        render_orientation, {**_NUISANCE, "jitter_deg": 4.0, "max_shift_px": 5.0,
                             "half_length_px": [8.0, 13.0], "half_width_px": [1.0, 2.5]},
        lambda p: tuple(f"{i * 180 / p['num_angles']:g}deg" for i in range(p["num_angles"]))),
    "colour": GeneratorKind(render_colour, {"colour_jitter": 0.05, "noise_std": 0.04},
                            lambda p: tuple(p["colours"])),
    "symmetry": GeneratorKind(render_symmetry, {**_NUISANCE, "symmetries": list(SYMMETRIES)},
                              lambda p: tuple(p["symmetries"])),
    "noise-level": GeneratorKind(render_noise_level, {}, lambda p: tuple(
        f"sigma={level:g}" for level in p["levels"])),
}
