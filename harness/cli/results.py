"""`harness results list|export|import`: inspect and move stored results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.bundle import export_bundle, import_bundle
from harness.errors import UserError
from harness.store import Store

DEFAULT_STORE = Path("results/harness.db")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("results", help="list, export or import stored results")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="list stored runs")
    ls.add_argument("--suite")
    ls.add_argument("--submission")
    ls.add_argument("--phase", choices=["tune", "evaluate"])
    ls.add_argument("--status", choices=["ok", "failed"])
    ls.set_defaults(run=run_list)
    ex = verbs.add_parser("export", help="write every run to a JSONL bundle with checksums")
    ex.add_argument("--out", type=Path, default=Path("results/bundle.jsonl"))
    ex.set_defaults(run=run_export)
    im = verbs.add_parser("import", help="add the runs of a bundle (idempotent)")
    im.add_argument("bundle", type=Path)
    im.set_defaults(run=run_import)
    for sub in (ls, ex, im):
        sub.add_argument("--store", type=Path, default=DEFAULT_STORE,
                         help=f"results store (default: {DEFAULT_STORE})")


def _existing_store(path: Path) -> Store:
    if not path.exists():
        raise UserError(f"no results store at {path}; run `harness evaluate` first or pass "
                        "--store PATH")
    return Store(path)


def run_list(args: argparse.Namespace) -> int:
    with _existing_store(args.store) as store:
        frame = store.runs_frame()
    for column in ("suite", "submission", "phase", "status"):
        if getattr(args, column):
            frame = frame[frame[column] == getattr(args, column)]
    table = Table(title=f"{len(frame)} run(s) in {args.store}")
    for column in ("run key", "suite/scenario", "method", "phase", "seed/trial", "status",
                   "result", "reason"):
        table.add_column(column)
    for row in frame.to_dict("records"):
        where = row["seed"] if row["phase"] == "evaluate" else f"t{row['trial']}"
        table.add_row(row["run_key"][:12], f"{row['suite']}/{row['scenario']}",
                      row["submission"], row["phase"], str(where), row["status"],
                      result_text(row), row["reason"][:80])
    Console(file=sys.stdout, width=160).print(table)
    return 0


def _value(row: dict, metric: str) -> float | None:
    value = row.get(f"metric.{metric}")
    return None if value is None or value != value else float(value)


def result_text(row: dict) -> str:
    """A run's headline result by suite kind: a continual run's final average accuracy, a
    time-to-result run's time to target (and best validation metric), a stream's error."""
    if (acc := _value(row, "final_avg_acc")) is not None:
        return f"final_avg_acc {acc:.3f}"
    if (time_s := _value(row, "time_to_target_s")) is not None:
        best = _value(row, "best_metric")
        reached = f"target at {time_s:.2f} s" if time_s != float("inf") else "target not reached"
        return reached + (f", best {best:.4g}" if best is not None else "")
    if (error := _value(row, "avg_error")) is not None:
        return f"avg_error {error:.3f}"
    return ""


def run_export(args: argparse.Namespace) -> int:
    with _existing_store(args.store) as store:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the folder of {args.out}: "
                            f"{exc.strerror or exc}") from None
        count = export_bundle(store, args.out)
    print(f"exported {count} run(s) to {args.out}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    if not args.bundle.is_file():  # before the store is created
        raise UserError(f"no results bundle at {args.bundle}; write one with `harness results "
                        "export --out FILE`")
    with Store(args.store) as store:
        new, present = import_bundle(store, args.bundle)
    print(f"imported {new} new run(s) from {args.bundle}; {present} were already stored")
    return 0
