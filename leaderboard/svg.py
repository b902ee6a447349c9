"""A small SVG writer for the site's figures: shapes and text in pixels, written as text.

The site's figures are intervals, dots, heatmap cells, lines, shaded bands and labels.
Drawing them through matplotlib cost about half a second per figure (text layout and glyph
conversion dominate), so a site with a few dozen figures took tens of seconds to build;
writing the same elements directly takes about a millisecond. `Canvas` keeps the elements in
drawing order and `Canvas.svg` writes them with fixed rounding and no ids, dates or
randomness: the same figure always gives the same bytes.

Coordinates are pixels with y pointing down. Text uses the reader's sans-serif font (no font is
embedded or fetched), so text widths are estimates (`text_width`) and layouts leave a margin.
Elements can carry a ``class`` and ``data-*`` attributes, which tests read back.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
FONT_SIZE = 13.0
"""Default text size in pixels (10 pt, matplotlib's default)."""

DASHES = {"-": None, "--": "6,3", "-.": "6,3,1.5,3", ":": "1.5,3"}
"""Line styles by matplotlib's names, as ``stroke-dasharray`` values."""

# Advance widths in em of DejaVu Sans-like fonts, by character class; anything else is 0.62.
_NARROW = set("ijlI.,:;'!|()[]{} ")
_WIDE = set("mwMW@%")
_DIGITS = set("0123456789")


def _plus(arm: float) -> list[tuple[float, float]]:
    """The corners of a filled plus sign of half-width `arm`, reaching ±1 from its centre."""
    quarter = [(-arm, -1.0), (arm, -1.0), (arm, -arm)]
    corners = []
    for _ in range(4):  # the same three corners, turned by a quarter each time
        corners += quarter
        quarter = [(-dy, dx) for dx, dy in quarter]
    return corners


def _star(points: int, inner: float) -> list[tuple[float, float]]:
    """The corners of a star of `points` points (outer radius 1.2, tip up)."""
    return [((1.2 if k % 2 == 0 else inner) * math.sin(math.pi * k / points),
             -(1.2 if k % 2 == 0 else inner) * math.cos(math.pi * k / points))
            for k in range(2 * points)]


_CORNERS = {
    "D": [(0, -1.2), (1, 0), (0, 1.2), (-1, 0)],
    "^": [(0, -1.1), (1, 0.8), (-1, 0.8)],
    "v": [(0, 1.1), (1, -0.8), (-1, -0.8)],
    "P": _plus(0.35),
    # the plus turned by 45°, stretched so that it is as wide as the plus
    "X": [((dx - dy) * 0.8, (dx + dy) * 0.8) for dx, dy in _plus(0.3)],
    "*": _star(5, 0.5),
}
"""Marker outlines drawn as polygons, in units of half the marker's size (y down)."""


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of the width of `text` in pixels at font size `size` (generous, so that
    layouts built on it do not clip)."""
    em = 0.0
    for char in text:
        if char in _NARROW:
            em += 0.33
        elif char in _WIDE:
            em += 0.92
        elif char in _DIGITS or char.islower():
            em += 0.62
        else:
            em += 0.72
    return em * size


def fmt(value: float) -> str:
    """A coordinate as written: two decimals at most, no trailing zeros, no "-0"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attributes(attrs: dict[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = fmt(value)
        parts.append(f' {key.replace("_", "-")}="{html.escape(str(value), quote=True)}"')
    return "".join(parts)


class Canvas:
    """An SVG drawing of `width` × `height` pixels; elements are written in the order added.

    `height` may be set once the layout is known (figures grow downwards as they are drawn).
    """

    def __init__(self, width: float, height: float = 0.0) -> None:
        self.width = width
        self.height = height
        self._parts: list[str] = []

    def element(self, tag: str, content: str | None = None, **attrs: object) -> None:
        """Any element; attribute names use ``_`` for ``-`` (``stroke_width``)."""
        attributes = _attributes(attrs)
        if content is None:
            self._parts.append(f"<{tag}{attributes}/>")
        else:
            self._parts.append(f"<{tag}{attributes}>{html.escape(content, quote=False)}</{tag}>")

    @contextmanager
    def group(self, cls: str, **data: object) -> Iterator[None]:
        """A ``<g class=cls>`` around what is drawn inside; `data` become ``data-*``
        attributes (``method="replay"`` → ``data-method="replay"``)."""
        attributes = {"class": cls, **{f"data-{key}": value for key, value in data.items()}}
        self._parts.append(f"<g{_attributes(attributes)}>")
        yield
        self._parts.append("</g>")

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str, *,
             width: float = 1.0, style: str = "-", opacity: float | None = None,
             cls: str | None = None) -> None:
        self.element("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2),
                     stroke=colour, stroke_width=float(width),
                     stroke_dasharray=DASHES[style], stroke_opacity=opacity, **{"class": cls})

    def polyline(self, points: Sequence[tuple[float, float]], colour: str, *,
                 width: float = 1.0, style: str = "-", opacity: float | None = None,
                 cls: str | None = None) -> None:
        self.element("polyline", points=" ".join(f"{fmt(x)},{fmt(y)}" for x, y in points),
                     fill="none", stroke=colour, stroke_width=float(width),
                     stroke_dasharray=DASHES[style], stroke_opacity=opacity,
                     stroke_linejoin="round", **{"class": cls})

    def polygon(self, points: Sequence[tuple[float, float]], fill: str, *,
                opacity: float | None = None, cls: str | None = None) -> None:
        self.element("polygon", points=" ".join(f"{fmt(x)},{fmt(y)}" for x, y in points),
                     fill=fill, fill_opacity=opacity, **{"class": cls})

    def rect(self, x: float, y: float, width: float, height: float, fill: str, *,
             stroke: str | None = None, opacity: float | None = None,
             cls: str | None = None) -> None:
        self.element("rect", x=float(x), y=float(y), width=float(width), height=float(height),
                     fill=fill, fill_opacity=opacity, stroke=stroke, **{"class": cls})

    def marker(self, shape: str, x: float, y: float, colour: str, *, size: float = 8.0,
               filled: bool = True, edge: str | None = None, opacity: float | None = None,
               cls: str | None = None) -> None:
        """A point marker of matplotlib's `shape` ("o", "s", "D", "^", "v", "P", "X", "*",
        "x", "|") centred on (x, y), `size` pixels across; hollow ones are white inside. A
        point at a missing (non-finite) position is not drawn."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        r = size / 2
        paint = {"fill": colour if filled else "white", "stroke": edge or colour,
                 "stroke_width": 1.5, "fill_opacity": opacity, "class": cls}
        if shape == "o":
            self.element("circle", cx=float(x), cy=float(y), r=float(r), **paint)
        elif shape == "s":
            self.element("rect", x=x - r, y=y - r, width=float(size), height=float(size),
                         **paint)
        elif shape in _CORNERS:
            self.element("polygon", points=" ".join(f"{fmt(x + r * dx)},{fmt(y + r * dy)}"
                                                    for dx, dy in _CORNERS[shape]), **paint)
        elif shape in ("x", "|"):
            strokes = [(-r, -r, r, r), (-r, r, r, -r)] if shape == "x" else [(0, -r, 0, r)]
            for dx1, dy1, dx2, dy2 in strokes:
                self.line(x + dx1, y + dy1, x + dx2, y + dy2, colour, width=2.0, cls=cls)
        else:
            raise ValueError(f"unknown marker shape {shape!r}")

    def text(self, x: float, y: float, content: str, *, size: float = FONT_SIZE,
             anchor: str = "start", valign: str = "middle", weight: str | None = None,
             colour: str | None = None, rotate: float | None = None,
             cls: str | None = None) -> None:
        """`content` at (x, y): `anchor` "start", "middle" or "end" horizontally, `valign`
        "top", "middle" or "baseline" vertically (placed by offsets, which every renderer
        honours); `rotate` degrees about (x, y), counter-clockwise for negative values."""
        shift = {"top": 0.8, "middle": 0.35, "baseline": 0.0}[valign] * size
        transform = f"rotate({fmt(rotate)} {fmt(x)} {fmt(y)})" if rotate else None
        self.element("text", content, x=float(x), y=float(y + shift),
                     font_size=float(size) if size != FONT_SIZE else None,
                     text_anchor=anchor if anchor != "start" else None, font_weight=weight,
                     fill=colour, transform=transform, **{"class": cls})

    def raw(self, markup: str) -> None:
        """Markup written as given (gradients and other definitions)."""
        self._parts.append(markup)

    def svg(self, *, title: str = "", description: str = "") -> str:
        """The whole document: `title` and `description` (the figure's caption and alt text)
        become its ``<title>`` and ``<desc>``."""
        width, height = math.ceil(self.width), math.ceil(self.height)
        head = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" '
            f'font-family="{FONT_FAMILY}" font-size="{fmt(FONT_SIZE)}">',
        ]
        if title:
            head.append(f"<title>{html.escape(title, quote=False)}</title>")
        if description:
            head.append(f"<desc>{html.escape(description, quote=False)}</desc>")
        head.append('<rect width="100%" height="100%" fill="white"/>')
        return "\n".join([*head, *self._parts, "</svg>"]) + "\n"
