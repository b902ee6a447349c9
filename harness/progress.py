"""Progress display and the summary table of `harness evaluate` (rich, on stderr)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.evaluation import EvaluationReport, Reporter
from harness.runner.result import RunResult
from harness.runner.spec import Phase
from harness.stats import summarize_cell

if TYPE_CHECKING:
    from harness.ttr_suite import TTRSuite


class RichReporter(Reporter):
    """A bar per phase (runs done of total, failures so far) and one line per failed run."""

    def __init__(self, console: Console, on_first_phase=None):
        self.console = console
        self._on_first_phase = on_first_phase  # e.g. stop a "preparing data" spinner
        self._progress: Progress | None = None
        self._task = None
        self._failed = 0

    def phase(self, name: str, total: int, skipped: int) -> None:
        if self._on_first_phase is not None:
            self._on_first_phase()
            self._on_first_phase = None
        self._failed = 0
        self._progress = Progress(
            TextColumn(f"[bold]{name:<8}[/]"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=self.console,
        )
        note = f"{skipped} already stored" if skipped else ""
        self._task = self._progress.add_task(name, total=total, completed=skipped, note=note)
        self._progress.start()

    def run_done(self, result: RunResult) -> None:
        if not result.ok:
            self._failed += 1
            self._progress.console.print(f"[red]✗[/] {result.spec.label()}: {result.reason}")
        note = f"[red]{self._failed} failed[/]" if self._failed else ""
        self._progress.update(self._task, advance=1, note=note)

    def phase_done(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def summary_table(report: EvaluationReport, metric: str = "final_avg_acc") -> Table:
    """One row per (submission, scenario): trials, chosen config, seeds, metric mean and CI."""
    groups: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    for r in report.results:
        legacy = r.spec.phase in (Phase.LEGACY_TUNE, Phase.LEGACY)
        scenario = f"{r.spec.scenario} (legacy)" if legacy else r.spec.scenario
        groups[(r.spec.submission, scenario)].append(r)
    table = Table(title="harness evaluate — summary")
    for column in ("method", "scenario", "tuning ok", "chosen hparams", "eval ok",
                   f"{metric} (95% CI)", "run time"):
        table.add_column(column, justify="left" if column in ("method", "chosen hparams")
                         else "right")
    for (name, scenario), results in sorted(groups.items()):
        tune = [r for r in results if r.spec.phase.is_trial]
        ev = [r for r in results if not r.spec.phase.is_trial]
        ok_ev = [r.metrics[metric] for r in ev if r.ok and metric in r.metrics]
        table.add_row(
            name, scenario, _ratio(tune), _hparams(ev[0].spec.hparams) if ev else "—",
            _ratio(ev), _mean_ci(ok_ev), f"{sum(r.wall_time_s for r in results):.0f} s",
        )
    return table


def _ratio(results: list[RunResult]) -> str:
    if not results:
        return "—"
    ok = sum(r.ok for r in results)
    text = f"{ok}/{len(results)}"
    return text if ok == len(results) else f"[red]{text}[/]"


def _hparams(hparams: dict) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in sorted(hparams.items())) or "defaults"


def _mean_ci(values: list[float]) -> str:
    if not values:
        return "—"
    cell = summarize_cell(np.array(values))
    if cell.n < 2:
        return f"{cell.mean:.3f} (n=1)"
    return f"{cell.mean:.3f} [{cell.ci_low:.3f}, {cell.ci_high:.3f}] n={cell.n}"


def ttr_summary_table(report: EvaluationReport, suite: TTRSuite) -> Table:
    """Time-to-result summary: per submission, each workload's median-over-studies time to
    target (held-out variants in brackets) and the benchmark score. `suite` is the suite the
    runs were evaluated on (as loaded by the command: a path may name a file outside suites/)."""
    from harness.ttr_scores import score_suite

    if not report.results:
        return Table(title="harness evaluate — no runs")
    scored = score_suite(suite, report.results)
    cells_ok: dict[tuple[str, str], bool] = {}
    for r in report.results:  # a cell whose every run failed says so, not "inf"
        key = (r.spec.submission, r.spec.scenario)
        cells_ok[key] = cells_ok.get(key, False) or r.ok
    table = Table(title="harness evaluate — time to result (s; inf: target missed; "
                        "failed: every run failed, reasons above)")
    table.add_column("training algorithm")
    for w in suite.workloads:
        table.add_column(w.name if w.variant_of is None else f"({w.name})", justify="right")
    table.add_column("score", justify="right")
    for i, name in enumerate(scored.submissions):
        cells = ["failed" if cells_ok.get((name, w.name)) is False else
                 _seconds(scored.raw_times.get((name, w.name), float("inf")))
                 for w in suite.workloads]
        table.add_row(name, *cells, f"{scored.scores[i]:.3f}")
    return table


def _seconds(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.2f}"
