"""`harness leaderboard build`: build the static leaderboard site from the results store.

Argument parsing only; the work is `leaderboard.build.build_site`, which tests call directly.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "leaderboard",
        help="build the static leaderboard site",
        description="Build the static leaderboard site from the results store.",
    )
    actions = parser.add_subparsers(dest="leaderboard_command", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="build the site into a folder that opens from file:// (no server needed)",
        description="Build the leaderboard site: tables with confidence intervals and "
        "significance marks, method pages, figures, CSV/JSON downloads.",
    )
    build.add_argument(
        "--store", type=Path, default=Path("results/harness.db"),
        help="results store to read (default: results/harness.db)",
    )
    build.add_argument(
        "--out", type=Path, default=Path("site"),
        help="folder to write the site to; replaced on rebuild (default: site)",
    )
    build.add_argument(
        "--release", default=None, metavar="ID",
        help="keep this build as the immutable release ID: --out becomes a release tree with "
        "releases/ID/, latest/ (a copy of the newest release), an index of releases and a "
        "changelog against the previous release; an existing ID is refused (default: a plain, "
        "unreleased site; into a release tree it refreshes latest/ only)",
    )
    build.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `harness --help` does not load pandas and the statistics stack.
    from leaderboard.build import build_site
    from leaderboard.releases import build_latest, build_release, is_release_tree

    if args.release is not None:
        index = build_release(args.store, args.out, args.release)
    elif is_release_tree(args.out):
        index = build_latest(args.store, args.out)
    else:
        index = build_site(args.store, args.out)
    print(index.resolve().as_uri())
    return 0
