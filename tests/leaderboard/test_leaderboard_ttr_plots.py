"""The time-to-result figures: pure functions that draw what they are given, read back from
the SVG against the figure's own axes, as a reader would."""

from __future__ import annotations

import itertools
import math

import pytest

from leaderboard import plots
from leaderboard.figures import PlotSpec
from leaderboard.plot_style import OKABE_ITO


def _points(element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in element.get("points").split()]


def _step_value(vertices: list[tuple[float, float]], x: float) -> float:
    """The y that a post-step line holds at pixel `x` (the newer value at a jump; vertices
    are written to 0.01 px)."""
    return [vy for vx, vy in vertices if vx <= x + 0.01][-1]


def _extent(polygon: list[tuple[float, float]], x: float) -> tuple[float, float]:
    """The pixels that `polygon` covers on the vertical line at `x` (between vertices)."""
    crossings = [a[1] for a, b in zip(polygon, polygon[1:] + polygon[:1], strict=True)
                 if min(a[0], b[0]) < x < max(a[0], b[0])]
    return min(crossings), max(crossings)


def _centre_x(marker) -> float:
    if marker.tag == "circle":
        return float(marker.get("cx"))
    if marker.tag == "rect":
        return float(marker.get("x")) + float(marker.get("width")) / 2
    if marker.tag == "line":
        return (float(marker.get("x1")) + float(marker.get("x2"))) / 2
    xs = [x for x, _ in _points(marker)]
    return (min(xs) + max(xs)) / 2


TAUS = [1.0, 1.5, 2.0, 3.0, 4.0]
PROFILE = [[0.5, 0.5, 1.0, 1.0, 1.0], [0.0, 0.5, 0.5, 0.75, 1.0]]
LOWS = [[0.25, 0.5, 0.75, 1.0, 1.0], [0.0, 0.25, 0.25, 0.5, 0.75]]
HIGHS = [[0.75, 0.75, 1.0, 1.0, 1.0], [0.25, 0.75, 0.75, 1.0, 1.0]]


def test_performance_profile_reads_back_as_steps_inside_their_bands(parse_svg, read_axes):
    root = parse_svg(plots.PLOTTERS["performance_profile"](["a", "b"], TAUS, PROFILE, LOWS,
                                                           HIGHS))
    x, y = read_axes(root)
    for i, label in enumerate(["a", "b"]):
        (line,) = root.findall(f".//g[@class='method'][@data-method='{label}']/polyline")
        vertices = _points(line)
        # a step function: every segment horizontal or vertical, τ from 1 to 4 (no margin)
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in itertools.pairwise(vertices))
        assert (x(vertices[0][0]), x(vertices[-1][0])) == pytest.approx((1.0, 4.0))
        (band,) = root.findall(f".//g[@class='band'][@data-method='{label}']/polygon")
        corners = _points(band)
        for k, tau in enumerate(TAUS):
            pixel = _pixel(x, tau)
            assert y(_step_value(vertices, pixel)) == pytest.approx(PROFILE[i][k], abs=1e-3)
            if k + 1 < len(TAUS):  # the band over [τ_k, τ_k+1) spans the interval at τ_k
                middle = (pixel + _pixel(x, TAUS[k + 1])) / 2
                top, bottom = _extent(corners, middle)
                assert (y(bottom), y(top)) == pytest.approx((LOWS[i][k], HIGHS[i][k]),
                                                            abs=1e-3)
        assert line.get("stroke") == [OKABE_ITO["blue"], OKABE_ITO["orange"]][i]
        assert float(band.get("fill-opacity")) < 0.5  # shaded, the line stays visible
    shapes = [{m.tag for m in root.findall(f".//g[@data-method='{label}']/*[@class='marker']")}
              for label in ("a", "b")]
    assert shapes[0] != shapes[1]  # not by colour alone
    texts = [t.text for t in root.iter("text")]
    assert texts[-2:] == ["a", "b"]  # the legend
    assert "fraction of workloads ρ(τ)" in texts


def _pixel(axis, value: float, low: float = 0.0, high: float = 2000.0) -> float:
    """The pixel at which `axis` (pixel -> value, increasing) shows `value`, by bisection."""
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if axis(middle) < value else (low, middle)
    return (low + high) / 2


