"""The Ray executor: each run is a Ray task on some node of a Ray cluster.

    pip install 'harness[ray]'
    harness evaluate --executor ray                          # a local Ray instance
    # a cluster: on the head node, then on every other node
    ray start --head --port 6379
    ray start --address HEAD_IP:6379
    # then on any machine that reaches the head (or `--address auto` on a node)
    harness evaluate --executor ray --address HEAD_IP:6379

Every node needs the same harness, Python and torch (each run stores the hardware fingerprint
and versions of the node that ran it), the method folders at the same absolute paths, and the
data cache at the same path: a filesystem all nodes mount, named by ``HARNESS_CACHE_DIR`` in the
environment of the driver and of every ``ray start``. The driver prepares each scenario's worker
files in the cache's ``.prepared`` folder; the nodes read them there.

A task calls the parent side of a run, `execute(job)`, on its node, exactly as the local
executor does on this machine: it starts the worker (forked from that Ray worker's zygote, or
sandboxed), enforces the time limit, scores the predictions with the labels carried in the job
(in the task, never in the worker) and returns the `RunResult`. Results come back to the driver
in completion order through the same `map` interface as `LocalExecutor`; the driver alone
writes the store. A task asks Ray for `cpus_per_run` CPUs and `gpus_per_run` GPUs and gives the
worker that many torch threads (at least 1) — the thread count is what the local executor gives
when `--jobs` equals the cores, and with equal thread counts both executors store identical
metrics and curves for a run key (timings and memory peaks are measurements, not results).

Lost runs: Ray's own retries are off, so the harness can count them. A run whose Ray worker
process or node died (`WorkerCrashedError`, `NodeDiedError`, ...) — or that raised
`RayTaskError`, which is a system failure by construction, since submission code fails inside
the worker and comes back as a failed `RunResult` — is resubmitted up to `max_retries` times.
The count is recorded in the run's reason: "ran after 1 Ray retry (WorkerCrashedError)" on a run
that then succeeded, appended to the reason of one that then failed; a run lost more often
fails with a reason that says so (re-run it with `--retry-failed`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from harness.errors import UserError
from harness.runner.execute import RunJob
from harness.runner.local import execute_guarded
from harness.runner.process import WorkerSettings, configure
from harness.runner.result import RunResult, RunStatus
from harness.runner.sandbox import ResourceLimits, announce_unavailable

# Ray exceptions that mean "the machinery lost the run", not "the run failed". Looked up by
# name: not every Ray version has all of them.
_SYSTEM_FAILURE_NAMES = ("WorkerCrashedError", "NodeDiedError", "LocalRayletDiedError",
                         "ObjectLostError", "OwnerDiedError", "OutOfMemoryError",
                         "RaySystemError", "RayTaskError")


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise UserError("the ray executor needs Ray: pip install 'harness[ray]' (or "
                        "`pip install ray`), or run with the default --executor local") from exc
    return ray


def system_failures(ray) -> tuple[type[BaseException], ...]:
    """The Ray exceptions after which a run is resubmitted."""
    return tuple(getattr(ray.exceptions, name) for name in _SYSTEM_FAILURE_NAMES
                 if hasattr(ray.exceptions, name))


def run_on_node(job: RunJob, sandbox: bool, memory_limit_mb: int | None,
                cpus_per_run: float) -> RunResult:
    """The Ray task: confine workers as the driver asked, then run the parent side of `job`."""
    concurrent = max(1, int((os.cpu_count() or 1) // max(cpus_per_run, 1e-9)))
    configure(WorkerSettings(sandbox=sandbox,
                             limits=ResourceLimits.for_jobs(concurrent, memory_limit_mb)))
    if sandbox:
        announce_unavailable()  # once per Ray worker process; Ray forwards it to the driver
    return execute_guarded(job)


def note_retries(result: RunResult, lost: list[str]) -> RunResult:
    """Record in the reason how often the run was resubmitted after Ray lost it, and why."""
    if not lost:
        return result
    note = (f"ran after {len(lost)} Ray {'retry' if len(lost) == 1 else 'retries'} "
            f"({', '.join(lost)})")
    reason = f"{result.reason} [{note}]" if result.reason else note
    return dataclasses.replace(result, reason=reason)


def lost_result(job: RunJob, lost: list[str], last: BaseException) -> RunResult:
    """The failed result of a run Ray lost more often than allowed."""
    message = str(last).strip().splitlines()
    detail = f": {message[0][:200]}" if message else ""
    return RunResult(
        spec=job.spec, status=RunStatus.FAILED,
        reason=(f"Ray lost this run {len(lost)} times (the limit is {len(lost) - 1} "
                f"retries); last: {type(last).__name__}{detail}"),
        dataset_fingerprints=job.payload["dataset_fingerprints"],
    )


class RayExecutor:
    """Runs each job as a Ray task; `map` yields results in completion order."""

    def __init__(self, address: str | None = None, *, cpus_per_run: float = 1.0,
                 gpus_per_run: float = 0.0, max_retries: int = 2, sandbox: bool = False,
                 memory_limit_mb: int | None = None):
        if cpus_per_run <= 0 or gpus_per_run < 0 or max_retries < 0:
            raise UserError("Ray executor: cpus per run must be > 0, gpus per run and "
                            "max retries >= 0")
        self._ray = ray = _import_ray()
        if not ray.is_initialized():
            try:
                ray.init(address=address, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"at {address}" if address else "on this machine"
                raise UserError(f"cannot start or reach a Ray cluster {where}: {exc}; start one "
                                "with `ray start --head` and pass its address") from exc
        resources = ray.cluster_resources()
        for name, wanted in (("CPU", cpus_per_run), ("GPU", gpus_per_run)):
            if wanted and resources.get(name, 0) < wanted:
                raise UserError(f"each run asks Ray for {wanted:g} {name}(s), but the cluster "
                                f"has {resources.get(name, 0):g}; lower --{name.lower()}s-per-run")
        self.max_retries = max_retries
        self.num_threads = max(1, int(cpus_per_run))
        self.max_in_flight = 2 * max(1, int(resources.get("CPU", 1) // cpus_per_run))
        self._args = (sandbox, memory_limit_mb, cpus_per_run)
        self._remote = ray.remote(run_on_node).options(
            num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)
        self._failures = system_failures(ray)

    def _submit(self, job: RunJob):
        payload = {**job.payload, "num_threads": self.num_threads}
        return self._remote.remote(dataclasses.replace(job, payload=payload), *self._args)

    def map(self, run_jobs: Iterable[RunJob]) -> Iterator[RunResult]:
        """Execute every job on the cluster; yield results in completion order."""
        ray = self._ray
        pending = iter(run_jobs)
        in_flight: dict[Any, tuple[RunJob, list[str]]] = {}
        try:
            while True:
                while len(in_flight) < self.max_in_flight and \
                        (job := next(pending, None)) is not None:
                    in_flight[self._submit(job)] = (job, [])
                if not in_flight:
                    return
                [ref], _ = ray.wait(list(in_flight), num_returns=1)
                job, lost = in_flight.pop(ref)
                try:
                    result = ray.get(ref)
                except self._failures as exc:
                    lost = [*lost, type(exc).__name__]
                    if len(lost) <= self.max_retries:
                        in_flight[self._submit(job)] = (job, lost)
                        continue
                    result = lost_result(job, lost, exc)
                    lost = []
                yield note_retries(result, lost)
        except BaseException:  # interrupted or abandoned: stop the tasks (and their workers)
            for ref in in_flight:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
