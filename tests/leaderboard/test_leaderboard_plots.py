"""The directly written SVG figures: drawn from tiny data and read back as XML."""

import math

import pytest
from matplotlib import colormaps
from matplotlib.colors import to_rgb

from leaderboard import plots
from leaderboard.interval_plots import STATUS_STYLE, jitter
from leaderboard.plot_style import OKABE_ITO, cividis
from leaderboard.svg import Canvas
from leaderboard.svg_axes import LogScale, log_ticks, nice_ticks, post_steps, tick_text


def _texts(root, cls: str | None = None) -> list[str]:
    return [t.text for t in root.iter("text") if cls is None or t.get("class") == cls]


def _y(element) -> float:
    return float(element.get("y"))


def test_svg_document_escapes_text_and_is_the_same_every_time(parse_svg):
    def draw() -> str:
        canvas = Canvas(100, 50)
        with canvas.group("method", method='a<b & "c"'):
            canvas.text(10, 20, 'a<b & "c"')
            canvas.marker("D", 50, 25, OKABE_ITO["blue"], filled=False)
        return canvas.svg(title="caption", description="alt <text>")

    text = draw()
    assert text == draw()
    root = parse_svg(text)
    assert root.get("width") == "100" and root.get("height") == "50"
    assert root.find("title").text == "caption" and root.find("desc").text == "alt <text>"
    (group,) = root.iter("g")
    assert group.get("data-method") == 'a<b & "c"' and _texts(root) == ['a<b & "c"']
    assert "href" not in text  # nothing to fetch


def test_ticks_are_round_values_with_the_decimals_their_step_needs():
    assert nice_ticks(0.29, 0.52) == (0.3, 0.35, 0.4, 0.45, 0.5)
    assert nice_ticks(0.0, 1.02, 4) == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert nice_ticks(1.0, 4.0, 3) == (1.0, 2.0, 3.0, 4.0)
    assert [tick_text(v, 0.25) for v in (0.0, 0.25)] == ["0.00", "0.25"]
    assert tick_text(20.0, 10.0) == "20" and tick_text(0.35, 0.05) == "0.35"


def test_log_axes_tick_powers_of_ten_or_their_round_multiples():
    assert log_ticks(0.9e6, 5.5e6) == [(1e6, "10⁶"), (2e6, "2×10⁶"), (3e6, "3×10⁶"),
                                       (5e6, "5×10⁶")]
    assert [text for _, text in log_ticks(3e3, 2e9)] == ["10⁴", "10⁵", "10⁶", "10⁷", "10⁸",
                                                          "10⁹"]
    assert [text for _, text in log_ticks(1e-3, 1e9)] == ["10⁻³", "10⁰", "10³", "10⁶", "10⁹"]
    assert len(log_ticks(1.1e6, 1.6e6)) >= 3  # a short range still gets ticks
    scale = LogScale(1e6, 1e8, 0.0, 100.0)
    assert (scale(1e6), scale(1e7), scale(1e8)) == pytest.approx((0.0, 50.0, 100.0))
    assert math.isnan(scale(0.0))  # no place on a log axis


def test_post_steps_hold_each_value_until_the_next_x():
    assert post_steps([(0, 1), (1, 1), (2, 3), (4, 3)]) == [(0, 1), (2, 1), (2, 3), (4, 3)]
    assert post_steps([(0, 1), (1, 2)]) == [(0, 1), (1, 1), (1, 2)]
    assert post_steps([(5, 0)]) == [(5, 0)]


def test_every_marker_shape_is_drawn_centred(parse_svg):
    canvas = Canvas(100, 100)
    shapes = ["o", "s", "D", "^", "v", "P", "X", "*"]
    for shape in shapes:
        with canvas.group("marker", shape=shape):
            canvas.marker(shape, 50, 50, OKABE_ITO["blue"], size=10)
    root = parse_svg(canvas)
    for shape in shapes:
        (element,) = root.find(f".//g[@data-shape='{shape}']")
        if element.tag == "polygon":
            xs, ys = zip(*(map(float, p.split(",")) for p in element.get("points").split()),
                         strict=True)
            assert 44 <= min(xs) < 50 < max(xs) <= 56 and 43 <= min(ys) < 50 < max(ys) <= 57
    assert len({root.find(f".//g[@data-shape='{s}']")[0].get("points") for s in shapes}) == \
        len(shapes) - 1  # circle and square have no points; the polygons all differ


