"""The NEVIS-like streams' entries of the release manifest (`leaderboard.manifest`).

Each stream's table is ranked by average test error (lower is better; rank = 1 + the number of
methods with a strictly lower mean), and each row keeps its per-seed errors, so a changelog can
test whether a method's error changed. The stream page declares no pair of methods
significantly different, so neither does its manifest table.
"""

from __future__ import annotations

import math

from leaderboard.manifest import ManifestRow, ManifestTable
from leaderboard.nevis_view import NevisRow, NevisStreamView
from leaderboard.view import SiteView


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _row(row: NevisRow, stream: NevisStreamView) -> ManifestRow:
    cell = row.avg_error_cell
    rank = None if cell is None else 1 + sum(
        other.avg_error < row.avg_error for other in stream.rows)
    return ManifestRow(
        method=row.method, rank=rank, value=_finite(row.avg_error),
        ci_low=_finite(cell.ci_low) if cell else None,
        ci_high=_finite(cell.ci_high) if cell else None,
        n=cell.n if cell else 0, seeds=row.error_seeds or None,
    )


def nevis_tables(site: SiteView) -> tuple[ManifestTable, ...]:
    return tuple(
        ManifestTable(
            key=f"{suite.name}/{stream.scenario}", kind="stream",
            title=f"{suite.name} · {stream.title}", version=suite.version,
            quantity="avg_error", higher_is_better=False,
            rows=tuple(_row(row, stream) for row in stream.rows), significant_pairs=(),
            href=f"{suite.href}#{stream.slug}",
        )
        for suite in site.nevis_suites for stream in suite.streams
    )
