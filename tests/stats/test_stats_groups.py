"""Tie groups, compact letter display and Arena ranks, on hand-checkable designs."""

import pytest

from harness import stats

METHODS = ("A", "B", "C", "D")
RANKS = (1.0, 2.0, 3.0, 4.0)


def test_cliques_are_maximal_consecutive_runs_and_may_overlap():
    # A~B, B~C, C~D but A≠C, A≠D, B≠D: three overlapping bars
    different = [("A", "C"), ("A", "D"), ("B", "D")]
    assert stats.tie_cliques(METHODS, RANKS, different) == (("A", "B"), ("B", "C"), ("C", "D"))
    # nothing different: one bar over all; everything different: no bar
    assert stats.tie_cliques(METHODS, RANKS, []) == (METHODS,)
    every = [(a, b) for i, a in enumerate(METHODS) for b in METHODS[i + 1 :]]
    assert stats.tie_cliques(METHODS, RANKS, every) == ()


def test_cliques_follow_rank_order_not_argument_order():
    assert stats.tie_cliques(["x", "y", "z"], [3.0, 1.0, 2.0], [("y", "x")]) == (
        ("y", "z"),
        ("z", "x"),
    )


def test_letters_share_exactly_when_not_different():
    different = [("A", "C"), ("A", "D"), ("B", "D")]
    letters = stats.compact_letter_display(METHODS, RANKS, different)
    assert letters == ("a", "ab", "bc", "c")
    for i, a in enumerate(METHODS):
        for j, b in enumerate(METHODS):
            shares = bool(set(letters[i]) & set(letters[j]))
            assert shares == ((a, b) not in different and (b, a) not in different)


def test_letters_of_a_non_consecutive_pattern():
    # B differs from C only; A, C and D are all alike; B~A, B~D
    letters = stats.compact_letter_display(METHODS, RANKS, [("B", "C")])
    assert letters == ("ab", "a", "b", "ab")


def test_a_method_different_from_all_gets_its_own_letter():
    different = [("A", "B"), ("A", "C")]
    assert stats.compact_letter_display(["A", "B", "C"], [1.0, 2.0, 3.0], different) == (
        "a",
        "b",
        "b",
    )


def test_arena_rank_counts_the_methods_significantly_better():
    different = [("A", "C"), ("A", "D"), ("B", "D")]
    assert stats.arena_ranks(METHODS, RANKS, different) == (1, 1, 2, 3)
    assert stats.arena_ranks(METHODS, RANKS, []) == (1, 1, 1, 1)


def test_unknown_names_and_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError):
        stats.tie_cliques(METHODS, RANKS, [("A", "Z")])
    with pytest.raises(ValueError):
        stats.compact_letter_display(METHODS, RANKS[:3], [])
