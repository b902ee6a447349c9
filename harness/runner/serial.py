"""Timed runs one at a time, whatever the executor's parallelism.

Time-to-result runs never share the machine (AlgoPerf timing, `harness.ttr_evaluation`).
`one_at_a_time(executor)` wraps the campaign's executor accordingly:

- **Ray** (or any other executor): `OneAtATime` hands it one job and waits for its result
  before the next, so a cluster never has two timed runs in flight.
- **Local**: `WarmedSerialExecutor`. A sandboxed run is a fresh interpreter whose start-up —
  torch, `torch._dynamo`, the workload's data: about 4 CPU-seconds, on one core — would
  otherwise run alone while the other cores idle, 150 times in a full ttr-cpu evaluation. Here
  the workers of the next runs start together, one per core, so their start-ups overlap;
  each holds once warm (`harness.runner.ttr_exchange.hold_until_released`: blocked on its stdin,
  no CPU, no submission code run yet) until its turn. The parent releases one run, waits for
  its end, releases the next; when none is left warm it starts the next batch. No worker is
  ever starting while a run is timed, and only harness code overlaps. A held worker's waiting
  is not part of its run's wall time. Forked workers (`--no-sandbox`) start from the zygote in
  milliseconds and simply run one by one.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import islice
from typing import Any

from harness.runner.execute import RunJob, StartedRun, finish, kill_all_workers, start, wait_warm
from harness.runner.local import LocalExecutor, guarded
from harness.runner.process import WorkerSettings, configure
from harness.runner.result import RunResult
from harness.runner.sandbox import sandbox_available


def one_at_a_time(executor: Any) -> Any:
    """`executor`, made to run one job at a time (see the module docstring)."""
    if isinstance(executor, LocalExecutor) and executor.settings is not None:
        return WarmedSerialExecutor(executor.settings)
    return OneAtATime(executor)


class OneAtATime:
    """An executor wrapper that runs one job at a time, whatever the executor's parallelism."""

    def __init__(self, executor: Any):
        self.executor = executor
        self.max_in_flight = 1

    def map(self, run_jobs: Iterable[RunJob]) -> Iterator[RunResult]:
        for job in run_jobs:
            yield from self.executor.map([job])


class WarmedSerialExecutor:
    """Runs jobs one at a time on this machine, starting sandboxed workers ahead in batches of
    `ahead` (default: one per CPU core)."""

    max_in_flight = 1

    def __init__(self, settings: WorkerSettings, ahead: int | None = None):
        self.settings = settings
        self.ahead = max(1, ahead or os.cpu_count() or 1)

    def map(self, run_jobs: Iterable[RunJob]) -> Iterator[RunResult]:
        configure(self.settings)
        warmed = self.settings.sandbox and sandbox_available()
        batch_size = self.ahead if warmed else 1
        pending = iter(run_jobs)
        batch: deque[StartedRun] = deque()
        try:
            while True:
                if not batch:
                    batch.extend(start(job, hold=warmed)
                                 for job in islice(pending, batch_size))
                    if not batch:
                        return
                    for run in batch if warmed else ():  # a forked worker is never held:
                        wait_warm(run)  # waiting for it to be warm would wait out its run
                run = batch.popleft()
                yield guarded(run.job, partial(finish, run))
        except BaseException:  # interrupted, or the caller stopped early: no worker outlives us
            kill_all_workers()
            for run in batch:  # reap the killed workers, remove their scratch folders
                with contextlib.suppress(Exception):
                    finish(run)
            raise
