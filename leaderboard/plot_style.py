"""What every figure of the site shares: the colour palette and the colour map.

They are plain colour values, so that the figures, written directly as SVG (`leaderboard.svg`),
need no plotting library.
"""

from __future__ import annotations

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

