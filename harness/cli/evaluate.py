"""`harness evaluate`: run the tuning/evaluation protocol for method folders on a suite."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from harness.cli.arguments import check_device, positive_int
from harness.errors import ConfigError, UserError
from harness.evaluation import EvaluateOptions, evaluate
from harness.nevis.evaluation import evaluate_nevis
from harness.nevis.stream import NevisSuite
from harness.progress import RichReporter, summary_table, ttr_summary_table
from harness.runner.sandbox import MIN_MEMORY_MB
from harness.store import Store
from harness.submission import ApiKind, Submission, discover_submissions, load_submission
from harness.suite import load_suite, restrict_scenarios
from harness.ttr_evaluation import evaluate_ttr
from harness.ttr_suite import TTRSuite

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
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="worker processes at once (default 1)")
    p.add_argument("--seeds", type=positive_int, default=None,
                   help="evaluation seeds (default: suite); studies for time-to-result suites")
    p.add_argument("--trials", type=positive_int, default=None,
                   help="tuning trials (default: suite)")
    p.add_argument("--device", default="cpu", help="torch device for workers (default cpu)")
    p.add_argument("--force", action="store_true", help="re-run runs that are already stored")
    p.add_argument("--retry-failed", action="store_true", help="re-run stored failed runs")
    p.add_argument("--legacy-test-tuning", action="store_true",
                   help="also run the common (unfair) practice of tuning on the evaluation data, "
                   "stored as its own phases, so the site can show each method's protocol gap")
    p.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                   help="run workers without the bubblewrap sandbox (default: sandboxed where "
                   "bwrap works: no network, no view of labels, store or other methods)")
    p.add_argument("--memory-limit-mb", type=int, default=None, metavar="MB",
                   help="address space per run (default: an equal share of physical memory "
                   "per job)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="where runs execute: worker processes here (default) or Ray tasks")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="Ray cluster address (`ray start --head` prints it; `auto` on a node); "
                   "default: a local Ray instance")
    p.add_argument("--cpus-per-run", type=float, default=1.0, metavar="N",
                   help="Ray: CPUs each run asks for (default 1)")
    p.add_argument("--gpus-per-run", type=float, default=0.0, metavar="N",
                   help="Ray: GPUs each run asks for (default 0)")
    p.add_argument("--max-retries", type=int, default=2, metavar="N",
                   help="Ray: resubmit a run whose Ray worker or node was lost up to N times "
                   "(default 2)")
    p.set_defaults(run=run)


def select_submissions(root: Path, methods: list[str], suite_name: str, console: Console,
                       api: ApiKind = ApiKind.CONTINUAL) -> tuple[list[Submission], int]:
    """Load the requested (or all targeting) method folders; report broken ones, skip them."""
    if methods:
        folders = [Path(m) if Path(m).is_dir() else root / m for m in methods]
    else:
        if not root.is_dir():
            raise UserError(f"no submissions folder at {root}; pass --submissions DIR")
        folders = discover_submissions(root)
    folders = list(dict.fromkeys(f.resolve() for f in folders))  # a folder named twice runs once
    chosen, broken = [], 0
    for folder in folders:
        try:
            sub = load_submission(folder)
        except ConfigError as exc:
            broken += 1
            console.print(f"[red]skipping broken method folder {folder}[/]: {exc}\n"
                          f"  check it with `harness submissions validate {folder}`")
            continue
        if methods and sub.meta.api is not api:
            raise UserError(f"{folder} is a {sub.meta.api.value} submission; suite {suite_name} "
                            f"takes {api.value} submissions")
        if sub.targets(suite_name, api) or methods:
            chosen.append(sub)
    if not chosen:
        raise UserError(f"no method folder to evaluate on suite {suite_name!r} in {root}; "
                        "add one (copy submissions/_template) or list folders explicitly")
    return chosen, broken



def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if args.address and args.executor != "ray":
        raise UserError("--address names a Ray cluster; add --executor ray")
    if args.memory_limit_mb is not None and args.memory_limit_mb < MIN_MEMORY_MB:
        raise UserError(f"--memory-limit-mb must be at least {MIN_MEMORY_MB} (torch alone maps "
                        "about 1 GB)")
    suite = load_suite(args.suite)
    check_device(args.device, local=args.executor == "local")
    time_to_result = isinstance(suite, TTRSuite)
    stream = isinstance(suite, NevisSuite)
    if not time_to_result and not stream:
        suite = restrict_scenarios(suite, args.scenarios)
    elif args.scenarios:
        kind = "time-to-result suite (its workloads are scored together)" if time_to_result \
            else "stream suite (its tasks form one stream)"
        raise UserError(f"--scenario selects scenarios of a continual suite; {suite.name} is a "
                        f"{kind}: leave --scenario out")
    api = ApiKind.TRAINING_ALGORITHM if time_to_result else ApiKind.CONTINUAL
    submissions, broken = select_submissions(args.submissions, args.methods, suite.name, console,
                                             api)
    if stream and not args.methods:
        # A long stream is costly: by default only the methods that name it, not every "*".
        submissions = [s for s in submissions if suite.name in s.meta.suites] or submissions
    console.print(f"suite [bold]{suite.name}[/] ({suite.version}): "
                  f"{', '.join(s.meta.name for s in submissions)}; store {args.store}")
    options = EvaluateOptions(jobs=args.jobs, force=args.force, retry_failed=args.retry_failed,
                              num_seeds=args.seeds, num_trials=args.trials, device=args.device,
                              legacy_test_tuning=args.legacy_test_tuning,
                              executor=args.executor, ray_address=args.address,
                              cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                              max_retries=args.max_retries, sandbox=args.sandbox,
                              memory_limit_mb=args.memory_limit_mb)
    with Store(args.store) as store, console.status(
        "preparing data (procedural datasets are generated and cached on first use)"
    ) as status:
        reporter = RichReporter(console, on_first_phase=status.stop)
        run_all = evaluate_ttr if time_to_result else evaluate_nevis if stream else evaluate
        report = run_all(suite, submissions, store, options, reporter=reporter)
    table = ttr_summary_table(report, suite) if time_to_result else \
        summary_table(report, suite.protocol.tuning_metric)
    Console(file=sys.stdout, width=max(120, Console().width)).print(table)
    for line in report.info:
        console.print(f"[cyan]info[/]: {line}")
    for note in report.notes:
        console.print(f"[yellow]note[/]: {note}")
    console.print(f"{report.executed} run(s) executed, {report.skipped} already stored, "
                  f"{len(report.failed)} failed. Next: `harness leaderboard build`.")
    return 1 if report.failed or report.notes or broken else 0
