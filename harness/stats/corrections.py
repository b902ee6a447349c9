"""Multiple-comparison corrections: adjusted p-values, returned in the input order.

Input: a 1-D array of raw p-values in [0, 1] (one family). Reject where adjusted p < alpha.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from harness.stats.validation import p_vector

CorrectionName = Literal["holm", "benjamini-hochberg", "none"]


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values (controls the family-wise error rate).

    For sorted p_(1) <= ... <= p_(m): adj_(j) = max_{k <= j} min(1, (m - k + 1) p_(k)),
    returned in the input order. Reject where adj < alpha. Source: Holm 1979.
    """
    p = p_vector(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (controls the false discovery rate).

    For sorted p_(1) <= ... <= p_(m): adj_(j) = min_{k >= j} min(1, m p_(k) / k), returned in
    the input order. Source: Benjamini & Hochberg 1995.
    """
    p = p_vector(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, m * p[order] / np.arange(1, m + 1))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return adjusted


def bonferroni(p_values: ArrayLike) -> np.ndarray:
    """Bonferroni-adjusted p-values: min(1, m p) (controls the family-wise error rate)."""
    p = p_vector(p_values)
    return np.minimum(1.0, p.size * p)


def no_correction(p_values: ArrayLike) -> np.ndarray:
    return p_vector(p_values).copy()


CORRECTIONS = {"holm": holm, "benjamini-hochberg": benjamini_hochberg, "none": no_correction}
"""Adjustment function of each `CorrectionName`."""
