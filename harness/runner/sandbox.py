"""Confining a worker: resource limits always, and a bubblewrap sandbox where it works.

**Resource limits** (`ResourceLimits`, applied by `confine` inside the worker before any
submission code runs, sandboxed or not): address space (RLIMIT_AS; not on CUDA, whose driver
reserves more address space than any useful limit), open files, the size of any one file it
writes (RLIMIT_FSIZE), no core dumps, and its log: stdout and stderr keep their first `log_mb`
MiB in `worker.log` and drop the rest behind a note, so a chatty or flooding submission runs on
without filling the disk; bytes written past Python (`os.write(1, ...)`) stop at RLIMIT_FSIZE,
where the kernel kills the worker with SIGXFSZ. Wall time is enforced by the parent
(`process.wait_worker`). The number of processes is bounded only inside the sandbox (below).

**The sandbox** (`SandboxedWorker`, on where `bwrap` works; `harness evaluate --no-sandbox`
turns it off): the worker runs as ``bwrap ... python -m harness.runner.sandbox SCRATCH LIMITS``
with every namespace unshared (no network but its own loopback; its own process ids, so a kill
takes everything it started) and no capabilities. Its filesystem starts empty and holds, at
their host paths (so `job.json` needs no rewriting):

- read-only: the system libraries, the Python installation and virtual environment, the
  `harness` package (not the project folder: no `results/`, no other `submissions/`), the ONE
  submission folder it runs, and the data files its job names — train images, the prepared
  `train_tasks.npz`, `eval_inputs.npy`, `ce_inputs.npy`. No label file of an evaluation split,
  no cache folder, no results store, no other submission is in its view;
- writable: its scratch folder and a private, size-capped ``/tmp``; the rest is read-only.

Its environment is an allowlist (`_ENV_PREFIXES`, `_ENV_NAMES`): credentials in the harness's
environment never reach submission code, which could otherwise copy them into a failure reason.

Process limit: RLIMIT_NPROC set inside the sandbox counts the tasks (threads included) of the
sandbox's own user namespace, so it bounds a fork bomb without touching the user's other
processes. The kernel exempts uid 0 from RLIMIT_NPROC, so a harness running as root uses a pids
cgroup (cgroup v1 `/sys/fs/cgroup/pids`, when writable) instead; with neither, runs have no
process limit (`process_limit_mechanism()` says which applies).

Why a fresh process per run and not the zygote (`harness.runner.zygote`): a run's view (its
submission, its data files, its scratch) must be fixed before any of its code runs, which takes
a new mount namespace per run. A zygote forks inside one namespace, so a shared sandboxed zygote
would have to see the union of all views — other submissions' folders, and other runs' scratch
(letting one seed hand a trained model to the next); narrowing the view after the fork means
re-implementing bwrap (nested user namespaces, capability dropping) in the zygote. A zygote per
run costs the same interpreter and torch import as a fresh process. So a sandboxed run is a
fresh ``bwrap ... python`` process: the start-up is the price (measured on the 2-core CI
machine: bwrap itself adds ~10 ms; interpreter + torch import is 3-4 s idle and up to ~12 s
under load, against ~20 ms for a zygote fork — see the issue-7 report; it counts against the
start-up allowance, never against the suite's time limit, which starts at the worker's `ready`).
For the minutes-long runs of real suites this is noise; `--no-sandbox` keeps the fast zygote for
trusted code and quick iterations.

Without bubblewrap the harness runs unsandboxed, says so once (`announce_unavailable`), and
keeps the guarantee by construction: the worker is only ever given inputs, never labels.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

_MIB = 1024 * 1024
# The data files a job names (see `harness.runner.execute.prepare_plan_files`): the only data
# a sandboxed worker can see.
DATA_FILE_KEYS = ("train_images", "train_labels", "train_tasks", "eval_inputs", "ce_inputs")
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
              "localtime", "timezone")
_ENV_PREFIXES = ("HARNESS_", "OMP_", "MKL_", "OPENBLAS_", "KMP_", "CUDA_", "CUBLAS_", "CUDNN_",
                 "NCCL_", "NVIDIA_", "TORCH", "PYTORCH_", "LC_")
_ENV_NAMES = ("LANG", "TZ", "PYTHONHASHSEED", "PYTHONWARNINGS", "PYTHONFAULTHANDLER")
_PIDS_CGROUP_ROOT = Path("/sys/fs/cgroup/pids")
# torch alone maps ~1 GB of address space on import; below this no run can even start.
MIN_MEMORY_MB = 2048


@dataclass(frozen=True)
class ResourceLimits:
    """Per-run limits. `memory_mb` is address space (None: unlimited); `max_processes` counts
    threads too (torch starts one per core); `max_file_mb` caps any one file the worker writes;
    `log_mb` the part of stdout/stderr kept; `tmp_mb` the sandbox's private /tmp."""

    memory_mb: int | None = None
    max_processes: int = 1024
    max_open_files: int = 4096
    max_file_mb: int = 256
    log_mb: int = 64
    tmp_mb: int = 512

    def __post_init__(self):
        if self.memory_mb is not None and self.memory_mb < MIN_MEMORY_MB:
            raise ValueError(f"memory limit must be at least {MIN_MEMORY_MB} MB (torch alone "
                             f"maps about 1 GB), got {self.memory_mb}")
        if self.log_mb >= self.max_file_mb:
            raise ValueError("log_mb must be below max_file_mb (the log is one of the files)")

    @classmethod
    def for_jobs(cls, jobs: int, memory_mb: int | None = None) -> ResourceLimits:
        """Defaults for `jobs` concurrent runs: each gets an equal share of physical memory."""
        if memory_mb is None:
            total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // _MIB
            memory_mb = max(4 * MIN_MEMORY_MB, total_mb // max(1, jobs))
        return cls(memory_mb=memory_mb)

    def for_device(self, device: str) -> ResourceLimits:
        """CUDA reserves tens of GB of address space at start-up: no RLIMIT_AS there."""
        return replace(self, memory_mb=None) if device.startswith("cuda") else self

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ResourceLimits:
        return cls(**json.loads(text))


# ------------------------------------------------------------------ inside the worker process


class CappedLog(io.TextIOBase):
    """Text stream onto a file descriptor that keeps the first `limit_bytes` and drops the rest.

    Installed as both `sys.stdout` and `sys.stderr` of a worker (they share `worker.log`), so the
    budget is shared too. When the budget runs out a one-line note is written in its place.
    """

    _NOTE = "\n[harness: log capped at {mib:g} MiB; further output of this run was dropped]\n"

    def __init__(self, fd: int, limit_bytes: int):
        super().__init__()
        self._fd = fd
        self._note = self._NOTE.format(mib=limit_bytes / _MIB).encode()
        self._left = max(0, limit_bytes - len(self._note))
        self.dropped_bytes = 0
        self.buffer = _CappedBinary(self)

    encoding = "utf-8"
    errors = "backslashreplace"

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        self.write_bytes(text.encode(self.encoding, self.errors))
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        if self.dropped_bytes:
            self.dropped_bytes += len(data)
            return
        keep = data[: self._left]
        self._left -= len(keep)
        if len(keep) < len(data):
            self.dropped_bytes = len(data) - len(keep)
            keep += self._note
        view = memoryview(keep)
        while view:
            view = view[os.write(self._fd, view):]


class _CappedBinary(io.RawIOBase):
    """`sys.stdout.buffer` of a `CappedLog`: bytes share the same budget."""

    def __init__(self, log: CappedLog):
        super().__init__()
        self._log = log

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self._log.write_bytes(data)
        return len(data)


def _lower_limit(which: int, value: int) -> None:
    """Set soft and hard limit to `value` (or the current hard limit, if lower): irreversible."""
    _, hard = resource.getrlimit(which)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))


