"""Workers that crash, get killed, flood, hoard memory, fork without end or forge their output.

Every fault becomes a failed run with a clear reason while the other runs finish intact and the
store stays consistent — with and without the sandbox (the sandboxed half is skipped where
bubblewrap does not work).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.evaluation import EvaluateOptions, evaluate
from harness.runner.sandbox import (
    CappedLog,
    ResourceLimits,
    process_limit_mechanism,
    sandbox_available,
)
from harness.runner.scratch import session_folder
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import LEARNER_HEAD, make_method, write_tiny_suite
from tests.faults.common import TRAINS, store_problems, wait_until_gone

needs_sandbox = pytest.mark.skipif(not sandbox_available(),
                                   reason="bubblewrap (bwrap) is not usable here")
MODES = [pytest.param(False, id="zygote"),
         pytest.param(True, id="sandbox", marks=[needs_sandbox, pytest.mark.slow])]

# The worker's scratch folder, found from inside the worker in both modes: its stdout is
# scratch/worker.log.
SCRATCH = "os.path.dirname(os.readlink('/proc/self/fd/1'))"

FAULTS = {
    "segfault": ("""
    def learn(self, task, data):
        import ctypes
        ctypes.string_at(0)
""", "worker killed by SIGSEGV"),
    "victim": (f"""
    def learn(self, task, data):
        import os, time
        open(os.path.join({SCRATCH}, "victim"), "w").write(str(os.getpid()))
        time.sleep(120)
""", "worker killed by SIGKILL"),
    "flood": ("""
    def learn(self, task, data):
        import os
        line = "x" * 1023
        for _ in range(96 * 1024):  # 96 MiB through print, past the 64 MiB log cap
            print(line)
        raise RuntimeError(f"flooded; the log holds {os.fstat(1).st_size} bytes")
