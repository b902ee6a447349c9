"""Geometric shapes: one class per outline, with size, position, rotation and colour as nuisances.

Every class is a polygon (curves are 48-gons) drawn with Pillow at `SUPERSAMPLE` times the output
size and box-downsampled. Half the samples are filled and half are drawn as an outline of random
width: fill style is a nuisance too, so it is chosen to leave the class visible either way (a ring
in outline is two concentric circles, a circle one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from harness.data.compositing import paint

IMAGE_SIZE_PX = 32
SUPERSAMPLE = 4

SHAPE_NAMES: tuple[str, ...] = (
    "circle",
    "ellipse",
    "triangle",
    "square",
    "pentagon",
    "hexagon",
    "star",
    "cross",
    "ring",
    "arrow",
)

DEFAULT_PARAMS: dict[str, Any] = {
    "shapes": list(SHAPE_NAMES),
    "radius_px": [7.0, 13.0],  # circumradius in output pixels
    "ellipse_aspect": [0.35, 0.55],  # minor / major axis
    "ring_hole": [0.5, 0.65],  # inner / outer radius
    "outline_fraction": 0.5,
    "outline_px": [1.0, 2.0],
    "min_contrast": 0.3,
    "noise_std": 0.05,
}


def _regular(num_sides: int) -> np.ndarray:
    angles = np.pi / 2 + 2 * np.pi * np.arange(num_sides) / num_sides
    return np.stack([np.cos(angles), -np.sin(angles)], axis=1)


def _star(num_points: int = 5, inner: float = 0.42) -> np.ndarray:
    radii = np.where(np.arange(2 * num_points) % 2 == 0, 1.0, inner)
    return _regular(2 * num_points) * radii[:, None]


def _cross(half_width: float = 0.3) -> np.ndarray:
    w = half_width
    return np.array(
        [(w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1),
         (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w), (-w, -1)], dtype=float
    )


def _arrow() -> np.ndarray:
    return np.array(
        [(-1, -0.2), (0.2, -0.2), (0.2, -0.6), (1, 0), (0.2, 0.6), (0.2, 0.2), (-1, 0.2)],
        dtype=float,
    )


_FIXED_OUTLINES: dict[str, np.ndarray] = {
    "triangle": _regular(3),
    "square": _regular(4),
    "pentagon": _regular(5),
    "hexagon": _regular(6),
    "star": _star(),
    "cross": _cross(),
    "arrow": _arrow(),
}


def _outlines(shape: str, rng: np.random.Generator, params: Mapping[str, Any]) -> list[np.ndarray]:
    """Unit-size vertex lists (k, 2) of one shape; a ring has two (outer, then hole)."""
    if shape in ("circle", "ring", "ellipse"):
        circle = _regular(48)
        if shape == "ellipse":
            return [circle * np.array([1.0, rng.uniform(*params["ellipse_aspect"])])]
        if shape == "ring":
            return [circle, circle * rng.uniform(*params["ring_hole"])]
        return [circle]
    return [_FIXED_OUTLINES[shape]]


def render_shapes(
    rng: np.random.Generator, labels: np.ndarray, params: Mapping[str, Any]
) -> np.ndarray:
    """uint8 images (N, 3, 32, 32) of the shapes `params["shapes"][label]`."""
    shapes: list[str] = list(params["shapes"])
    unknown = sorted(set(shapes) - set(SHAPE_NAMES))
    if unknown:
        raise ValueError(f"unknown shapes {unknown}; known: {', '.join(SHAPE_NAMES)}")
    num_images = len(labels)
    radius_px = rng.uniform(*params["radius_px"], num_images)
    angle = rng.uniform(0.0, 2 * np.pi, num_images)
    # Keep the whole shape inside the frame, with a one-pixel margin.
    room = IMAGE_SIZE_PX / 2 - radius_px - 1.0
    centre_px = IMAGE_SIZE_PX / 2 + rng.uniform(-1.0, 1.0, (num_images, 2)) * room[:, None]
    outline = rng.random(num_images) < params["outline_fraction"]
    outline_px = rng.uniform(*params["outline_px"], num_images)
    masks = np.empty((num_images, IMAGE_SIZE_PX, IMAGE_SIZE_PX), dtype=np.float32)
    for i, label in enumerate(labels):
        cos, sin = np.cos(angle[i]), np.sin(angle[i])
        rotation = np.array([[cos, sin], [-sin, cos]]) * radius_px[i]
        polygons = [
            (unit @ rotation + centre_px[i]) * SUPERSAMPLE
            for unit in _outlines(shapes[label], rng, params)
        ]
        width = round(outline_px[i] * SUPERSAMPLE) if outline[i] else 0
        masks[i] = _shape_mask(polygons, width)
    return paint(rng, masks, params["min_contrast"], params["noise_std"])


def _shape_mask(polygons: list[np.ndarray], outline_width: int) -> np.ndarray:
    """Coverage in [0, 1]: the first polygon filled minus the others, or all their outlines."""
    canvas_px = IMAGE_SIZE_PX * SUPERSAMPLE
    canvas = Image.new("L", (canvas_px, canvas_px), 0)
    draw = ImageDraw.Draw(canvas)
    for k, polygon in enumerate(polygons):
        points = [tuple(p) for p in polygon.tolist()]
        if outline_width:
            draw.polygon(points, outline=255, width=outline_width)
        else:
            draw.polygon(points, fill=255 if k == 0 else 0)
    return np.asarray(canvas.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0
