"""Immutable releases of the site: `harness leaderboard build --release ID`.

A release tree (the ``--out`` folder, ``site/`` by default) holds::

    site/
      index.html              every release, newest first, with its changelog summary
      static/style.css        for index.html
      releases.json           release order and stamps: what index.html is rendered from
      releases/ID/            one self-contained site per release (opens from file://);
                              written once, never rewritten: a second build of ID is refused
        data/manifest.json    the release's ranked tables (`leaderboard.manifest`)
        changelog.html        what moved since the previous release (`leaderboard.changelog`),
        data/changelog.json   computed from the two manifests, not from old stores
      latest/                 a copy of the newest release, or of the newest unreleased build
      .harness-releases       marker: this folder is a release tree

A release is written into a hidden staging folder beside its final place and renamed into place
only when complete, so a failed build leaves no partial release; ``latest/`` is swapped in the
same way (`leaderboard.build`). A plain build (no ``--release``) into a release tree replaces
only ``latest/`` (stamped "unreleased", with a changelog against the newest release); a plain
site folder written earlier by `harness leaderboard build` becomes a release tree on the first
release. Release ids are short names: letters, digits, ``.``, ``_``, ``-``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.store import Store
from leaderboard.build import (
    MARKER,
    RELEASES_MARKER,
    _build_time,
    _environment,
    _swap_in,
    write_site,
)
from leaderboard.changelog import Changelog, compare_manifests, read_manifest
from leaderboard.manifest import MANIFEST_PATH, manifest_document
from leaderboard.view import SiteView, build_site_view

RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
INDEX_FILE = "releases.json"
UNRELEASED = "unreleased"


def check_release_id(release: str) -> str:
    """`release` if it is a valid id; UserError otherwise (it names a folder)."""
    if not RELEASE_ID.fullmatch(release) or release == UNRELEASED:
        raise UserError(
            f"release id {release!r} is not allowed: use up to 64 letters, digits, '.', '_' or "
            f"'-', starting with a letter or digit (and not {UNRELEASED!r}), e.g. 2025.03 or v1"
        )
    return release


def is_release_tree(out_dir: Path) -> bool:
    return (Path(out_dir) / RELEASES_MARKER).is_file()


def read_index(out_dir: Path) -> dict[str, Any]:
    """The tree's ``releases.json``: {"releases": [oldest … newest], "latest": {...}}."""
    path = Path(out_dir) / INDEX_FILE
    if not path.is_file():
        return {"releases": [], "latest": None}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path} is damaged ({exc}); restore it from a backup or rebuild the "
                        "releases into a new --out folder") from None


def build_release(store_path: Path, out_dir: Path, release: str) -> Path:
    """Build the store as release `release` into the release tree `out_dir`; update
    ``latest/``, the index and the changelog. Return the release's index.html.

    Raises `UserError` for a bad id, an existing release id, a missing store, or an `out_dir`
    that holds something other than a site or release tree.
    """
    check_release_id(release)
    out_dir = Path(out_dir)
    target = out_dir / "releases" / release
    if target.exists():
        raise UserError(f"release {release} already exists at {target}; releases are immutable: "
                        "choose a new release id (or build without --release to refresh "
                        "latest/)")
    _require_store(store_path)
    retired = _prepare_tree(out_dir)
    index = read_index(out_dir)
    previous = index["releases"][-1]["id"] if index["releases"] else None
    site, changelog = _site_and_changelog(store_path, out_dir, release, previous)
    target.parent.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{release}.building-", dir=target.parent))
    try:
        write_site(site, staging, changelog=changelog, previous=previous)
        staging.chmod(0o755)
        os.rename(staging, target)  # fails if another build took the id meanwhile
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if target.exists():
            raise UserError(f"release {release} was written by another build meanwhile "
                            f"({target}); releases are immutable: choose a new id") from exc
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    entry = {"id": release, "built_at": site.stamp.built_at,
             "harness_version": site.stamp.harness_version, "num_runs": site.num_runs,
             "previous": previous, "summary": changelog.summary}
    index["releases"].append(entry)
    index["latest"] = {"release": release, "built_at": site.stamp.built_at}
    _copy_to_latest(target, out_dir)
    _write_index(out_dir, index)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return target / "index.html"


def build_latest(store_path: Path, out_dir: Path) -> Path:
    """An unreleased build of the store into the release tree's ``latest/`` (with a changelog
    against the newest release); the releases stay as they are. Return latest/index.html."""
    _require_store(store_path)
    index = read_index(out_dir)
    previous = index["releases"][-1]["id"] if index["releases"] else None
    site, changelog = _site_and_changelog(store_path, out_dir, None, previous)
    staging = Path(tempfile.mkdtemp(prefix=".latest.building-", dir=out_dir))
    try:
        write_site(site, staging, changelog=changelog, previous=previous)
        _swap_in(staging, out_dir / "latest")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    index["latest"] = {"release": UNRELEASED, "built_at": site.stamp.built_at}
    _write_index(out_dir, index)
    return out_dir / "latest" / "index.html"


def _require_store(store_path: Path) -> None:
    if not Path(store_path).is_file():
        raise UserError(f"no results store at {store_path}; run `harness evaluate` to produce "
                        "results, or pass --store PATH")


def _site_and_changelog(store_path: Path, out_dir: Path, release: str | None,
                        previous: str | None) -> tuple[SiteView, Changelog]:
    """The view of the store and its changelog against release `previous` (None: first)."""
    with Store(store_path) as store:
        site = build_site_view(store, built_at=_build_time(), release=release)
    old = read_manifest(out_dir / "releases" / previous / MANIFEST_PATH) if previous else None
    return site, compare_manifests(old, manifest_document(site, previous))


def _prepare_tree(out_dir: Path) -> Path | None:
    """Make `out_dir` a release tree. A plain site written earlier by this builder is moved
    aside (returned, to delete once the release is in place); anything else is refused."""
    if is_release_tree(out_dir):
        return None
    retired = None
    if out_dir.exists():
        if not out_dir.is_dir():
            raise UserError(f"--out {out_dir} is a file; choose a folder for the releases")
        if (out_dir / MARKER).is_file():
            retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, retired / "site")
        elif any(out_dir.iterdir()):
            raise UserError(f"--out {out_dir} is not empty and was not written by `harness "
                            "leaderboard build`; choose a new or empty folder for the releases")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RELEASES_MARKER).write_text(
        "A release tree of `harness leaderboard build --release`; releases/ is never "
        "rewritten, latest/ and index.html are.\n")
    return retired


def _copy_to_latest(release_dir: Path, out_dir: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".latest.copying-", dir=out_dir))
    try:
        shutil.copytree(release_dir, staging, dirs_exist_ok=True)
        _swap_in(staging, out_dir / "latest")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_index(out_dir: Path, index: Mapping[str, Any]) -> None:
    """releases.json, index.html and static/ of the tree, each replaced atomically."""
    (out_dir / "static").mkdir(exist_ok=True)
    shutil.copyfile(Path(__file__).parent / "static" / "style.css",
                    out_dir / "static" / "style.css")
    html = _environment().get_template("releases.html.j2").render(
        releases=list(reversed(index["releases"])), latest=index["latest"])
    for name, text in ((INDEX_FILE, json.dumps(index, indent=2) + "\n"), ("index.html", html)):
        handle, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_dir / name)