""", "flooded; the log holds"),
    "hoarder": ("""
    def learn(self, task, data):
        import numpy as np
        hoard = []
        while True:
            hoard.append(np.ones(64 * 2**20 // 8))  # 64 MiB at a time, touched
""", "MemoryError"),
    "misshaped": ("""
    def learn(self, task, data):
        pass

    def predict(self, x, task=None):
        return self.model(x)[:, :1]
""", "predict returned logits of shape"),
    "forger": ("""
import numpy as _np
import harness.runner.worker as _worker
_worker.predict_all = lambda *args, **kwargs: _np.zeros(3, dtype=_np.int16)
""", "worker wrote predictions of shape (3, 3)"),
    "garbage": (f"""
    def learn(self, task, data):
        import os
        with open(os.path.join({SCRATCH}, "result.json"), "w") as f:
            f.write("{{not json")
        os._exit(0)
""", "the harness could not score this run: JSONDecodeError"),
    "diskfull": ("""
import errno as _errno
import numpy as _numpy

def _full(*args, **kwargs):
    raise OSError(_errno.ENOSPC, "No space left on device")

_numpy.save = _full
""", "OSError: [Errno 28] No space left on device"),
}


def learner(name: str) -> str:
    """Methods of the learner class are appended to it; module-level code follows a learner
    that trains."""
    body, _ = FAULTS[name]
    return (LEARNER_HEAD if body.startswith("\n    def ") else TRAINS) + body


def kill_victim_when_it_starts(stop: threading.Event, killed: list[int]) -> None:
    """SIGKILL, from outside, the worker that wrote a `victim` file into its scratch."""
    root = session_folder()
    while not stop.is_set():
        for marker in root.glob("harness-*/victim"):
            pid = host_pid(marker.parent, int(marker.read_text() or 0))
            if pid:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
        time.sleep(0.1)


def host_pid(scratch: Path, pid_seen_inside: int) -> int | None:
    """The worker's pid on this machine: a sandboxed worker sees its own pid namespace."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if "harness.runner.sandbox" in argv and str(scratch) in argv and \
                Path(argv[0]).name.startswith("python"):
            return int(entry)
    try:
        if "harness.runner.zygote" in Path(f"/proc/{pid_seen_inside}/cmdline").read_text():
            return pid_seen_inside  # forked from the zygote: the same pid namespace
    except OSError:
        pass
    return None


@pytest.mark.parametrize("sandbox", MODES)
def test_each_worker_fault_fails_only_its_run_with_a_clear_reason(tmp_path, tiny_cache,
                                                                   sandbox):
    methods = [make_method(tmp_path, "good", TRAINS)]
    methods += [make_method(tmp_path, name, learner(name)) for name in FAULTS]
    suite = load_suite(write_tiny_suite(tmp_path, time_limit_s=90))
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=kill_victim_when_it_starts, args=(stop, killed))
    killer.start()
    try:
        with Store(tmp_path / "r.db") as store:
            report = evaluate(suite, [load_submission(m) for m in methods], store,
                              EvaluateOptions(jobs=2, num_trials=1, num_seeds=1,
                                              sandbox=sandbox, memory_limit_mb=3072),
                              cache=tiny_cache)
            frame = store.runs_frame()
    finally:
        stop.set()
        killer.join()
    assert killed, "the victim never started"
    good = frame[frame.submission == "good"]
    assert list(good.status) == ["ok", "ok"]  # its trial and its evaluation seed
    for name, (_, expected) in FAULTS.items():
        [reason] = frame[frame.submission == name].reason  # one trial, nothing evaluated
        assert expected in reason, (name, reason)
        assert any(name in note for note in report.notes)
    [flood] = frame[frame.submission == "flood"].reason
    log_bytes = int(flood.split("holds ")[1].split()[0])
    assert log_bytes <= ResourceLimits().log_mb * 2**20  # 96 MiB printed, the log capped
    assert store_problems(tmp_path / "r.db") == []


def test_output_written_past_python_stops_at_the_file_size_limit(tmp_path):
    """Raw writes to fd 1 skip the log cap; RLIMIT_FSIZE stops them. Python ignores SIGXFSZ,
    so the write fails with EFBIG, which fails the run with that reason."""
    log = tmp_path / "worker.log"
    code = ("import os, sys\nfrom harness.runner.sandbox import ResourceLimits, confine\n"
            "confine(ResourceLimits(max_file_mb=2, log_mb=1))\n"
            "print('via print ' * 300000)\n"
            "try:\n    while True:\n        os.write(1, b'y' * 65536)\n"
            "except OSError as exc:\n    os.write(int(sys.argv[1]), str(exc).encode())\n")
    with open(log, "wb") as out, open(tmp_path / "error", "wb") as error:
        done = subprocess.run([sys.executable, "-c", code, str(error.fileno())], stdout=out,
                              stderr=out, pass_fds=(error.fileno(),), timeout=120)
    assert done.returncode == 0
    assert "File too large" in (tmp_path / "error").read_text()
    assert log.stat().st_size == 2 * 2**20
    text = log.read_bytes()[: 2**20].decode()
    assert "[harness: log capped at 1 MiB" in text  # print() went through the cap first


def test_capped_log_keeps_the_head_and_says_where_it_cut(tmp_path):
    path = tmp_path / "log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        log = CappedLog(fd, limit_bytes=200)
        log.write("a" * 50)
        log.buffer.write(b"b" * 50)
        log.write("c" * 500)
        log.write("never")
    finally:
        os.close(fd)
    text = path.read_text()
    assert len(text.encode()) <= 200
    assert text.startswith("a" * 50 + "b" * 50 + "c")
    assert text.endswith("further output of this run was dropped]\n")
    assert log.dropped_bytes > 0 and "never" not in text


FORK_BOMB = LEARNER_HEAD + """
    def learn(self, task, data):
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(300)
                    os._exit(0)
                children += 1
        except OSError as exc:
            raise RuntimeError(f"fork refused after {children} children: {exc}") from exc
"""


@needs_sandbox
@pytest.mark.skipif(process_limit_mechanism() is None,
                    reason="no process limit here (root without a writable pids cgroup)")
def test_a_fork_bomb_is_bounded_by_the_process_limit_and_cleaned_up(tmp_path, tiny_cache,
                                                                     monkeypatch):
    marker = f"HARNESS_TEST_FORK_BOMB={tmp_path}"
    monkeypatch.setenv(*marker.split("=", 1))  # HARNESS_* reaches the sandbox: we can find it
    monkeypatch.setattr(ResourceLimits, "for_jobs", classmethod(
        lambda cls, jobs, memory_mb=None: cls(memory_mb=memory_mb, max_processes=64)))
    suite = load_suite(write_tiny_suite(tmp_path))
    sub = load_submission(make_method(tmp_path, "bomb", FORK_BOMB))
    with Store(tmp_path / "r.db") as store:
        evaluate(suite, [sub], store, EvaluateOptions(num_trials=1, sandbox=True),
                 cache=tiny_cache)
        [reason] = store.runs_frame().reason
    assert "fork refused after" in reason and "Resource temporarily unavailable" in reason
    assert int(reason.split("after ")[1].split()[0]) < 64
    assert wait_until_gone(marker) == []  # the sleeping children died with the sandbox
