"""What every figure of the site shares: the colour palette, the colour map, and the way
matplotlib figures are made and written.

Most figures are written directly as SVG (`leaderboard.svg`); the time-to-result and NEVIS
figures are drawn with matplotlib's object API on their own Agg canvas (no pyplot, no backend
switch, no rcParams change), so drawing one cannot affect the caller's matplotlib.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The Okabe–Ito palette: distinguishable under the common colour-vision deficiencies."""

CIVIDIS = ("#00224e", "#00285b", "#002e6a", "#053371", "#1a386f", "#273e6e", "#32436d",
           "#3b496c", "#434e6c", "#4b546c", "#535a6d", "#5a5f6e", "#61656f", "#686a71",
           "#6f7073", "#767676", "#7d7c78", "#848279", "#8c8878", "#938e78", "#9b9476",
           "#a39a74", "#aba072", "#b4a76f", "#bcae6c", "#c4b468", "#cdbb63", "#d5c25e",
           "#dec958", "#e7d150", "#f0d846", "#f9e03a", "#fee838")
"""matplotlib's ``cividis`` at 33 evenly spaced points: a colour map designed to be read the
same with and without colour-vision deficiency, dark at 0 and light at 1. Between the points
it is interpolated linearly (`cividis`), within 6 of 255 levels of the full map."""


def cividis(fraction: float) -> str:
    """The colour of ``cividis`` at `fraction` (clipped to [0, 1]), as ``#rrggbb``."""
    position = min(1.0, max(0.0, fraction)) * (len(CIVIDIS) - 1)
    index = min(int(position), len(CIVIDIS) - 2)
    weight = position - index
    low, high = (bytes.fromhex(CIVIDIS[i][1:]) for i in (index, index + 1))
    return "#" + "".join(f"{round(a + (b - a) * weight):02x}" for a, b in zip(low, high,
                                                                             strict=True))


def new_figure(width_in: float, height_in: float) -> Figure:
    """A constrained-layout matplotlib figure on its own Agg canvas."""
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


_SVG_RC = {"svg.hashsalt": "harness-leaderboard", "svg.fonttype": "none"}
"""Fixed element ids; text kept as text (in the reader's font, like the directly written
figures) rather than converted to glyph outlines, which was most of the writing time."""


def matplotlib_svg(figure: Figure, *, title: str, description: str) -> str:
    """`figure` as SVG text without a date: the same figure always gives the same bytes."""
    out = io.StringIO()
    with matplotlib.rc_context(_SVG_RC):
        figure.savefig(out, format="svg",
                       metadata={"Date": None, "Title": title, "Description": description})
    return out.getvalue()