def confine(limits: ResourceLimits, *, limit_processes: bool = False) -> None:
    """Apply `limits` to this worker process and cap its log (fds 1 and 2 are `worker.log`)."""
    _lower_limit(resource.RLIMIT_CORE, 0)
    _lower_limit(resource.RLIMIT_NOFILE, limits.max_open_files)
    _lower_limit(resource.RLIMIT_FSIZE, limits.max_file_mb * _MIB)
    if limits.memory_mb is not None:
        _lower_limit(resource.RLIMIT_AS, limits.memory_mb * _MIB)
    if limit_processes:
        _lower_limit(resource.RLIMIT_NPROC, limits.max_processes)
    sys.stdout = sys.stderr = CappedLog(1, limits.log_mb * _MIB)


def main(argv: list[str]) -> int:
    """Entry point inside the sandbox: ``python -m harness.runner.sandbox SCRATCH LIMITS NPROC``."""
    scratch, limits, limit_processes = argv
    confine(ResourceLimits.from_json(limits), limit_processes=limit_processes == "1")
    from harness.runner.worker import main as worker_main  # after the limits: torch is large

    return worker_main([scratch])


# ------------------------------------------------------------------ availability


@functools.cache
def bwrap_status() -> tuple[str | None, str]:
    """(path to a working bwrap, "") or (None, why the sandbox cannot be used here)."""
    path = shutil.which("bwrap")
    if path is None:
        return None, "bubblewrap (bwrap) is not installed"
    probe = [path, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--ro-bind", "/",
             "/", "--proc", "/proc", "--dev", "/dev", "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bwrap could not be started ({exc})"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"bwrap cannot create namespaces on this machine ({why})"
    return path, ""


def sandbox_available() -> bool:
    return bwrap_status()[0] is not None


_announced = False


def announce_unavailable() -> None:
    """Say once per process that runs are not sandboxed, and why (stderr, one line)."""
    global _announced
    if _announced or sandbox_available():
        return
    _announced = True
    print(f"harness: note: sandbox off: {bwrap_status()[1]}; submission code runs without "
          "filesystem or network isolation (evaluation labels still never reach it). Install "
          "bubblewrap (`apt-get install bubblewrap`) or pass --no-sandbox to silence this.",
          file=sys.stderr)


@functools.cache
def _pids_cgroup_usable() -> bool:
    if not (_PIDS_CGROUP_ROOT / "cgroup.procs").exists():
        return False
    probe = _PIDS_CGROUP_ROOT / f"harness-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return False
    return True


def process_limit_mechanism() -> str | None:
    """How sandboxed runs are kept to `max_processes`: "rlimit", "cgroup", or None (no limit)."""
    if os.geteuid() != 0:
        return "rlimit"
    return "cgroup" if _pids_cgroup_usable() else None


# ------------------------------------------------------------------ launching


def _bind_args(flag: str, paths) -> list[str]:
    """Bind each path at its own location, skipping duplicates and paths inside earlier ones."""
    args, bound = [], []
    for path in paths:
        path = os.path.abspath(path)
        if not os.path.exists(path) or any(path == b or path.startswith(b + os.sep)
                                            for b in bound):
            continue
        bound.append(path)
        args += [flag, path, path]
    return args


def _system_args() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in _ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _python_paths() -> list[str]:
    """The interpreter, the standard library, the environment's packages and `harness` itself."""
    import site

    import harness

    paths = [sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), *site.getsitepackages()]
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        paths.append(site.getusersitepackages())
    paths.append(os.path.dirname(os.path.abspath(harness.__file__)))
    return sorted(set(paths), key=len)  # parents first


