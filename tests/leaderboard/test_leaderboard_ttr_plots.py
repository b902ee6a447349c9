"""The time-to-result figures: pure functions that draw what they are given."""

from __future__ import annotations

from matplotlib.colors import to_hex

from leaderboard import plots
from leaderboard.plot_style import OKABE_ITO


def test_performance_profile_draws_a_band_and_a_step_line_per_method(unchanged_matplotlib):
    taus = [1.0, 2.0, 4.0]
    figure = plots.PLOTTERS["performance_profile"](
        ["a", "b"], taus, [[1.0, 1.0, 1.0], [0.0, 0.5, 1.0]],
        [[1.0, 1.0, 1.0], [0.0, 0.0, 0.5]], [[1.0, 1.0, 1.0], [0.5, 1.0, 1.0]])
    (axes,) = figure.axes
    assert len(axes.collections) == 2 and len(axes.lines) == 2  # bands, profiles
    assert axes.get_xlim() == (1.0, 4.0)
    colours = [to_hex(line.get_color()) for line in axes.lines]
    assert colours == [OKABE_ITO["blue"].lower(), OKABE_ITO["orange"].lower()]
    assert axes.lines[0].get_linestyle() != axes.lines[1].get_linestyle() or \
        axes.lines[0].get_marker() != axes.lines[1].get_marker()  # not colour alone
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["a", "b"]


def test_eval_curves_draw_every_trial_the_target_and_the_budget(unchanged_matplotlib):
    trials = [[([0, 1, 2], [0.1, 0.5, 0.9]), ([0, 1], [0.1, 0.2])], [([0, 1], [0.3, 0.4])]]
    figure = plots.PLOTTERS["eval_curves"](["a", "b"], trials, target=0.8, max_runtime_s=6.0,
                                           title="w", metric_label="validation accuracy")
    (axes,) = figure.axes
    assert len(axes.lines) == 3 + 2  # three trials, the target and the budget
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["a (2 trials)", "b (1 trials)", "target 0.8", "budget 6 s"]


def test_time_to_target_marks_a_miss_instead_of_a_time(unchanged_matplotlib):
    figure = plots.PLOTTERS["time_to_target"](
        ["w1", "w2"], ["a", "b"], [[1.0, None], [2.0, 3.0]], [[0.9, None], [1.5, 2.0]],
        [[1.1, None], [2.5, None]])
    first, second = figure.axes
    assert first.get_title(loc="left") == "w1" and len(first.collections) == 2
    misses = [t.get_text() for t in second.texts]
    assert misses == ["not reached"]  # a on w2
    assert len(second.collections) == 0  # b's open interval is not drawn as a bar to nowhere

