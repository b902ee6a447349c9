"""Friedman, post-hoc tests and critical values, pinned to Demšar (2006)."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from harness import stats

# Demšar 2006, Table 6: AUC of four C4.5 variants on 14 UCI data sets (rows). The printed table
# rounds to three decimals; the paper's ranks put C4.5+cf ahead of C4.5+m+cf on "voting", so
# that cell is 0.97501 (as in other reproductions of the example).
DEMSAR_NAMES = ("C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf")
DEMSAR_AUC = np.array([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569],
    [0.954, 0.971, 0.968, 0.967], [0.628, 0.661, 0.654, 0.657],
    [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625],
    [0.775, 0.838, 0.866, 0.875], [1.000, 1.000, 1.000, 1.000],
    [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.97501, 0.975], [0.957, 0.978, 0.946, 0.970],
])  # fmt: skip


# --- golden values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "k, q", [(2, 1.960), (3, 2.344), (4, 2.569), (5, 2.728), (6, 2.850)]
)
def test_nemenyi_q_equals_demsar_table_5a(k, q):
    assert round(stats.nemenyi_critical_value(k, 0.05), 3) == q


@pytest.mark.parametrize(
    "k, q", [(2, 1.645), (3, 2.052), (4, 2.291), (5, 2.459), (6, 2.589)]
)
def test_nemenyi_q_at_alpha_010_equals_demsar_table_5a(k, q):
    # the printed 2.459 for k = 5 is 2.45949... truncated rather than rounded
    assert stats.nemenyi_critical_value(k, 0.10) == pytest.approx(q, abs=6e-4)


@pytest.mark.parametrize(
    "k, q", [(2, 1.960), (3, 2.241), (4, 2.394), (5, 2.498), (6, 2.576)]
)
def test_bonferroni_dunn_q_equals_demsar_table_5b(k, q):
    assert round(stats.bonferroni_dunn_critical_value(k, 0.05), 3) == q


def test_friedman_on_demsar_example():
    result = stats.friedman_test(DEMSAR_AUC)
    # Demšar: average ranks 3.143, 2.000, 2.893, 1.964; chi2_F = 9.28; F_F = 3.69
    assert np.round(result.average_ranks, 3).tolist() == [3.143, 2.000, 2.893, 1.964]
    assert round(result.statistic, 2) == 9.28
    assert round(result.iman_davenport_F, 2) == 3.69
    assert result.p_value == pytest.approx(sps.chi2.sf(result.statistic, 3))
    assert result.iman_davenport_p == pytest.approx(sps.f.sf(result.iman_davenport_F, 3, 39))
    assert result.iman_davenport_p < 0.05 and (result.num_benchmarks, result.num_methods) == (14, 4)


def test_nemenyi_and_bonferroni_dunn_on_demsar_example():
    nemenyi = stats.nemenyi(DEMSAR_AUC, methods=DEMSAR_NAMES)
    assert round(nemenyi.critical_difference, 2) == 1.25  # Demšar: CD = 1.25
    assert not any(c.significant for c in nemenyi.comparisons)  # 1.179 < 1.25
    at_010 = stats.nemenyi(DEMSAR_AUC, methods=DEMSAR_NAMES, alpha=0.10)
    assert round(at_010.critical_difference, 2) == 1.12  # Demšar: CD_0.10 = 1.12
    # rank differences 1.143 and 1.179 exceed 1.12: both beat C4.5 at alpha = 0.10
    assert stats.significant_pairs(at_010) == (("C4.5", "C4.5+m"), ("C4.5", "C4.5+m+cf"))
    dunn = stats.bonferroni_dunn(DEMSAR_AUC, "C4.5", methods=DEMSAR_NAMES, alpha=0.10)
    assert round(dunn.critical_difference, 2) == 1.04  # 2.128 * sqrt(20 / 84)
    assert {c.method for c in dunn.comparisons if c.significant} == {"C4.5+m", "C4.5+m+cf"}
    assert dunn.control == "C4.5" and len(dunn.comparisons) == 3


def test_wilcoxon_signed_rank_on_demsar_example():
    # Demšar, section 3.1.3: C4.5+m vs C4.5 gives R+ = 93, R- = 12 (zeros split evenly)
    better, base = DEMSAR_AUC[:, 1], DEMSAR_AUC[:, 0]
    assert stats.wilcoxon_statistic(better, base) == 93.0
    assert stats.wilcoxon_statistic(base, better) == 12.0
    assert stats.wilcoxon_p(better, base) < 0.05  # Demšar: significant at 0.05 (T = 12 < 21)


def test_critical_difference_formula_by_hand():
    # q sqrt(k (k + 1) / (6 N)) with k = 3, N = 6: 2.0 * sqrt(12 / 36)
    assert stats.critical_difference(2.0, 3, 6) == pytest.approx(2.0 / math.sqrt(3.0))


# --- Friedman ---------------------------------------------------------------------------------


def test_friedman_without_ties_matches_scipy():
    scores = np.random.default_rng(3).normal(size=(8, 4))
    ours = stats.friedman_test(scores)
    theirs = sps.friedmanchisquare(*scores.T)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-10)


def test_friedman_direction_ties_and_extremes():
    scores = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    high = stats.friedman_test(scores)
    low = stats.friedman_test(scores, higher_is_better=False)
    assert high.average_ranks == (3.0, 2.0, 1.0) and low.average_ranks == (1.0, 2.0, 3.0)
    # perfect agreement: chi2 = N (k - 1) and the F denominator vanishes
    assert high.statistic == pytest.approx(6.0) and high.iman_davenport_F == math.inf
    assert high.iman_davenport_p == 0.0
    assert high.min_attainable_p == pytest.approx(1 / 36)  # (3!)^(1 - 3)
    flat = stats.friedman_test(np.ones((4, 3)))
    assert flat.average_ranks == (2.0, 2.0, 2.0)
    assert (flat.statistic, flat.p_value, flat.iman_davenport_F) == (0.0, 1.0, 0.0)
    assert flat.iman_davenport_p == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad", [np.ones((1, 3)), np.ones((4, 1)), np.ones(4), [[1.0, np.nan], [1.0, 2.0]]]
)
def test_friedman_rejects_bad_shapes_and_gaps(bad):
    with pytest.raises(ValueError):
        stats.friedman_test(bad)


# --- Wilcoxon--Holm and the power guard -------------------------------------------------------


def test_exact_wilcoxon_matches_scipy_without_ties():
    rng = np.random.default_rng(11)
    for n in (3, 6, 10, 15):
        x, y = rng.normal(size=n), rng.normal(0.4, 1.0, size=n)
        assert stats.wilcoxon_p(x, y) == pytest.approx(
            sps.wilcoxon(x, y, method="exact").pvalue, rel=1e-12
        )


def test_exact_wilcoxon_with_ties_and_zeros_by_hand():
    # differences 1, 1, 0: |d| ranks 2.5, 2.5, 1; the zero is fixed, the two ones flip signs:
    # T+ (doubled, nonzero) in {0, 5, 5, 10} each w.p. 1/4; observed 10 -> p = P(|T - 5| >= 5)
    assert stats.wilcoxon_p([1.0, 1.0, 0.0], [0.0, 0.0, 0.0]) == pytest.approx(0.5)
    assert stats.wilcoxon_p([0.3, 0.3], [0.3, 0.3]) == 1.0
    assert stats.wilcoxon_min_p(5) == pytest.approx(0.0625)


def test_wilcoxon_holm_cannot_reach_significance_with_five_benchmarks():
    scores = np.column_stack([np.arange(5.0) + 10, np.arange(5.0)])  # always 10 apart
    result = stats.wilcoxon_holm(scores, methods=["a", "b"])
    (pair,) = result.comparisons
    assert pair.p_value == pytest.approx(0.0625) and not pair.significant
    assert result.min_attainable_p == pytest.approx(0.0625)
    assert not result.can_reach_significance
    six = stats.wilcoxon_holm(np.vstack([scores, [[20.0, 1.0]]]), methods=["a", "b"])
    assert six.can_reach_significance and six.comparisons[0].significant  # 2/64 < 0.05


def test_wilcoxon_holm_adjusts_across_all_pairs():
    scores = np.random.default_rng(5).normal(size=(9, 4)) + np.array([0.0, 0.5, 1.0, 1.5])
    result = stats.wilcoxon_holm(scores)
    raw = [c.p_value for c in result.comparisons]
    np.testing.assert_allclose([c.p_adjusted for c in result.comparisons], stats.holm(raw))
    assert [(c.method, c.other) for c in result.comparisons][:3] == [("0", "1"), ("0", "2"),
                                                                      ("0", "3")]  # fmt: skip


def test_bonferroni_dunn_rejects_an_unknown_control():
    with pytest.raises(ValueError, match="unknown control"):
        stats.bonferroni_dunn(DEMSAR_AUC, "C5.0", methods=DEMSAR_NAMES)


# --- the pipeline -----------------------------------------------------------------------------


def test_compare_across_benchmarks_gates_letters_and_ranks_on_the_omnibus_test():
    result = stats.compare_across_benchmarks(DEMSAR_AUC, methods=DEMSAR_NAMES)
    assert result.omnibus_significant and result.omnibus_p == result.friedman.iman_davenport_p
    assert result.posthoc.test == "wilcoxon-holm"
    assert result.declared_different("C4.5", "C4.5+m")  # Holm p = 0.047
    assert result.letters == ("b", "a", "ab", "ab")
    assert result.arena_ranks == (2, 1, 1, 1)
    noise = np.random.default_rng(0).normal(size=(6, 3))
    gated = stats.compare_across_benchmarks(noise, methods=["x", "y", "z"], posthoc="nemenyi")
    assert not gated.omnibus_significant
    assert gated.letters == ("a", "a", "a") and gated.arena_ranks == (1, 1, 1)


def test_omnibus_test_is_guarded_by_the_exact_minimum():
    # two methods, two benchmarks, same order twice: Iman-Davenport says F = inf, p = 0, but
    # the exact chance of two identical rankings is 1/2
    tiny = stats.compare_across_benchmarks([[2.0, 1.0], [3.0, 1.0]], methods=["a", "b"])
    assert tiny.friedman.iman_davenport_p == 0.0
    assert tiny.friedman.min_attainable_p == pytest.approx(0.5)
    assert not tiny.omnibus_significant and tiny.letters == ("a", "a")
    assert stats.friedman_min_p(2, 5) == pytest.approx(0.0625)
