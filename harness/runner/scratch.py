"""Where runs' scratch folders live, and how a killed harness's leftovers are cleared.

Each harness process keeps its runs' scratch folders in one *session folder* of the system's
temporary directory, ``harness-session-XXXXXXXX/``, created on first use. A run removes its own
scratch folder when it ends, and the process removes its session folder at exit. A harness
killed by SIGKILL (or the machine losing power) cannot; its session folder — job files,
predictions, worker logs of the runs it had under way — would stay behind forever. So the
process holds an exclusive `flock` on its session folder for its whole life (the kernel drops
it when the process dies, however it dies), and every new session removes the session folders
whose lock it can take: their owner is gone. Folders of live harness processes, including
concurrent `harness evaluate` commands on one machine, are locked and never touched.

The folder is locked before it gets its ``harness-session-`` name (it is made under a hidden
name, locked, then renamed), so no other process can ever see it unlocked while its owner
lives. The lock's descriptor is not inherited by workers (Python opens descriptors
close-on-exec), so a worker outliving its harness cannot keep the folder alive.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
import threading
from pathlib import Path

PREFIX = "harness-session-"

_lock = threading.Lock()
# (pid, parent folder) -> (session folder, its locked descriptor); a forked child makes its own.
_session: dict[tuple[int, Path], tuple[Path, int]] = {}


def run_scratch(key: str, parent: Path | None = None) -> Path:
    """A new, empty scratch folder for the run `key`, in this process's session folder.

    Its name is random, not derived from the key: the worker's working directory is this
    folder, and a run key hashes the workload's name with values a submission knows (its
    hash, the seed), so a key-derived name would let it identify the workload by trying
    each name of the public suite file."""
    del key  # kept for call sites and logs; deliberately not in the name
    return Path(tempfile.mkdtemp(prefix="harness-run-", dir=session_folder(parent)))


def session_folder(parent: Path | None = None) -> Path:
    """This process's session folder under `parent` (default: the temporary directory); the
    first call creates and locks it and sweeps abandoned ones."""
    root = Path(parent if parent is not None else tempfile.gettempdir())
    with _lock:
        found = _session.get((os.getpid(), root))
        if found is not None and found[0].is_dir():
            return found[0]
        folder, fd = _create_locked(root)
        _session[(os.getpid(), root)] = (folder, fd)
    sweep_abandoned(root)
    atexit.register(_remove, folder, fd)
    return folder


def sweep_abandoned(root: Path) -> int:
    """Remove the session folders under `root` whose owner has died; how many were removed."""
    removed = 0
    for folder in root.glob(PREFIX + "*"):
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:  # gone meanwhile, or another user's
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its harness is alive
            os.close(fd)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
        finally:
            os.close(fd)
    return removed


def _create_locked(root: Path) -> tuple[Path, int]:
    hidden = Path(tempfile.mkdtemp(prefix=".harness-new-", dir=root))
    fd = os.open(hidden, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new and unnamed: no one else holds it
    folder = root / (PREFIX + hidden.name.removeprefix(".harness-new-"))
    hidden.rename(folder)
    return folder, fd


def _remove(folder: Path, fd: int) -> None:
    if _session.get((os.getpid(), folder.parent), (None,))[0] != folder:
        return  # registered by the parent before a fork: not this process's folder
    shutil.rmtree(folder, ignore_errors=True)
    os.close(fd)