def sandbox_argv(bwrap: str, scratch: Path, job: dict[str, Any], limits: ResourceLimits,
                 limit_processes: bool) -> list[str]:
    """The bwrap command line that runs `job` (read from `scratch`/job.json) confined."""
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.tmp_mb * _MIB), "--tmpfs", "/tmp"]
    argv += _system_args()
    argv += _bind_args("--ro-bind", _python_paths())
    argv += _bind_args("--ro-bind", [job["submission_dir"]])
    argv += _bind_args("--ro-bind", [job[k] for k in DATA_FILE_KEYS if job.get(k)])
    if job["device"].startswith("cuda"):
        argv += ["--ro-bind-try", "/sys", "/sys"]
        for dev in sorted(os.listdir("/dev")):
            if dev.startswith("nvidia"):
                argv += ["--dev-bind", f"/dev/{dev}", f"/dev/{dev}"]
    argv += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--remount-ro", "/"]
    return argv + ["--", sys.executable, "-m", "harness.runner.sandbox", str(scratch),
                   limits.to_json(), "1" if limit_processes else "0"]


def sandbox_env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES)}
    env.update(PATH=f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", HOME=str(scratch),
               TMPDIR="/tmp")
    return env


class _PidsCgroup:
    """A pids cgroup (v1) holding one sandboxed run: a process limit that binds root too."""

    def __init__(self, max_processes: int):
        self.path = _PIDS_CGROUP_ROOT / f"harness-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.path.mkdir()
        (self.path / "pids.max").write_text(str(max_processes))

    def wrap(self, argv: list[str]) -> list[str]:
        """Join the cgroup before exec'ing `argv`, so nothing it starts escapes the limit."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"),
                *argv]

    def remove(self) -> None:
        for _ in range(100):  # killed members take a moment to leave
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    return
                import time

                time.sleep(0.05)


class SandboxedWorker:
    """A worker running in a fresh bwrap sandbox; the same interface as `process.Worker`."""

    def __init__(self, scratch: Path, job: dict[str, Any], limits: ResourceLimits,
                 hold: bool = False):
        bwrap = bwrap_status()[0]
        if bwrap is None:
            raise RuntimeError(bwrap_status()[1])
        mechanism = process_limit_mechanism()
        self._cgroup = _PidsCgroup(limits.max_processes) if mechanism == "cgroup" else None
        argv = sandbox_argv(bwrap, scratch, job, limits, limit_processes=mechanism == "rlimit")
        if self._cgroup is not None:
            argv = self._cgroup.wrap(argv)
        with open(scratch / "worker.log", "ab") as log:
            # A held worker blocks on its stdin until `release` (no CPU while it waits).
            stdin = subprocess.PIPE if hold else subprocess.DEVNULL
            self._proc = subprocess.Popen(argv, stdin=stdin, stdout=log,
                                          stderr=subprocess.STDOUT, env=sandbox_env(scratch),
                                          start_new_session=True)
        self.pid = self._proc.pid

    def release(self) -> None:
        """Let a held worker go on (one byte and end-of-file on its stdin)."""
        if self._proc.stdin is None or self._proc.stdin.closed:
            return
        with contextlib.suppress(OSError):  # it may have died while held: its exit code says
            self._proc.stdin.write(b"g")
        with contextlib.suppress(OSError):
            self._proc.stdin.close()

    def wait(self, timeout_s: float) -> int | None:
        """Exit code (negative: killed by that signal), or None if still running."""
        try:
            code = self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        # bwrap reports a command killed by signal N as exit code 128 + N.
        if code > 128 and code - 128 in signal.valid_signals():
            return -(code - 128)
        return code

    def kill(self) -> None:
        """SIGKILL the sandbox; its pid namespace takes every process it started along."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.wait(timeout_s=10)


if __name__ == "__main__":
    _code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The result is written; skip the interpreter's finalization, which tears torch down object
    # by object (~0.7 s a run, measured on the 2-core machine) for nothing the parent reads.
    os._exit(_code)
