import math

import pytest

from harness.stats import summarize_cell
from leaderboard.numbers import (
    decimals_for,
    estimate_from_summary,
    format_duration,
    format_hparams,
    format_p_value,
)


@pytest.mark.parametrize(
    ("half_width", "decimals"),
    [(0.031, 3), (0.0095, 4), (0.1, 2), (1.5, 1), (15.0, 0), (150.0, 0), (0.0, 3), (math.nan, 3)],
)
def test_decimals_show_two_significant_digits_of_the_half_width(half_width, decimals):
    assert decimals_for(half_width) == decimals


def test_estimate_text_has_mean_interval_and_n_at_the_interval_precision():
    estimate = estimate_from_summary(summarize_cell([0.48, 0.50, 0.52, 0.51, 0.55]))
    # half-width = t(0.975, 4) * sd / sqrt(5) = 2.776 * 0.02588 / 2.236 ≈ 0.032 → 3 decimals
    assert estimate.text == "0.512 ± [0.480, 0.544], n=5"
    assert estimate.n == 5 and estimate.has_ci


def test_single_seed_estimate_says_there_is_no_interval():
    estimate = estimate_from_summary(summarize_cell([0.7]))
    assert estimate.text == "0.700, n=1 (no CI)"
    assert not estimate.has_ci and estimate.ci_text == ""


def test_small_formatters():
    assert format_duration(45) == "45 s"
    assert format_duration(192) == "3.2 min"
    assert format_duration(5400) == "1.5 h"
    assert format_p_value(0.0001) == "p < 0.001"
    assert format_p_value(0.0421) == "p = 0.0421"
    assert (format_p_value(0.0496), format_p_value(0.0504)) == ("p = 0.0496", "p = 0.0504")
    assert format_p_value(0.4213) == "p = 0.421"
    assert format_hparams({"wd": 0.0005, "lr": 0.01, "use_bn": True}) == (
        "lr=0.01, use_bn=True, wd=0.0005"
    )
    assert format_hparams({}) == "—"