def test_cividis_is_matplotlibs_within_a_shade():
    for fraction in (0.0, 0.1, 0.33, 0.5, 0.77, 1.0):
        ours = to_rgb(cividis(fraction))
        theirs = colormaps["cividis"](fraction)[:3]
        assert max(abs(a - b) for a, b in zip(ours, theirs, strict=False)) <= 6 / 255


def test_status_colours_are_from_the_okabe_ito_palette():
    palette = set(OKABE_ITO.values())
    assert all(colour in palette for _, colour, _, _ in STATUS_STYLE.values())
    assert len({(shape, filled) for _, _, shape, filled in STATUS_STYLE.values()}) == \
        len(STATUS_STYLE)  # a shape per status: not by colour alone


def test_interval_estimates_draw_one_row_per_method(parse_svg):
    root = parse_svg(plots.plot_interval_estimates(
        ["joint", "replay", "finetune"], [0.95, 0.8, 0.7], [0.94, 0.78, math.nan],
        [0.96, 0.82, math.nan], ["reference", "best", "untestable"],
        metric_label="Final average accuracy",
    ))
    rows = sorted((_y(t), t.text) for t in root.iter("text") if t.get("class") == "row-label")
    assert [label for _, label in rows] == ["joint", "replay", "finetune"]  # first on top
    assert "Final average accuracy" in _texts(root)
    # two intervals (the single-seed method has none) and three points
    assert len(root.findall(".//*[@class='interval']")) == 2
    assert len(root.findall(".//*[@class='mean']")) == 3
    legend = [t for t in _texts(root) if t in {s[0] for s in STATUS_STYLE.values()}]
    assert legend == ["best", "cannot be tested (too few seeds)", "upper bound, not continual"]


def test_seed_strip_draws_every_seed_beside_the_mean_and_interval(parse_svg):
    seeds = [[0.8, 0.81, 0.79, 0.8, 0.8], [0.5, 0.52], [0.7]]
    root = parse_svg(plots.plot_seed_strip(
        ["replay", "finetune", "single"], seeds, [0.8, 0.51, 0.7], [0.79, 0.4, math.nan],
        [0.81, 0.62, math.nan], ["best", "worse", "untestable"], metric_label="accuracy",
    ))
    for label, values in zip(["replay", "finetune", "single"], seeds, strict=True):
        group = root.find(f".//g[@data-method='{label}']")
        dots = group.findall("circle[@class='seed']")
        assert len(dots) == len(values) == int(group.get("data-seeds"))
        (mean,) = group.findall("*[@class='mean']")
    replay = root.find(".//g[@data-method='replay']").findall("circle[@class='seed']")
    tied = [(float(d.get("cx")), float(d.get("cy"))) for d in replay]
    assert len(set(tied)) == 5  # three seeds at 0.8, spread apart
    xs = sorted(x for x, _ in tied)
    # dots are placed on the value axis: 0.79 … 0.81 spans twice 0.79 … 0.80
    assert (xs[-1] - xs[0]) == pytest.approx(2 * (xs[1] - xs[0]), abs=0.02)
    # the single seed has no interval bar
    assert not root.find(".//g[@data-method='single']").findall("*[@class='interval']")


def test_jitter_is_fixed_and_within_its_spread():
    offsets = jitter(50, 10.0)
    assert offsets == jitter(50, 10.0) and max(map(abs, offsets)) <= 5.0
    assert len(set(offsets)) == 50


