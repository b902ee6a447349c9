"""The local executor: up to `jobs` worker processes at once on this machine.

Worker processes are launched and watched from a small thread pool (the waiting is I/O, the
work is in the children). Results are yielded to the caller as they finish, so the driver alone
writes the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from harness.runner.execute import RunJob, execute, kill_all_workers
from harness.runner.result import RunResult


def threads_per_job(jobs: int) -> int:
    """Torch threads for each worker so that `jobs` workers together fill the CPU cores."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


class LocalExecutor:
    def __init__(self, jobs: int = 1):
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs

    def map(self, run_jobs: Iterable[RunJob]) -> Iterator[RunResult]:
        """Execute every job; yield results in completion order."""
        pending = iter(run_jobs)
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="harness-run") as pool:
            running: set[Future[RunResult]] = set()
            try:
                while True:
                    while len(running) < self.jobs and (job := next(pending, None)) is not None:
                        running.add(pool.submit(execute, job))
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
