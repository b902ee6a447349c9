"""The local executor: up to `jobs` worker processes at once on this machine.

Worker processes are launched and watched from a small thread pool (the waiting is I/O, the
work is in the children). Results are yielded to the caller as they finish, so the driver alone
writes the store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from functools import partial

from harness import __version__
from harness.runner.execute import RunJob, execute, kill_all_workers
from harness.runner.process import WorkerSettings, configure
from harness.runner.result import RunResult, RunStatus
from harness.runner.sandbox import announce_unavailable
from harness.store import utc_now


def threads_per_job(jobs: int) -> int:
    """Torch threads for each worker so that `jobs` workers together fill the CPU cores."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def execute_guarded(job: RunJob) -> RunResult:
    """`execute(job)`, whose contract is never to raise, held to it (`guarded`)."""
    return guarded(job, partial(execute, job))


def guarded(job: RunJob, run: Callable[[], RunResult]) -> RunResult:
    """`run()`, which runs `job`, held to the contract of never raising.

    Scoring reads files a worker wrote (`result.json`, `predictions.npy`); a hostile or broken
    worker can make them unreadable, and no worker may take the campaign down. Whatever escapes
    becomes this run's failure, with the reason, so it shows in `harness results list`.
    """
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - one run's failure must not stop the others
        now = utc_now()
        message = str(exc).splitlines()[0] if str(exc) else ""
        return RunResult(
            spec=job.spec, status=RunStatus.FAILED, started_at=now, finished_at=now,
            reason=f"the harness could not score this run: {type(exc).__name__}: {message}"[:500],
            dataset_fingerprints=job.payload["dataset_fingerprints"],
            harness_version=__version__,
        )


class LocalExecutor:
    def __init__(self, jobs: int = 1, settings: WorkerSettings | None = None):
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs
        self.settings = settings
        if settings is not None and settings.sandbox:
            announce_unavailable()

    def map(self, run_jobs: Iterable[RunJob]) -> Iterator[RunResult]:
        """Execute every job; yield results in completion order."""
        if self.settings is not None:
            configure(self.settings)
        pending = iter(run_jobs)
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="harness-run") as pool:
            running: set[Future[RunResult]] = set()
            try:
                while True:
                    while len(running) < self.jobs and (job := next(pending, None)) is not None:
                        running.add(pool.submit(execute_guarded, job))
                    if not running:
                        return
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
            except BaseException:  # interrupted or abandoned: stop the workers, do not wait
                for future in running:
                    future.cancel()
                kill_all_workers()
                raise
