"""What every figure of the site shares: the colour palette and the figure factory.

Figures are made with the object API on their own Agg canvas (no pyplot, no backend switch, no
rcParams change), so drawing one cannot affect the caller's matplotlib.
"""

from __future__ import annotations

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


def new_figure(width_in: float, height_in: float) -> Figure:
    """A constrained-layout figure on its own Agg canvas."""
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    return figure
