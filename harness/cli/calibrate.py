"""`harness calibrate`: set a time-to-result suite's targets from reference algorithms."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.calibrate import run_calibration, write_targets
from harness.cli.arguments import check_device, positive_int
from harness.errors import ConfigError, UserError
from harness.evaluation import EvaluateOptions
from harness.progress import RichReporter
from harness.store import Store
from harness.submission import ApiKind, load_submission
from harness.suite import load_suite
from harness.ttr_suite import TTRSuite

DEFAULT_STORE = Path("results/calibration.db")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calibrate", help="set a time-to-result suite's targets from reference algorithms",
        description="Run reference training algorithms with fixed settings over several seeds "
        "on every workload of a time-to-result suite and write each workload's target (the "
        "best over references of the median best validation metric within the budget) into "
        "the suite file, with its provenance in a [workload.calibration] table.",
    )
    p.add_argument("suite", help="time-to-result suite name or .toml path (rewritten in place)")
    p.add_argument("--reference", nargs="+", required=True, type=Path, metavar="FOLDER",
                   help="reference method folders (training algorithms)")
    p.add_argument("--seeds", type=positive_int, default=3,
                   help="seeds per reference (default 3)")
    p.add_argument("--hparams", type=Path, default=None, metavar="FILE",
                   help='JSON {"reference name": {hyperparameters}}: tuned settings; a reference '
                   "not listed runs at its search space's centre")
    p.add_argument("--workload", action="append", dest="workloads", metavar="NAME",
                   help="only this workload (repeatable; default: all)")
    p.add_argument("--store", type=Path, default=DEFAULT_STORE,
                   help=f"store of calibration runs, for resuming (default: {DEFAULT_STORE})")
    p.add_argument("--device", default="cpu", help="torch device for workers (default cpu)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the targets without writing the suite file")
    p.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                   help="run workers without the bubblewrap sandbox")
    p.set_defaults(run=run)


def _tuned(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read --hparams {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise UserError(f'--hparams {path} must be a JSON object {{"name": {{...}}}}')
    return data


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    suite = load_suite(args.suite)
    check_device(args.device)
    if not isinstance(suite, TTRSuite):
        raise UserError(f"{args.suite} is not a time-to-result suite; calibrate sets the "
                        "targets of training-algorithm suites")
    references = []
    for folder in args.reference:
        try:
            sub = load_submission(folder)
        except ConfigError as exc:
            raise UserError(f"reference {folder} is broken: {exc}") from exc
        if sub.meta.api is not ApiKind.TRAINING_ALGORITHM:
            raise UserError(f"reference {folder} is a {sub.meta.api.value} submission, not a "
                            "training algorithm")
        references.append(sub)
    options = EvaluateOptions(device=args.device, sandbox=args.sandbox)
    with Store(args.store) as store:
        report = run_calibration(suite, references, store, num_seeds=args.seeds,
                                 tuned=_tuned(args.hparams), only=args.workloads,
                                 options=options,
                                 reporter=RichReporter(console, on_first_phase=lambda: None))
    table = Table(title=f"calibrated targets of {suite.name}")
    for column in ("workload", "metric", "old target", "new target",
                   *(s.meta.name for s in references)):
        table.add_column(column)
    old = {w.name: w for w in suite.workloads}
    for cal in report.calibrations:
        w = old[cal.workload]
        table.add_row(cal.workload, w.metric, f"{w.target:g}", f"{cal.target:g}",
                      *(f"{cal.medians[s.meta.name]:.4g}" if s.meta.name in cal.medians
                        else "failed" for s in references))
    Console(file=sys.stdout, width=120).print(table)
    for r in report.failed:
        console.print(f"[yellow]failed[/]: {r.spec.submission} on {r.spec.scenario} "
                      f"(seed {r.spec.seed}): {r.reason}")
    if args.dry_run:
        console.print("dry run: the suite file is unchanged")
    else:
        write_targets(suite.path, report, args.seeds)
        console.print(f"wrote {len(report.calibrations)} target(s) into {suite.path}")
    return 1 if report.failed else 0
