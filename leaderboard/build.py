"""Build the static site: view model → HTML pages, SVG figures, CSV/JSON/LaTeX downloads.

The site is written into a fresh folder next to `out_dir` and swapped in only when complete, so
a failed build never leaves a half-written site, and a reader never sees a mix of two builds
(between the two renames `out_dir` is missing for an instant; POSIX has no portable atomic
exchange of two folders). A marker file identifies folders this builder wrote: a non-empty
`out_dir` without it is refused rather than replaced, so a mistyped ``--out`` cannot delete a
user's files.

Releases (``--release ID``: immutable folders, ``latest/``, a changelog) are built by
`leaderboard.releases` on top of `write_site`; `build_site` writes one plain site.

Builds are reproducible: the same store gives byte-identical pages except the build stamp
(``SOURCE_DATE_EPOCH`` fixes that too), and SVGs are written without dates and with fixed
element ids (`leaderboard.plots.figure_svg`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from harness.errors import UserError
from harness.store import Store
from leaderboard.changelog import Changelog, changelog_json
from leaderboard.figures import PlotSpec
from leaderboard.latex import leaderboard_tex, nevis_tex, ttr_tex
from leaderboard.manifest import MANIFEST_PATH, manifest_json
from leaderboard.nevis_tables import nevis_csv, nevis_json, nevis_tasks_csv
from leaderboard.plots import figure_svg
from leaderboard.stats_json import stats_json
from leaderboard.tables import (
    compute_csv,
    compute_json,
    effects_csv,
    effects_json,
    gap_csv,
    gap_json,
    leaderboard_csv,
    leaderboard_json,
    runs_csv,
)
from leaderboard.ttr_view import TTR_REFERENCE, ttr_csv, ttr_json
from leaderboard.view import BenchmarkView, SiteView, build_site_view

MARKER = ".harness-leaderboard"
RELEASES_MARKER = ".harness-releases"
"""Marks a release tree (`leaderboard.releases`), which a plain build never replaces."""
_PACKAGE_DIR = Path(__file__).parent


def build_site(store_path: Path, out_dir: Path, *, release: str | None = None) -> Path:
    """Build the leaderboard of the store at `store_path` into `out_dir`; return index.html.

    Raises `UserError` if the store does not exist or `out_dir` holds something else.
    """
    store_path, out_dir = Path(store_path), Path(out_dir)
    if not store_path.is_file():
        raise UserError(
            f"no results store at {store_path}; run `harness evaluate` to produce results, or "
            "pass --store PATH"
        )
    _check_replaceable(out_dir)
    with Store(store_path) as store:
        site = build_site_view(store, built_at=_build_time(), release=release)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
    try:
        write_site(site, staging)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir / "index.html"


def _build_time() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise UserError(f"--out {out_dir} is a file; choose a folder for the site")
    if (out_dir / RELEASES_MARKER).is_file():
        raise UserError(f"--out {out_dir} holds releases; build into it with --release ID, or "
                        "refresh its latest/ with `harness leaderboard build --out "
                        f"{out_dir}`")
    if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise UserError(
            f"--out {out_dir} is not empty and was not written by `harness leaderboard build`; "
            "choose a new or empty folder"
        )


def _swap_in(staging: Path, out_dir: Path) -> None:
    (staging / MARKER).write_text("Written by `harness leaderboard build`; replaced on rebuild.\n")
    staging.chmod(0o755)  # mkdtemp makes it private; a site is meant to be read
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    os.replace(out_dir, retired / "site")
    os.replace(staging, out_dir)
    shutil.rmtree(retired, ignore_errors=True)


def write_site(site: SiteView, root: Path, *, changelog: Changelog | None = None,
               previous: str | None = None) -> None:
    """Write every file of the site into the existing folder `root`.

    `changelog` (a release build, `leaderboard.releases`) adds ``changelog.html`` and
    ``data/changelog.json`` and a link to them on every page; `previous` names the release the
    manifest follows.
    """
    env = _environment()
    env.globals.update(changelog=changelog, ttr_reference=TTR_REFERENCE)
    for directory in ("suites", "methods", "data", "plots", "static"):
        (root / directory).mkdir(exist_ok=True)
    _render(env, "index.html.j2", root / "index.html", site, root_prefix="")
    _render(env, "methodology.html.j2", root / "methodology.html", site, root_prefix="")
    for suite in site.suites:
        _render(env, "suite.html.j2", root / suite.href, site, root_prefix="../", suite=suite)
        for bench in suite.benchmarks:
            (root / bench.csv_href).write_text(leaderboard_csv(bench, site.settings))
            (root / bench.json_href).write_text(leaderboard_json(bench, site.settings))
            (root / bench.tex_href).write_text(leaderboard_tex(bench, site.settings))
            _write_sections(bench, site, root)
            for spec in bench.figures:
                _save_svg(spec, root / spec.path)
    for cross in [suite.cross for suite in site.suites] + [site.cross]:
        if cross is not None and cross.plot is not None:
            _save_svg(cross.plot, root / cross.plot.path)
        if cross is not None and cross.aggregates is not None and cross.aggregates.plot:
            _save_svg(cross.aggregates.plot, root / cross.aggregates.plot.path)
    for nevis in site.nevis_suites:
        _render(env, "nevis_suite.html.j2", root / nevis.href, site, root_prefix="../",
                suite=nevis)
        (root / nevis.csv_href).write_text(nevis_tasks_csv(nevis))
        (root / nevis.table_csv_href).write_text(nevis_csv(nevis))
        (root / nevis.json_href).write_text(nevis_json(nevis))
        (root / nevis.tex_href).write_text(nevis_tex(nevis))
        for spec in nevis.figures:
            _save_svg(spec, root / spec.path)
    for ttr in site.ttr_suites:
        _render(env, "ttr_suite.html.j2", root / ttr.href, site, root_prefix="../", suite=ttr)
        (root / ttr.csv_href).write_text(ttr_csv(ttr))
        (root / ttr.json_href).write_text(ttr_json(ttr, site.settings))
        (root / ttr.tex_href).write_text(ttr_tex(ttr, site.settings))
        for spec in ttr.figures:
            _save_svg(spec, root / spec.path)
    (root / "data" / "stats.json").write_text(stats_json(site), encoding="utf-8")
    (root / MANIFEST_PATH).write_text(manifest_json(site, previous), encoding="utf-8")
    if changelog is not None:
        _render(env, "changelog.html.j2", root / "changelog.html", site, root_prefix="",
                log=changelog)
        (root / "data" / "changelog.json").write_text(changelog_json(changelog))
    for method in site.methods:
        _render(env, "method.html.j2", root / method.href, site, root_prefix="../",
                method=method)
    (root / "data" / "runs.csv").write_text(runs_csv(site.current.all_runs))
    for asset in sorted((_PACKAGE_DIR / "static").iterdir()):
        shutil.copyfile(asset, root / "static" / asset.name)


def _write_sections(bench: BenchmarkView, site: SiteView, root: Path) -> None:
    """The downloads of a benchmark's compute, effect-size and protocol-gap tables, where it
    has them."""
    if bench.effects is not None:
        (root / bench.effects.csv_href).write_text(effects_csv(bench.effects))
        (root / bench.effects.json_href).write_text(
            effects_json(bench, bench.effects, site.settings))
    if bench.compute is not None:
        (root / bench.compute.csv_href).write_text(compute_csv(bench.compute))
        (root / bench.compute.json_href).write_text(
            compute_json(bench, bench.compute, site.settings))
    if bench.protocol_gap is not None:
        (root / bench.protocol_gap.csv_href).write_text(gap_csv(bench.protocol_gap))
        (root / bench.protocol_gap.json_href).write_text(
            gap_json(bench, bench.protocol_gap, site.settings))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_PACKAGE_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(
    env: jinja2.Environment, template: str, path: Path, site: SiteView, *, root_prefix: str,
    **context: Any,
) -> None:
    html = env.get_template(template).render(site=site, root=root_prefix, **context)
    path.write_text(html, encoding="utf-8")


def _save_svg(spec: PlotSpec, path: Path) -> None:
    path.write_text(figure_svg(spec), encoding="utf-8")
