"""`harness submissions`: check and list method folders.

    harness submissions validate PATH [PATH ...] [--no-import] [--import-timeout-s S]
    harness submissions list [--root submissions]

`validate` prints "PATH: ok (name, hash)" for a valid folder, else every problem on its own line
("FILE:LINE: message"); it exits 0 when every folder is valid and 2 otherwise. `list` prints one
row per method folder under the root (name, api, ruleset, suites, hash); a folder that does not
load is listed as invalid, and the exit code is then 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from harness.errors import ConfigError
from harness.submission import discover_submissions, load_submission, validate_submission

HASH_CHARS = 12


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "submissions", help="check and list method folders",
        description="Check method folders (static checks, then an import in a fresh "
        "interpreter) and list the ones under a root folder.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    validate = actions.add_parser(
        "validate", help="check method folders; print every problem with file and line")
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                          help="method folder(s) holding submission.toml and submission.py")
    validate.add_argument("--no-import", dest="import_check", action="store_false",
                          help="static checks only; do not import submission.py")
    validate.add_argument("--import-timeout-s", type=float, default=60.0, metavar="S",
                          help="fail the import check after S seconds (default: %(default)s)")
    listing = actions.add_parser("list", help="list the method folders under a root folder")
    listing.add_argument("--root", type=Path, default=Path("submissions"),
                         help="folder holding method folders (default: %(default)s)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "validate":
        return validate_folders(args.paths, import_check=args.import_check,
                                timeout_s=args.import_timeout_s)
    return list_folders(args.root)


def validate_folders(paths: list[Path], import_check: bool = True, timeout_s: float = 60.0,
                     out: TextIO | None = None) -> int:
    """Validate each folder and print the outcome; 0 if all are valid, else 2."""
    out = out or sys.stdout
    all_ok = True
    for path in paths:
        problems = validate_submission(path, import_check=import_check, timeout_s=timeout_s)
        if problems:
            all_ok = False
            for problem in problems:
                print(problem, file=out)
            continue
        submission = load_submission(path)
        print(f"{path}: ok ({submission.meta.name}, {submission.content_hash[:HASH_CHARS]})",
              file=out)
    return 0 if all_ok else 2


def list_folders(root: Path, out: TextIO | None = None) -> int:
    """Print a table of the method folders under `root` (static checks only); 0 if all load."""
    out = out or sys.stdout
    header = ("folder", "name", "api", "ruleset", "suites", "hash")
    rows: list[tuple[str, ...]] = []
    all_ok = True
    for folder in discover_submissions(root):
        try:
            submission = load_submission(folder)
        except ConfigError as exc:
            all_ok = False
            rows.append((folder.name, "INVALID", f"{len(exc.problems)} problem(s)",
                         f"run `harness submissions validate {folder}`", "", ""))
            continue
        meta = submission.meta
        name = meta.name if meta.continual else f"{meta.name} (not continual)"
        rows.append((folder.name, name, meta.api.value, meta.ruleset.value,
                     ",".join(meta.suites), submission.content_hash[:HASH_CHARS]))
    if not rows:
        print(f"no method folders (folders with submission.toml) under {root}", file=out)
        return 0
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(),
              file=out)
    return 0 if all_ok else 2