def test_eval_curves_draw_every_trial_the_target_and_the_budget(parse_svg, read_axes):
    trials = [[([0, 1, 2], [0.1, 0.5, 0.9]), ([0, 1, 2, 3], [0.1, math.nan, 0.3, 0.4])],
              [([0, 1], [0.3, 0.4])]]
    root = parse_svg(plots.PLOTTERS["eval_curves"](["a", "b"], trials, target=0.8,
                                                   max_runtime_s=6.0, title="w",
                                                   metric_label="validation accuracy"))
    x, y = read_axes(root)
    for label, method_trials in zip(["a", "b"], trials, strict=True):
        groups = root.findall(f".//g[@class='trial'][@data-method='{label}']")
        assert len(groups) == len(method_trials)
        for group, (times, values) in zip(groups, method_trials, strict=True):
            drawn = [value for line in group.findall("polyline") for px, py in _points(line)
                     for value in (x(px), y(py))]
            expected = [value for t, v in zip(times, values, strict=True) if math.isfinite(v)
                        for value in (t, v)]
            assert drawn == pytest.approx(expected, abs=1e-3)
    gapped = root.findall(".//g[@data-method='a'][@data-trial='2']/polyline")
    assert len(gapped) == 2  # the nan splits the line instead of joining across it
    (target,) = root.findall(".//line[@class='target']")
    assert y(float(target.get("y1"))) == pytest.approx(0.8, abs=1e-3)
    assert target.get("stroke-dasharray")  # dashed
    (budget,) = root.findall(".//line[@class='budget']")
    assert x(float(budget.get("x1"))) == pytest.approx(6.0, abs=1e-3)
    texts = [t.text for t in root.iter("text")]
    assert texts[-4:] == ["a (2 trials)", "b (1 trials)", "target 0.8", "budget 6 s"]
    assert "w" in texts and "submission time (s)" in texts


def test_time_to_target_marks_a_miss_instead_of_a_time(parse_svg, read_axes):
    root = parse_svg(plots.PLOTTERS["time_to_target"](
        ["w1", "w2"], ["a", "b"], [[1.0, None], [2.0, 3.0]], [[0.9, None], [1.5, 2.0]],
        [[1.1, None], [2.5, None]]))
    x, _ = read_axes(root)
    assert [t.text for t in root.iter("text") if t.get("class") == "workload"] == ["w1", "w2"]

    def cell(label: str, workload: str):
        return root.find(f".//g[@data-method='{label}'][@data-workload='{workload}']")

    (median,) = cell("a", "w1").findall("*[@class='median']")
    assert x(_centre_x(median)) == pytest.approx(1.0, abs=1e-3)
    (interval,) = cell("b", "w1").findall("line[@class='interval']")
    assert (x(float(interval.get("x1"))), x(float(interval.get("x2")))) == pytest.approx(
        (1.5, 2.5), abs=1e-3)
    miss = cell("a", "w2")
    assert [t.text for t in miss.iter("text")] == ["not reached"]
    assert not miss.findall("*[@class='median']")  # a miss never reads as a time
    assert min(x(_centre_x(m)) for m in miss.findall("line[@class='miss']")) > 3.0  # right edge
    assert not cell("b", "w2").findall("*[@class='interval']")  # no bar to nowhere
    assert x(_centre_x(cell("b", "w2").find("*[@class='median']"))) == pytest.approx(3.0,
                                                                                    abs=1e-3)



def test_an_interval_open_to_infinity_runs_to_the_right_edge(parse_svg, read_axes):
    """A cell where some studies missed ([1.5, inf]) drew its median with no bar at all, so the
    least certain cells looked the most certain."""
    root = parse_svg(plots.PLOTTERS["time_to_target"](
        ["w"], ["a", "b"], [[1.0], [2.0]], [[0.5], [1.5]], [[1.5], ["inf"]]))
    x, _ = read_axes(root)
    bar = root.find(".//g[@data-method='b']/line[@class='interval open']")
    assert x(float(bar.get("x1"))) == pytest.approx(1.5, abs=1e-3)
    assert x(float(bar.get("x2"))) > 2.0  # to the right edge
    assert [t.text for t in root.find(".//g[@data-method='b']").iter("text")] == ["∞"]
    closed = root.find(".//g[@data-method='a']/line[@class='interval']")
    assert x(float(closed.get("x2"))) == pytest.approx(1.5, abs=1e-3)

def test_figures_are_svg_text_with_the_caption_and_the_same_every_time(parse_svg):
    spec = PlotSpec(kind="performance_profile", path="p.svg", alt="alt text", caption="caption",
                    data={"labels": ["a", "b"], "taus": TAUS, "profile": PROFILE,
                          "ci_lows": LOWS, "ci_highs": HIGHS})
    text = plots.figure_svg(spec)
    assert text == plots.figure_svg(spec)
    root = parse_svg(text)
    assert root.find("title").text == "caption" and root.find("desc").text == "alt text"
    assert "τ: time within a factor τ of the fastest submission" in [
        t.text for t in root.iter("text")]  # text as text, not glyph outlines
    assert "<path" not in text
