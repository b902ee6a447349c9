"""The zygote: a clean interpreter that imports torch once and forks one worker per run.

Started by the harness as ``python -m harness.runner.zygote``. Protocol over its pipes, one JSON
object per line:

- stdin  ``{"scratch": PATH, "env": {...}, "limits": JSON}``  → fork a worker for the job in
  PATH, confined by those `ResourceLimits`
- stdout ``{"started": PID}``                  (in request order)
- stdout ``{"exited": PID, "code": N}``        (N < 0: killed by signal -N)

It stays single-threaded (forking a multi-threaded process is unsafe), polls stdin and reaps
children in one loop, and exits when stdin closes (the harness went away); workers die with it
(they ask for SIGKILL on parent death).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import sys

PRELOAD = ("torch", "torch._dynamo", "torch.optim", "numpy", "harness.runner.worker",
           "harness.runner.sandbox")


def _child(request: dict) -> None:
    """In the forked worker: new session, log redirection, the caller's environment, limits,
    run. Never returns: whatever happens, the child ends here (not back in the zygote's loop)."""
    code = 70
    try:
        os.setsid()
        scratch = request["scratch"]
        log_fd = os.open(os.path.join(scratch, "worker.log"),
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        from harness.runner.sandbox import ResourceLimits, confine

        confine(ResourceLimits.from_json(request["limits"]))
        from harness.runner.worker import main

        code = main([scratch])
    except BaseException:  # noqa: BLE001 - nothing may escape into the zygote's loop
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
        code = 70
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap(out) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        out.write(json.dumps({"exited": pid, "code": os.waitstatus_to_exitcode(status)}) + "\n")
        out.flush()


def main() -> int:
    for module in PRELOAD:
        __import__(module)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # stray prints from preloaded modules must not corrupt the protocol
    stdin = sys.stdin.buffer
    while True:
        readable, _, _ = select.select([stdin], [], [], 0.05)
        _reap(out)
        if not readable:
            continue
        line = stdin.readline()
        if not line:
            return 0
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            out.close()
            _child(request)
        out.write(json.dumps({"started": pid}) + "\n")
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
