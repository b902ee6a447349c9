"""`harness evaluate`: run the tuning/evaluation protocol for method folders on a suite."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from harness.errors import ConfigError, UserError
from harness.evaluation import EvaluateOptions, evaluate
from harness.progress import RichReporter, summary_table
from harness.store import Store
from harness.submission import ApiKind, Submission, discover_submissions, load_submission
from harness.suite import load_suite, restrict_scenarios

DEFAULT_STORE = Path("results/harness.db")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate", help="tune and evaluate method folders on a suite",
        description="Tune each method on the suite's tuning scenario, then evaluate the chosen "
        "configuration over several seeds on the evaluation scenario. Finished runs are "
        "skipped, so re-running the same command resumes an interrupted evaluation.",
    )
    p.add_argument("methods", nargs="*", metavar="METHOD",
                   help="method folders (paths) or names under --submissions; default: every "
                   "method that targets the suite")
    p.add_argument("--suite", default="quickstart", help="suite name or .toml path "
                   "(default: quickstart)")
    p.add_argument("--scenario", action="append", dest="scenarios", metavar="SCENARIO",
                   help="only this scenario of the suite (task, domain or class); repeatable")
    p.add_argument("--submissions", type=Path, default=Path("submissions"),
                   help="folder of method folders (default: ./submissions)")
    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help=f"results store (default: {DEFAULT_STORE})")
    p.add_argument("--jobs", type=int, default=1, help="worker processes at once (default 1)")
    p.add_argument("--seeds", type=int, default=None, help="evaluation seeds (default: suite)")
    p.add_argument("--trials", type=int, default=None, help="tuning trials (default: suite)")
    p.add_argument("--device", default="cpu", help="torch device for workers (default cpu)")
    p.add_argument("--force", action="store_true", help="re-run runs that are already stored")
    p.add_argument("--retry-failed", action="store_true", help="re-run stored failed runs")
    p.add_argument("--legacy-test-tuning", action="store_true",
                   help="also run the common (unfair) practice of tuning on the evaluation data, "
                   "stored as its own phases, so the site can show each method's protocol gap")
    p.set_defaults(run=run)


def select_submissions(root: Path, methods: list[str], suite_name: str,
                       console: Console) -> tuple[list[Submission], int]:
    """Load the requested (or all targeting) method folders; report broken ones, skip them."""
    if methods:
        folders = [Path(m) if Path(m).is_dir() else root / m for m in methods]
    else:
        if not root.is_dir():
            raise UserError(f"no submissions folder at {root}; pass --submissions DIR")
        folders = discover_submissions(root)
    chosen, broken = [], 0
    for folder in folders:
        try:
            sub = load_submission(folder)
        except ConfigError as exc:
            broken += 1
            console.print(f"[red]skipping broken method folder {folder}[/]: {exc}\n"
                          f"  check it with `harness submissions validate {folder}`")
            continue
        if sub.targets(suite_name, ApiKind.CONTINUAL) or methods:
            chosen.append(sub)
    if not chosen:
        raise UserError(f"no method folder to evaluate on suite {suite_name!r} in {root}; "
                        "add one (copy submissions/_template) or list folders explicitly")
    return chosen, broken


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    suite = restrict_scenarios(load_suite(args.suite), args.scenarios)
    submissions, broken = select_submissions(args.submissions, args.methods, suite.name, console)
    console.print(f"suite [bold]{suite.name}[/] ({suite.version}): "
                  f"{', '.join(s.meta.name for s in submissions)}; store {args.store}")
    options = EvaluateOptions(jobs=args.jobs, force=args.force, retry_failed=args.retry_failed,
                              num_seeds=args.seeds, num_trials=args.trials, device=args.device,
                              legacy_test_tuning=args.legacy_test_tuning)
    with Store(args.store) as store, console.status(
        "preparing data (procedural datasets are generated and cached on first use)"
    ) as status:
        reporter = RichReporter(console, on_first_phase=status.stop)
        report = evaluate(suite, submissions, store, options, reporter=reporter)
    Console(file=sys.stdout, width=max(120, Console().width)).print(
        summary_table(report, suite.protocol.tuning_metric))
    for note in report.notes:
        console.print(f"[yellow]note[/]: {note}")
    console.print(f"{report.executed} run(s) executed, {report.skipped} already stored, "
                  f"{len(report.failed)} failed. Next: `harness leaderboard build`.")
    return 1 if report.failed or report.notes or broken else 0
