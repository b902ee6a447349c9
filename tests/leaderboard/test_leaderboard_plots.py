import math

import pytest
from matplotlib.figure import Figure

from leaderboard import plots


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


def _texts(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts]


def test_critical_difference_diagram_places_methods_and_overlapping_groups(unchanged_matplotlib):
    figure = plots.plot_critical_difference(
        ["A", "B", "C", "D"], [1.0, 2.0, 3.0, 4.0], [["A", "B"], ["B", "C"], ["C", "D"]],
        critical_difference=1.25,
    )
    assert isinstance(figure, Figure)
    axes = figure.axes[0]
    texts = _texts(figure)
    for label in ("A (1.00)", "B (2.00)", "C (3.00)", "D (4.00)", "CD = 1.25"):
        assert label in texts
    # best half on the left of the axis, the rest on the right
    position = {t.get_text(): t.get_position()[0] for t in axes.texts}
    assert position["A (1.00)"] < 1.0 < 4.0 < position["D (4.00)"]
    bars = [c for c in axes.collections if max(c.get_linewidths()) == 3.5]
    spans = sorted(tuple(round(x, 2) for x in c.get_segments()[0][:, 0]) for c in bars)
    assert spans == [(0.96, 2.04), (1.96, 3.04), (2.96, 4.04)]  # three overlapping groups


def test_critical_difference_diagram_greys_groups_when_omnibus_fails(unchanged_matplotlib):
    figure = plots.plot_critical_difference(
        ["x", "y", "z"], [1.5, 1.5, 3.0], [["x", "y", "z"]], greyed=True, note="not significant",
    )
    axes = figure.axes[0]
    (bar,) = [c for c in axes.collections if max(c.get_linewidths()) == 3.5]
    assert bar.get_colors()[0][:3] == pytest.approx((0x9A / 255,) * 3)
    assert bar.get_linestyle()[0][1] is not None  # dashed
    assert "not significant" in _texts(figure)
    assert not any(t.startswith("CD =") for t in _texts(figure))


def test_pvalue_heatmap_marks_significant_pairs(unchanged_matplotlib):
    nan = math.nan
    figure = plots.plot_pvalue_heatmap(
        ["a", "b", "c"], [[nan, 0.0004, 0.2], [0.0004, nan, nan], [0.2, nan, nan]],
        [[False, True, False], [True, False, False], [False, False, False]],
        alpha=0.05, p_label="BH-adjusted p",
    )
    axes = figure.axes[0]
    texts = _texts(figure)
    assert texts.count("<0.001*") == 2 and texts.count("0.200") == 2 and texts.count("—") == 2
    bold = [t.get_text() for t in axes.texts if t.get_fontweight() == "bold"]
    assert bold == ["<0.001*", "<0.001*"]
    assert axes.images[0].get_array().shape == (3, 3)
    assert "α = 0.05" in figure.axes[1].get_ylabel()
