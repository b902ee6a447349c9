"""Each table of the site as a LaTeX ``tabular`` (booktabs), ready to ``\\input`` in a paper.

The same rows, order and precision as the site's tables, with a comment header saying how the
numbers were computed. Benchmark tables (`leaderboard_tex`): mean with its confidence interval
at the precision the interval supports, n seeds, the comparison with the best method; the best
continual method in bold. Time-to-result suites (`ttr_tex`): benchmark score, speedup and every
workload's time with its performance ratio; the best score in bold. NEVIS-like streams
(`nevis_tex`): error, compute and Pareto-front membership, one ``tabular`` per stream.
Needs ``\\usepackage{booktabs}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from harness.metrics.time_to_result import DEFAULT_MAX_RATIO
from leaderboard.nevis_view import NevisSuiteView
from leaderboard.numbers import Estimate
from leaderboard.rows import MethodRow
from leaderboard.settings import StatSettings
from leaderboard.ttr_view import TTRCell, TTRSuiteView
from leaderboard.view import BenchmarkView

_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"$<$", ">": r"$>$", "–": "--", "—": "---", "·": r"\textperiodcentered{}",
    "≈": r"$\approx$", "α": r"$\alpha$", "±": r"$\pm$", "∞": r"$\infty$", "×": r"$\times$",
    "−": "$-$",
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


def _row(row: MethodRow) -> list[str]:
    return [
        str(row.rank) if row.rank is not None else "--",
        escape_latex(row.method),
        _cell(row.primary, bold=row.is_best),
        str(row.primary.n) if row.primary is not None else "0",
        escape_latex(row.versus_best_text),
        *(_cell(e) for e in row.secondary),
    ]


def _tabular(comment: Sequence[str], columns: str, header: Sequence[str],
             rows: Sequence[Sequence[str]]) -> list[str]:
    """Comment lines, then a booktabs ``tabular`` of `rows` under `header`."""
    return [
        *(f"% {line}".replace("α", "alpha") for line in comment),
        rf"\begin{{tabular}}{{{columns}}}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
        *(" & ".join(cells) + r" \\" for cells in rows),
        r"\bottomrule",
        r"\end{tabular}",
    ]


def leaderboard_tex(bench: BenchmarkView, settings: StatSettings) -> str:
    """The table of `bench` as a booktabs ``tabular`` with a comment header saying how the
    numbers were computed."""
    header = [
        "Rank", "Method", escape_latex(bench.primary_label), "$n$", "vs best",
        *(escape_latex(label) for label in bench.secondary_labels),
    ]
    comment = [
        f"harness leaderboard: {bench.suite} (version {bench.suite_version}), {bench.title}.",
        f"Cells: mean [{settings.confidence_text} Student-t interval] over n successful "
        "seeds; bold: best continual method.",
        f"vs best: {settings.test_label} against the best method, {settings.p_label}, "
        f"alpha = {settings.alpha:g}. Needs \\usepackage{{booktabs}}.",
    ]
    lines = _tabular(comment, "rlrll" + "r" * len(bench.secondary_labels), header,
                     [_row(row) for row in bench.rows])
    return "\n".join(lines) + "\n"


def _ratio_text(cell: TTRCell) -> str:
    """A time's performance ratio after it: "(1.50×)", "(>4×)" beyond the cap; nothing on a
    held-out variant, without runs or where the target was missed."""
    if cell.ratio is None or cell.sort is None or math.isinf(cell.sort):
        return ""
    if math.isinf(cell.ratio):
        return rf" ($>${DEFAULT_MAX_RATIO:g}$\times$)"
    return rf" ({cell.ratio:.2f}$\times$)"


def ttr_tex(view: TTRSuiteView, settings: StatSettings) -> str:
    """The table of a time-to-result suite as a booktabs ``tabular``: rank, benchmark score
    (bold: best), how it compares with the best, speedup, and per workload the median time to
    target with its interval, n studies and performance ratio."""
    reference = view.reference or "reference"
    header = ["Rank", "Training algorithm", "Score", "vs best",
              escape_latex(f"Speedup vs {reference}"),
              *(escape_latex(c.workload) for c in view.columns)]
    rows = [
        [str(row.rank), escape_latex(row.method),
         rf"\textbf{{{escape_latex(row.score_text)}}}" if row.is_best
         else escape_latex(row.score_text),
         escape_latex(row.versus_best_text), escape_latex(row.speedup_text),
         *(escape_latex(cell.text) + _ratio_text(cell) for cell in row.cells)]
        for row in view.rows
    ]
    comment = [
        f"harness leaderboard: {view.name} (version {view.version}), time to result.",
        f"Score: AlgoPerf benchmark score (area under the performance profile on "
        f"[1, {DEFAULT_MAX_RATIO:g}], divided by {DEFAULT_MAX_RATIO - 1:g}) "
        f"[{settings.confidence_text} percentile bootstrap over studies, "
        f"{settings.bootstrap_reps} replicates]; bold: best score.",
        "Speedup: geometric mean over workloads both solved of the reference's time over the "
        "algorithm's.",
        "Times: median over studies in seconds [interval], n = studies; (r x): time over the "
        f"fastest algorithm's on that base workload (performance ratio; >{DEFAULT_MAX_RATIO:g} "
        "counts as not solved). Needs \\usepackage{booktabs}.",
    ]
    lines = _tabular(comment, "rlrll" + "r" * len(view.columns), header, rows)
    return "\n".join(lines) + "\n"


def nevis_tex(view: NevisSuiteView) -> str:
    """The tables of a NEVIS-like stream suite, one booktabs ``tabular`` per stream: average
    and sample-weighted error, training FLOPs, training and wall time, error minus the
    reference's, and membership of the error-vs-FLOPs Pareto front."""
    level = f"{view.confidence:.0%}"
    lines = [
        f"% harness leaderboard: {view.name} (version {view.version}), NEVIS-like stream.",
        f"% Errors: mean [{level} Student-t interval] n = evaluation seeds; FLOPs: training "
        "FLOPs of all tasks and in-task search trials; times: means over seeds.",
        "% Needs \\usepackage{booktabs}.",
    ]
    for stream in view.streams:
        versus = escape_latex(f"vs {stream.reference}") if stream.reference else "vs reference"
        header = ["Method", "Average error", "Sample-weighted error", "Training FLOPs",
                  "Training time", "Wall time", versus, "Pareto front"]
        rows = [
            [escape_latex(r.method), escape_latex(r.avg_error_text),
             escape_latex(r.weighted_error_text), escape_latex(r.flops_text),
             escape_latex(r.train_time_text), escape_latex(r.wall_time_text),
             "--" if r.accumulation is None else r.accumulation_text.replace("-", "$-$"),
             "yes" if r.on_front else "--"]
            for r in stream.rows
        ]
        comment = [f"{stream.title}: {len(stream.tasks)} tasks."]
        lines += ["", *_tabular(comment, "lrrrrrrl", header, rows)]
    return "\n".join(lines) + "\n"
