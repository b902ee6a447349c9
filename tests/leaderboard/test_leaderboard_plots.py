import math

import matplotlib
import pytest
from matplotlib.figure import Figure

from leaderboard import plots


@pytest.fixture
def unchanged_matplotlib():
    before = (matplotlib.get_backend(), dict(matplotlib.rcParams))
    yield
    assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before


def test_interval_estimates_draw_one_row_per_method(unchanged_matplotlib):
    figure = plots.plot_interval_estimates(
        ["joint", "replay", "finetune"], [0.95, 0.8, 0.7], [0.94, 0.78, math.nan],
        [0.96, 0.82, math.nan], ["reference", "best", "untestable"],
        metric_label="Final average accuracy",
    )
    assert isinstance(figure, Figure)
    (axes,) = figure.axes
    by_height = sorted(zip(axes.get_yticks(), axes.get_yticklabels(), strict=True), reverse=True)
    assert [label.get_text() for _, label in by_height] == ["joint", "replay", "finetune"]
    assert axes.get_xlabel() == "Final average accuracy"
    # two intervals (the single-seed method has none) and three points
    assert len(axes.collections) == 2 and len(axes.lines) == 3
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["best", "cannot be tested (too few seeds)", "upper bound, not continual"]


def test_status_colours_are_from_the_okabe_ito_palette():
    palette = set(plots.OKABE_ITO.values())
    assert all(colour in palette for _, colour, _, _ in plots._STATUS_STYLE.values())


def test_accuracy_matrix_heatmap_has_task_axes(unchanged_matplotlib):
    figure = plots.plot_accuracy_matrix([[0.1, 0.1], [0.9, 0.1], [0.7, 0.8]], title="replay")
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["untrained", "after 1", "after 2"]
    assert axes.images[0].get_array().shape == (3, 2)
    assert len(axes.texts) == 6  # every cell annotated
    assert axes.get_title() == "replay"