def test_accuracy_matrix_heatmap_has_task_axes(parse_svg):
    root = parse_svg(plots.plot_accuracy_matrix([[0.1, 0.1], [0.9, 0.1], [0.7, 0.8]],
                                                title="replay"))
    assert _texts(root, "row-label") == ["untrained", "after 1", "after 2"]
    assert _texts(root, "column-label") == ["1", "2"]
    cells = root.findall(".//rect[@class='cell']")
    assert len(cells) == 6  # (T + 1) x T
    assert _texts(root, "value") == ["0.10", "0.10", "0.90", "0.10", "0.70", "0.80"]
    assert cells[2].get("fill") == cividis(0.9)
    assert "replay" in _texts(root) and "evaluated on task" in _texts(root)


def test_critical_difference_diagram_places_methods_and_overlapping_groups(parse_svg):
    root = parse_svg(plots.plot_critical_difference(
        ["A", "B", "C", "D"], [1.0, 2.0, 3.0, 4.0], [["A", "B"], ["B", "C"], ["C", "D"]],
        critical_difference=1.25,
    ))
    methods = {t.text: t for t in root.iter("text") if t.get("class") == "method"}
    assert set(methods) == {"A (1.00)", "B (2.00)", "C (3.00)", "D (4.00)"}
    assert "CD = 1.25" in _texts(root)
    ticks = {t.text: float(t.get("x")) for t in root.iter("text") if t.text in "1234"}
    # best half on the left of the axis, the rest on the right
    assert float(methods["A (1.00)"].get("x")) < ticks["1"] < ticks["4"] < \
        float(methods["D (4.00)"].get("x"))
    bars = root.findall(".//line[@class='group']")
    spans = sorted((float(b.get("x1")), float(b.get("x2"))) for b in bars)
    assert len(spans) == 3  # three overlapping groups, each on its own row
    for (start, end), (low, high) in zip(spans, [("1", "2"), ("2", "3"), ("3", "4")],
                                         strict=True):
        assert start == pytest.approx(ticks[low] - 3) and end == pytest.approx(ticks[high] + 3)
    assert len({b.get("y1") for b in bars}) == 3


def test_critical_difference_diagram_greys_groups_when_omnibus_fails(parse_svg):
    root = parse_svg(plots.plot_critical_difference(
        ["x", "y", "z"], [1.5, 1.5, 3.0], [["x", "y", "z"]], greyed=True, note="not significant",
    ))
    (bar,) = root.findall(".//line[@class='group']")
    assert bar.get("stroke") == "#9a9a9a" and bar.get("stroke-dasharray")  # grey, dashed
    assert _texts(root, "note") == ["not significant"]
    assert not any(t.startswith("CD =") for t in _texts(root))


def test_pvalue_heatmap_marks_significant_pairs(parse_svg):
    nan = math.nan
    root = parse_svg(plots.plot_pvalue_heatmap(
        ["a", "b", "c"], [[nan, 0.0004, 0.2], [0.0004, nan, nan], [0.2, nan, nan]],
        [[False, True, False], [True, False, False], [False, False, False]],
        alpha=0.05, p_label="BH-adjusted p",
    ))
    texts = _texts(root, "value")
    assert texts.count("<0.001*") == 2 and texts.count("0.200") == 2 and texts.count("—") == 2
    bold = [t.text for t in root.iter("text") if t.get("font-weight") == "bold"]
    assert bold == ["<0.001*", "<0.001*"]
    assert len(root.findall(".//rect[@class='cell']")) == 9
    assert "BH-adjusted p (* < α = 0.05)" in _texts(root)


def test_aggregate_estimates_have_one_panel_per_aggregate(parse_svg):
    root = parse_svg(plots.plot_aggregate_estimates(
        ["Mean", "IQM"], ["a", "b"], [[0.5, 0.6], [0.4, 0.3]], [[0.4, 0.5], [0.3, 0.2]],
        [[0.6, 0.7], [0.5, 0.4]]))
    panels = root.findall(".//g[@class='aggregate']")
    assert [p.get("data-aggregate") for p in panels] == ["Mean", "IQM"]
    assert _texts(root, "row-label") == ["a", "b"]  # names once, on the first panel
    for panel in panels:
        assert len(panel.findall(".//*[@class='interval']")) == 2
        assert len(panel.findall(".//*[@class='point']")) == 2
