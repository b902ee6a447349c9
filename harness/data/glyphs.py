"""Glyph images: characters rendered from the TrueType fonts that matplotlib ships.

Each sample draws a random font family, size, stroke weight, rotation and translation; the glyph
is rendered at `SUPERSAMPLE` times the output size and box-downsampled (antialiasing), then
coloured by `compositing.paint`. The fonts come from `matplotlib.get_data_path()/fonts/ttf`, so no
download is needed and every machine with the pinned matplotlib renders the same glyphs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from harness.data.compositing import paint

IMAGE_SIZE_PX = 32
SUPERSAMPLE = 3

# A fixed, sorted list of families with distinct letterforms (sans, serif, mono, STIX's
# Times-like serif; regular, bold, slanted). Changing it changes the data, hence the version.
FONT_FILES: tuple[str, ...] = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
)

DEFAULT_PARAMS: dict[str, Any] = {
    "fonts": list(FONT_FILES),
    "em_px": [15.0, 24.0],  # font size (em) in output pixels
    "max_rotation_deg": 20.0,
    "max_shift_px": 4.0,
    "max_stroke_px": 1.0,  # extra stroke around the outline: weight as a nuisance
    "min_contrast": 0.3,
    "noise_std": 0.05,
}


def font_dir() -> Path:
    """The folder of TrueType fonts bundled with matplotlib (imported here, not at module load:
    loading a suite must not import matplotlib, which the site build otherwise never needs)."""
    import matplotlib
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.lru_cache(maxsize=1024)
def _font(file_name: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_dir() / file_name), size_px)


def render_glyphs(
    rng: np.random.Generator, labels: np.ndarray, params: Mapping[str, Any]
) -> np.ndarray:
    """uint8 images (N, 3, 32, 32) of the characters `params["chars"][label]`.

    `params` holds `chars` (one character per class) and the keys of `DEFAULT_PARAMS`.
    """
    chars: list[str] = list(params["chars"])
    fonts: list[str] = list(params["fonts"])
    num_images = len(labels)
    font_index = rng.integers(len(fonts), size=num_images)
    em_lo, em_hi = params["em_px"]
    em_px = np.rint(rng.uniform(em_lo, em_hi, num_images) * SUPERSAMPLE).astype(int)
    angle_deg = rng.uniform(-1.0, 1.0, num_images) * params["max_rotation_deg"]
    shift_px = rng.uniform(-1.0, 1.0, (num_images, 2)) * params["max_shift_px"]
    stroke_px = rng.integers(0, round(params["max_stroke_px"] * SUPERSAMPLE) + 1, num_images)
    masks = np.empty((num_images, IMAGE_SIZE_PX, IMAGE_SIZE_PX), dtype=np.float32)
    for i, label in enumerate(labels):
        font = _font(fonts[font_index[i]], int(em_px[i]))
        masks[i] = _glyph_mask(
            chars[label], font, float(angle_deg[i]), shift_px[i], int(stroke_px[i])
        )
    return paint(rng, masks, params["min_contrast"], params["noise_std"])


def _glyph_mask(
    char: str,
    font: ImageFont.FreeTypeFont,
    angle_deg: float,
    shift_px: np.ndarray,
    stroke_px: int,
) -> np.ndarray:
    """Coverage in [0, 1] of one glyph whose ink is centred, then rotated and shifted."""
    canvas_px = IMAGE_SIZE_PX * SUPERSAMPLE
    canvas = Image.new("L", (canvas_px, canvas_px), 0)
    draw = ImageDraw.Draw(canvas)
    # Centre the ink box, not the advance box: digits and capitals sit above the baseline.
    left, top, right, bottom = draw.textbbox((0, 0), char, font=font, stroke_width=stroke_px)
    origin = ((canvas_px - left - right) / 2, (canvas_px - top - bottom) / 2)
    draw.text(origin, char, fill=255, font=font, stroke_width=stroke_px, stroke_fill=255)
    translate = (float(shift_px[0]) * SUPERSAMPLE, float(shift_px[1]) * SUPERSAMPLE)
    canvas = canvas.rotate(angle_deg, resample=Image.Resampling.BILINEAR, translate=translate)
    small = canvas.reduce(SUPERSAMPLE)
    return np.asarray(small, dtype=np.float32) / 255.0
