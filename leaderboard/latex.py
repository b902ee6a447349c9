"""Each leaderboard table as a LaTeX ``tabular`` (booktabs), ready to ``\\input`` in a paper.

The same rows, order and precision as the site's table: mean with its confidence interval at
the precision the interval supports, n seeds, the comparison with the best method; the best
continual method in bold. Needs ``\\usepackage{booktabs}``.
"""

from __future__ import annotations

import re

from leaderboard.numbers import Estimate
from leaderboard.rows import MethodRow
from leaderboard.settings import StatSettings
from leaderboard.view import BenchmarkView

_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"$<$", ">": r"$>$", "–": "--", "—": "---", "·": r"\textperiodcentered{}",
    "≈": r"$\approx$", "α": r"$\alpha$", "±": r"$\pm$",
}
_PATTERN = re.compile("|".join(re.escape(c) for c in _SPECIAL))


def escape_latex(text: str) -> str:
    """`text` with LaTeX's special characters (and the few non-ASCII ones the site uses)
    written so that pdflatex prints them."""
    return _PATTERN.sub(lambda m: _SPECIAL[m.group(0)], text)


def _cell(estimate: Estimate | None, bold: bool = False) -> str:
    if estimate is None:
        return "--"
    text = estimate.mean_text + (f" {estimate.ci_text}" if estimate.ci_text else "")
    text = text.replace("-", "$-$")  # a minus sign, not a hyphen
    return rf"\textbf{{{text}}}" if bold else text


def _row(row: MethodRow) -> str:
    cells = [
        str(row.rank) if row.rank is not None else "--",
        escape_latex(row.method),
        _cell(row.primary, bold=row.is_best),
        str(row.primary.n) if row.primary is not None else "0",
        escape_latex(row.versus_best_text),
        *(_cell(e) for e in row.secondary),
    ]
    return " & ".join(cells) + r" \\"


def leaderboard_tex(bench: BenchmarkView, settings: StatSettings) -> str:
    """The table of `bench` as a booktabs ``tabular`` with a comment header saying how the
    numbers were computed."""
    header = [
        "Rank", "Method", escape_latex(bench.primary_label), "$n$", "vs best",
        *(escape_latex(label) for label in bench.secondary_labels),
    ]
    columns = "rlrll" + "r" * len(bench.secondary_labels)
    comment = [
        f"% harness leaderboard: {bench.suite} (version {bench.suite_version}), {bench.title}.",
        f"% Cells: mean [{settings.confidence_text} Student-t interval] over n successful "
        "seeds; bold: best continual method.",
        f"% vs best: {settings.test_label} against the best method, {settings.p_label}, "
        f"alpha = {settings.alpha:g}. Needs \\usepackage{{booktabs}}.",
    ]
    lines = [
        *(c.replace("α", "alpha") for c in comment),
        rf"\begin{{tabular}}{{{columns}}}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
        *(_row(row) for row in bench.rows),
        r"\bottomrule",
        r"\end{tabular}",
    ]
    return "\n".join(lines) + "\n"
