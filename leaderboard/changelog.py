"""What moved between two releases, with significance marks: compares two manifests.

Input: two ``data/manifest.json`` documents (`leaderboard.manifest`), the previous release's
and the new one's; never a results store, so old releases need nothing but their own folder.

Per ranked table (matched by key): tables new or gone, a suite version change, methods new or
gone, and for every method in both:

- **score change** — where both releases have at least two seeds: Welch's t-test of the new
  seeds against the old, with Benjamini–Hochberg across every score change of the changelog
  (one family, so a long changelog does not flag noise); identical seeds are "unchanged"
  without a test. Where only intervals exist (time-to-result scores): "significant" only when
  the two intervals do not overlap (conservative). Otherwise "cannot be tested".
- **rank change** — the methods it changed order with, and whether the move is real: it is
  significant only if the new release itself declares the method significantly different from
  at least one of them (the table's own pairwise tests, tie groups or intervals:
  `ManifestTable.significant_pairs`). A swap inside overlapping intervals or one tie group is
  marked "not significant". A rank that changes only because methods entered or left the table
  is said to be so.

Everything is deterministic: the same two manifests give the same changelog.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import UserError
from harness.stats import benjamini_hochberg, dumps, pairwise_tests
from leaderboard.manifest import MANIFEST_FORMAT

Manifest = Mapping[str, Any]

SIGNIFICANT = "significant"
NOT_SIGNIFICANT = "not significant"
UNTESTABLE = "cannot be tested"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class RowChange:
    """One method of a table in two releases (`old_*` None where it is new)."""

    method: str
    status: str  # "new", "removed", "changed", "unchanged"
    old_rank: int | None
    new_rank: int | None
    old_value: float | None
    new_value: float | None
    score_verdict: str  # SIGNIFICANT, NOT_SIGNIFICANT, UNTESTABLE, UNCHANGED or ""
    score_text: str
    rank_verdict: str  # SIGNIFICANT, NOT_SIGNIFICANT, UNCHANGED or ""
    rank_text: str
    p_adjusted: float | None = None  # Welch p of the score change, BH-adjusted (changelog)

    @property
    def value_text(self) -> str:
        """"0.512 → 0.530", or the one value a new or removed method has."""
        old, new = (f"{v:.4g}" if v is not None else "—"
                    for v in (self.old_value, self.new_value))
        if self.status == "new":
            return new
        if self.status == "removed":
            return old
        return new if old == new else f"{old} → {new}"

    @property
    def rank_move_text(self) -> str:
        """"3 → 1 ↑", "2" when unchanged; "—" stands for no rank."""
        old, new = ("—" if r is None else str(r) for r in (self.old_rank, self.new_rank))
        if self.status in ("new", "removed") or old == new:
            return new if self.status != "removed" else old
        if self.old_rank is None or self.new_rank is None:
            return f"{old} → {new}"
        return f"{old} → {new} {'↑' if self.new_rank < self.old_rank else '↓'}"


@dataclass(frozen=True)
class TableChange:
    key: str
    kind: str
    title: str
    href: str | None  # in the new release; None for a removed table
    status: str  # "new", "removed", "changed", "unchanged"
    version_text: str  # "" unless the suite version changed
    rows: tuple[RowChange, ...]

    @property
    def moved_rows(self) -> tuple[RowChange, ...]:
        return tuple(r for r in self.rows if r.status != "unchanged")


@dataclass(frozen=True)
class Changelog:
    release: str
    previous: str | None  # None: the first release, everything is new
    tables: tuple[TableChange, ...]
    new_suites: tuple[str, ...]
    removed_suites: tuple[str, ...]
    summary: str
    alpha: float

    @property
    def changed_tables(self) -> tuple[TableChange, ...]:
        return tuple(t for t in self.tables if t.status != "unchanged")


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest from disk; UserError if it is missing, unreadable or of another format."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the release manifest {path} ({exc}); rebuild that "
                        "release or remove it from the releases folder") from None
    if document.get("format") != MANIFEST_FORMAT:
        raise UserError(f"release manifest {path} has format {document.get('format')!r}, this "
                        f"harness reads format {MANIFEST_FORMAT}; rebuild that release")
    return document


def compare_manifests(old: Manifest | None, new: Manifest) -> Changelog:
    """The changelog from `old` (None for the first release) to `new`."""
    alpha = float(new.get("alpha", 0.05))
    old_tables = {t["key"]: t for t in old["tables"]} if old else {}
    new_tables = {t["key"]: t for t in new["tables"]}
    drafts = [_table_change(old_tables.get(k), new_tables.get(k), alpha)
              for k in [*new_tables, *(k for k in old_tables if k not in new_tables)]]
    tables = _adjust_score_tests(drafts, alpha)
    old_suites = {s["name"] for s in old["suites"]} if old else set()
    new_suites = {s["name"] for s in new["suites"]}
    changelog = Changelog(
        release=str(new["release"]), previous=str(old["release"]) if old else None,
        tables=tuple(tables), new_suites=tuple(sorted(new_suites - old_suites)) if old else (),
        removed_suites=tuple(sorted(old_suites - new_suites)), summary="", alpha=alpha,
    )
    return _with_summary(changelog)


def _rows(table: Manifest | None) -> dict[str, Manifest]:
    return {r["method"]: r for r in table["rows"]} if table else {}


def _table_change(old: Manifest | None, new: Manifest | None, alpha: float) -> TableChange:
    base = new or old
    assert base is not None
    old_rows, new_rows = _rows(old), _rows(new)
    pairs = {tuple(p) for p in new["significant_pairs"]} if new else set()
    rows = [
        _row_change(m, old_rows.get(m), new_rows.get(m), old_rows, new_rows, pairs, alpha)
        for m in [*new_rows, *(m for m in old_rows if m not in new_rows)]
    ]
    version_text = ""
    if old and new and old["version"] != new["version"]:
        version_text = f"suite version {old['version']} → {new['version']}"
    status = ("new" if old is None else "removed" if new is None
              else "changed" if version_text or any(r.status != "unchanged" for r in rows)
              else "unchanged")
    return TableChange(key=base["key"], kind=base["kind"], title=base["title"],
                       href=new["href"] if new else None, status=status,
                       version_text=version_text, rows=tuple(rows))


def _row_change(method: str, old: Manifest | None, new: Manifest | None,
                old_rows: Mapping[str, Manifest], new_rows: Mapping[str, Manifest],
                pairs: set[tuple[Any, ...]], alpha: float) -> RowChange:
    if old is None or new is None:
        return RowChange(
            method, status="new" if old is None else "removed",
            old_rank=old["rank"] if old else None, new_rank=new["rank"] if new else None,
            old_value=old["value"] if old else None, new_value=new["value"] if new else None,
            score_verdict="", score_text="", rank_verdict="", rank_text="",
        )
    score_verdict, score_text, p = _score_change(old, new, alpha)
    rank_verdict, rank_text = _rank_change(method, old_rows, new_rows, pairs)
    moved = score_verdict != UNCHANGED or rank_verdict != UNCHANGED
    return RowChange(method, "changed" if moved else "unchanged", old["rank"], new["rank"],
                     old["value"], new["value"], score_verdict, score_text, rank_verdict,
                     rank_text, p)


def _score_change(old: Manifest, new: Manifest, alpha: float) -> tuple[str, str, float | None]:
    """Verdict, text and the raw p-value (adjusted later across the changelog)."""
    old_seeds, new_seeds = old.get("seeds"), new.get("seeds")
    if old["value"] == new["value"] and old_seeds == new_seeds:
        return UNCHANGED, "unchanged", None
    if old["value"] is None or new["value"] is None:
        return UNTESTABLE, "no value in one release", None
    delta = f"{new['value'] - old['value']:+.4g}"
    if old_seeds and new_seeds and len(old_seeds) >= 2 and len(new_seeds) >= 2:
        test = pairwise_tests({"new": np.asarray(new_seeds), "old": np.asarray(old_seeds)},
                              test="welch-t", correction="none", alpha=alpha)
        p = next(iter(test.values())).p_value
        if math.isfinite(p):
            return "", delta, p
        return UNTESTABLE, f"{delta} (no spread in the seeds: Welch's t is undefined)", None
    bounds = (old["ci_low"], old["ci_high"], new["ci_low"], new["ci_high"])
    if all(b is not None for b in bounds):
        if bounds[1] < bounds[2] or bounds[3] < bounds[0]:
            return SIGNIFICANT, f"{delta} (intervals do not overlap)", None
        return NOT_SIGNIFICANT, f"{delta} (intervals overlap)", None
    if old_seeds or new_seeds:
        return UNTESTABLE, f"{delta} (too few seeds to test)", None
    return UNTESTABLE, f"{delta} (no seeds or interval to test it with)", None


def _adjust_score_tests(tables: Sequence[TableChange], alpha: float) -> list[TableChange]:
    """Benjamini–Hochberg over every Welch test of the changelog; verdicts filled in."""
    tested = [(i, j) for i, t in enumerate(tables) for j, r in enumerate(t.rows)
              if r.score_verdict == "" and r.p_adjusted is not None]
    adjusted = benjamini_hochberg([tables[i].rows[j].p_adjusted for i, j in tested]) \
        if tested else []
    rows = [list(t.rows) for t in tables]
    for (i, j), p in zip(tested, adjusted, strict=True):
        row = rows[i][j]
        verdict = SIGNIFICANT if p < alpha else NOT_SIGNIFICANT
        rows[i][j] = replace(row, score_verdict=verdict, p_adjusted=float(p),
                              score_text=f"{row.score_text} (Welch, BH-adjusted p = {p:.3g})")
    return [replace(t, rows=tuple(r)) for t, r in zip(tables, rows, strict=True)]


def _rank_change(method: str, old_rows: Mapping[str, Manifest], new_rows: Mapping[str, Manifest],
                 pairs: set[tuple[Any, ...]]) -> tuple[str, str]:
    old_rank, new_rank = old_rows[method]["rank"], new_rows[method]["rank"]
    if old_rank == new_rank:
        return UNCHANGED, ""
    if old_rank is None or new_rank is None:
        return "", "entered the ranking" if old_rank is None else "left the ranking"
    flipped = sorted(
        other for other in new_rows
        if other != method and other in old_rows
        and None not in (old_rows[other]["rank"], new_rows[other]["rank"])
        and _order(old_rank, old_rows[other]["rank"]) != _order(new_rank,
                                                                 new_rows[other]["rank"])
    )
    if not flipped:
        return NOT_SIGNIFICANT, "moved only because methods entered or left the table"
    real = [o for o in flipped if tuple(sorted((method, o))) in pairs]
    verb = "passed" if new_rank < old_rank else "fell behind"
    if real:
        return SIGNIFICANT, f"{verb} {', '.join(flipped)}; significantly different from " \
                            f"{', '.join(real)}"
    return NOT_SIGNIFICANT, f"{verb} {', '.join(flipped)} within overlapping intervals / the " \
                            "same tie group"


def _order(a: int, b: int) -> int:
    return (a > b) - (a < b)


def _with_summary(changelog: Changelog) -> Changelog:
    if changelog.previous is None:
        count = len(changelog.tables)
        summary = (f"First release: {count} ranked table{'s' * (count != 1)}, nothing to "
                   "compare with.")
    else:
        rows = [r for t in changelog.tables for r in t.rows]
        significant = sum(r.score_verdict == SIGNIFICANT or r.rank_verdict == SIGNIFICANT
                          for r in rows)
        moved = sum(r.status == "changed" for r in rows)
        new = sum(r.status == "new" for r in rows)
        gone = sum(r.status == "removed" for r in rows)
        summary = (f"Since {changelog.previous}: {len(changelog.changed_tables)} of "
                   f"{len(changelog.tables)} tables changed; {moved} method entries moved "
                   f"({significant} significantly), {new} new, {gone} removed.")
    return replace(changelog, summary=summary)


def changelog_json(changelog: Changelog) -> str:
    return dumps(changelog)
