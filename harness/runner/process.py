"""Starting, watching and killing worker processes.

Each run gets a fresh process forked from the *zygote* (`harness.runner.zygote`), a clean
interpreter that has already imported torch, `torch._dynamo` (which torch's optimizers import on
first use) and the worker module. A plain `python -m` start costs 3–10 s of imports on a busy
2-core machine; a fork costs milliseconds. Runs stay isolated: the zygote never holds the
parent's data (labels, store), and every worker starts from the same clean state.

A worker leads its own session, so a kill takes any children it spawned along. Its stdout and
stderr go to `worker.log` in its scratch folder. Every worker is confined by resource limits
(`harness.runner.sandbox.confine`); with the sandbox on (and bubblewrap working) a worker is
instead a fresh process inside a bwrap sandbox (`sandbox.SandboxedWorker`; why not forked:
see that module). How workers start is process-wide (`configure`), set by the executor, because
`execute` — the parent side of a run, which Ray also calls on remote nodes — creates them.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.runner.sandbox import ResourceLimits, SandboxedWorker, sandbox_available

# Exit code reported for workers whose zygote died under them.
ZYGOTE_LOST = -int(signal.SIGKILL)


class _Zygote:
    """The harness side of one zygote process: start requests and exit notifications."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness.runner.zygote"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self.alive = True
        self._cond = threading.Condition()
        self._started: list[int] = []
        self._exits: dict[int, int] = {}
        self._request_lock = threading.Lock()  # one start request in flight at a time
        threading.Thread(target=self._read, name="harness-zygote", daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._cond:
                if "started" in message:
                    self._started.append(message["started"])
                else:
                    self._exits[message["exited"]] = message["code"]
                self._cond.notify_all()
        with self._cond:
            self.alive = False
            self._cond.notify_all()

    def start(self, scratch: Path, limits: ResourceLimits) -> int:
        request = json.dumps({"scratch": str(scratch), "env": dict(os.environ),
                              "limits": limits.to_json()})
        with self._request_lock, self._cond:
            self.proc.stdin.write(request + "\n")
            self.proc.stdin.flush()
            while not self._started and self.alive:
                self._cond.wait()
            if not self._started:
                raise RuntimeError("the worker zygote exited; see the messages above")
            return self._started.pop(0)

    def exit_code(self, pid: int, timeout_s: float) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits or not self.alive, timeout=timeout_s)
            if pid in self._exits:
                return self._exits.pop(pid)
            return None if self.alive else ZYGOTE_LOST

    def close(self) -> None:
        """Close the zygote's stdin (it exits on EOF) and wait for it."""
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


_zygote: _Zygote | None = None
_zygote_lock = threading.Lock()


def _get_zygote() -> _Zygote:
    global _zygote
    with _zygote_lock:
        if _zygote is None or not _zygote.alive:
            _zygote = _Zygote()
            atexit.register(_zygote.close)
        return _zygote


@dataclass(frozen=True)
class WorkerSettings:
    """How this process starts workers. `sandbox`: under bubblewrap where it works (else
    forked from the zygote, after a one-line note); `limits`: every worker's resource limits."""

    sandbox: bool = False
    limits: ResourceLimits = field(default_factory=lambda: ResourceLimits.for_jobs(1))


_settings = WorkerSettings()


def configure(settings: WorkerSettings) -> None:
    """Set how workers started from now on (in this process) are confined."""
    global _settings
    _settings = settings


def current_settings() -> WorkerSettings:
    return _settings


class Worker:
    """A running worker process: forked from the zygote, or fresh inside the sandbox.

    `hold`: a sandboxed worker gets a pipe for stdin, on which a held time-to-result worker
    waits, warm, until `release` (`harness.runner.ttr_exchange.hold_until_released`). A forked
    worker's stdin is /dev/null, so it never waits: it starts in milliseconds anyway.
    """

    def __init__(self, scratch: Path, hold: bool = False):
        job = json.loads((scratch / "job.json").read_text())
        settings = _settings
        limits = settings.limits.for_device(job["device"])
        self.exitcode: int | None = None
        self._zygote: _Zygote | None = None
        self._sandboxed: SandboxedWorker | None = None
        if settings.sandbox and sandbox_available():
            self._sandboxed = SandboxedWorker(scratch, job, limits, hold=hold)
            self.pid = self._sandboxed.pid
        else:
            self._zygote = _get_zygote()
            self.pid = self._zygote.start(scratch, limits)

    def release(self) -> None:
        """Let a held worker go on; nothing for a worker that was not held."""
        if self._sandboxed is not None:
            self._sandboxed.release()

    def join(self, timeout_s: float) -> int | None:
        if self.exitcode is not None:
            return self.exitcode
        if self._sandboxed is not None:
            code = self._sandboxed.wait(timeout_s)
        else:
            code = self._zygote.exit_code(self.pid, timeout_s)
        # Another thread may be waiting too (a watchdog and the main loop); the first to see
        # the exit code keeps it, a later timeout never overwrites it with None.
        if code is not None:
            self.exitcode = code
        return self.exitcode

    def kill(self) -> None:
        """SIGKILL the worker's whole process group, then wait for it to be reaped."""
        if self._sandboxed is not None:
            self._sandboxed.kill()
            self.exitcode = self._sandboxed.wait(timeout_s=0)
            return
        for kill in (os.killpg, os.kill):  # before setsid() the group does not exist yet
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(self.pid, signal.SIGKILL)
        self.join(timeout_s=10)


def wait_worker(worker: Worker, ready: Path, time_limit_s: float,
                startup_allowance_s: float,
                poll: Callable[[], None] | None = None) -> int | None:
    """Wait for the worker's exit code; kill it and return None once it is over its time.

    The time limit counts from the moment the worker is ready (data loaded), so a loaded
    machine's start-up never eats a learner's budget; start-up gets `startup_allowance_s`.
    `poll`, if given, is called about every 0.1 s while the worker runs (a time-to-result run's
    `TargetWatcher`).
    """
    deadline = time.monotonic() + startup_allowance_s
    started = False
    while True:
        code = worker.join(timeout_s=0.1)
        if code is not None:
            return code
        if poll is not None:
            poll()
        if not started and ready.exists():
            started, deadline = True, time.monotonic() + time_limit_s
        if time.monotonic() > deadline:
            worker.kill()
            return None
