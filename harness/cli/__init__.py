"""The `harness` command line.

Each subcommand is a module with `add_parser(subparsers)` and `run(args) -> int`; the module
does argument parsing only and calls a plain library function that tests call directly.
`UserError`s are printed as one line (no traceback) with exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys

from harness import __version__
from harness.errors import UserError

# Subcommand modules, imported lazily by name so `harness --help` stays fast. The site builder
# lives in the top-level `leaderboard` package (it reads the store; the engine never imports it).
SUBCOMMANDS = {
    "evaluate": "harness.cli.evaluate",
    "submissions": "harness.cli.submissions",
    "results": "harness.cli.results",
    "data": "harness.cli.data",
    "calibrate": "harness.cli.calibrate",
    "leaderboard": "leaderboard.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Benchmark continual-learning methods and training algorithms; "
        "publish a static leaderboard with uncertainty and significance tests.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except UserError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        print(f"harness: error: no space left on the disk{where}; every finished run is kept: "
              "free space and re-run the same command to resume", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("harness: interrupted; finished runs are saved, re-run to resume.", file=sys.stderr)
        return 130
