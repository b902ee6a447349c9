"""The time-to-result suites' entries of the release manifest (`leaderboard.manifest`).

A suite's table is ranked by benchmark score; two methods count as significantly different
when their bootstrap score intervals do not overlap (conservative: a changelog then marks a
swap of overlapping scores as not significant).
"""

from __future__ import annotations

from leaderboard.manifest import ManifestRow, ManifestTable
from leaderboard.view import SiteView


def ttr_tables(site: SiteView) -> tuple[ManifestTable, ...]:
    tables = []
    for suite in site.ttr_suites:
        rows = tuple(
            ManifestRow(method=r.method, rank=r.rank, value=r.score, ci_low=r.score_ci[0],
                        ci_high=r.score_ci[1], n=len(suite.columns))
            for r in suite.rows
        )
        pairs = tuple(sorted(
            tuple(sorted((a.method, b.method)))
            for i, a in enumerate(suite.rows) for b in suite.rows[i + 1:]
            if a.score_ci[1] < b.score_ci[0] or b.score_ci[1] < a.score_ci[0]
        ))
        tables.append(ManifestTable(
            key=f"{suite.name}/time-to-result", kind="time-to-result",
            title=f"{suite.name} · benchmark score", version=suite.version,
            quantity="benchmark_score", higher_is_better=True, rows=rows,
            significant_pairs=pairs, href=suite.href,
        ))
    return tuple(tables)
