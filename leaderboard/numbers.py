"""How numbers are written on the site.

A mean is printed at the precision its uncertainty supports: two significant digits of the
confidence interval's half-width fix the number of decimals of the mean and of both bounds
(half-width 0.031 → 3 decimals → ``0.512 ± [0.481, 0.543], n=5``). Printing more digits would
claim a precision the seeds do not have; printing fewer would hide real differences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.stats import CellSummary

# Used when there is no interval to take a precision from (n = 1, or all seeds equal).
_DEFAULT_DECIMALS = 3
_MAX_DECIMALS = 6


@dataclass(frozen=True)
class Estimate:
    """A seed-mean with its confidence interval, and its text at the right precision.

    `ci_low`/`ci_high` are nan when n == 1. `mean_text` is the mean alone, `ci_text` the
    bracketed interval ("" without an interval), `text` the whole cell.
    """

    mean: float
    ci_low: float
    ci_high: float
    n: int
    mean_text: str
    ci_text: str
    text: str

    @property
    def has_ci(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)


def decimals_for(half_width: float) -> int:
    """Decimals that show two significant digits of `half_width` (clamped to 0..6)."""
    if not math.isfinite(half_width) or half_width <= 0:
        return _DEFAULT_DECIMALS
    return max(0, min(_MAX_DECIMALS, 1 - math.floor(math.log10(half_width))))


@dataclass(frozen=True)
class Difference:
    """A difference of two seed means with its confidence interval (nan bounds: no interval)."""

    value: float
    ci_low: float
    ci_high: float
    text: str

    @property
    def has_ci(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    @property
    def excludes_zero(self) -> bool:
        """The interval lies wholly on one side of zero."""
        return self.has_ci and (self.ci_low > 0.0 or self.ci_high < 0.0)


def difference_from(value: float, ci_low: float, ci_high: float) -> Difference:
    """The `Difference` of a difference and its interval (`harness.stats.mean_difference_ci`),
    written at the precision the interval supports: ``+0.040 ± [0.017, 0.063]``."""
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return Difference(value, math.nan, math.nan,
                          f"{format_signed(value, _DEFAULT_DECIMALS)} (no CI)")
    decimals = decimals_for((ci_high - ci_low) / 2)
    return Difference(value, ci_low, ci_high,
                      f"{format_signed(value, decimals)} ± [{ci_low:.{decimals}f}, "
                      f"{ci_high:.{decimals}f}]")


def estimate_from_summary(summary: CellSummary) -> Estimate:
    """The `Estimate` of a `harness.stats.CellSummary`, with its formatted text."""
    has_ci = math.isfinite(summary.ci_low) and math.isfinite(summary.ci_high)
    if not has_ci:
        mean_text = f"{summary.mean:.{_DEFAULT_DECIMALS}f}"
        return Estimate(
            mean=summary.mean, ci_low=math.nan, ci_high=math.nan, n=summary.n,
            mean_text=mean_text, ci_text="", text=f"{mean_text}, n={summary.n} (no CI)",
        )
    decimals = decimals_for((summary.ci_high - summary.ci_low) / 2)
    mean_text = f"{summary.mean:.{decimals}f}"
    ci_text = f"[{summary.ci_low:.{decimals}f}, {summary.ci_high:.{decimals}f}]"
    return Estimate(
        mean=summary.mean, ci_low=summary.ci_low, ci_high=summary.ci_high, n=summary.n,
        mean_text=mean_text, ci_text=ci_text, text=f"{mean_text} ± {ci_text}, n={summary.n}",
    )


def format_value(value: float | None) -> str:
    """One measured value (a single seed or trial): four significant digits, "—" if missing."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.4g}"


def format_p_value(p: float) -> str:
    """"p < 0.001", three significant digits below 0.1 ("p = 0.0496": three decimals would
    print 0.0496 and 0.0504 alike as 0.050, one on each side of α), else three decimals."""
    if not math.isfinite(p):
        return "—"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3g}" if p < 0.1 else f"p = {p:.3f}"


def format_duration(seconds: float) -> str:
    """A wall time in the unit a reader thinks in: "45 s", "3.2 min", "1.5 h"."""
    if not math.isfinite(seconds):
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_hparams(hparams: Mapping[str, Any]) -> str:
    """Hyperparameters as ``lr=0.01, wd=0.0005`` in key order; "—" when there are none."""
    if not hparams:
        return "—"
    return ", ".join(f"{key}={_format_scalar(hparams[key])}" for key in sorted(hparams))


def _format_scalar(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return f"{value:.4g}"


def _three_digits(value: float) -> str:
    """Three significant digits, trailing zeros kept ("2.50", "400", "12.0"); from 999.5 on
    (1023 KiB, 999.7 GFLOPs, thousands of PFLOPs) the whole number, never "1.00e+03"."""
    if abs(value) >= 999.5:
        return f"{value:.0f}"
    return f"{value:#.3g}".rstrip(".")


def format_flops(flops: float | None) -> str:
    """A FLOP count in the unit of its size: "400 GFLOPs", "2.50 TFLOPs" (3 significant
    digits); counts below 10⁹ in MFLOPs, "—" if missing."""
    if flops is None or not math.isfinite(flops):
        return "—"
    for scale, unit in ((1e15, "PFLOPs"), (1e12, "TFLOPs"), (1e9, "GFLOPs")):
        if abs(flops) >= scale:
            return f"{_three_digits(flops / scale)} {unit}"
    return f"{_three_digits(flops / 1e6)} MFLOPs" if flops else "0 FLOPs"


def format_bytes(num_bytes: float | None) -> str:
    """A size in binary units: "512 B", "200 KiB", "3.00 MiB", "1.50 GiB"; "—" if missing."""
    if num_bytes is None or not math.isfinite(num_bytes):
        return "—"
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if abs(num_bytes) >= 1024**power:
            return f"{_three_digits(num_bytes / 1024**power)} {unit}"
    return f"{num_bytes:.0f} B"


def format_signed(value: float, decimals: int) -> str:
    """A difference with its sign always shown: "+0.040", "-0.012"."""
    if not math.isfinite(value):
        return "—"
    return f"{value:+.{decimals}f}"
