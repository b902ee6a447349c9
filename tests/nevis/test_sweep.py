"""Stream checkpoint folders that no run will resume are swept; the ones a resume needs stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

from harness.nevis.execute import ABANDONED_AFTER_S, FINISHED_IDLE_S, sweep_run_folders


def _folder(root: Path, key: str, idle_s: float, now: float) -> Path:
    folder = root / ".nevis-runs" / key
    folder.mkdir(parents=True)
    (folder / "checkpoint.pt").write_bytes(b"x" * 1000)
    for path in (folder / "checkpoint.pt", folder):
        os.utime(path, (now - idle_s, now - idle_s))
    return folder


def test_only_folders_no_resume_needs_are_removed(tmp_path):
    now = time.time()
    killed = _folder(tmp_path, "killed-yesterday", 24 * 3600, now)
    abandoned = _folder(tmp_path, "method-edited", ABANDONED_AFTER_S + 60, now)
    leftover = _folder(tmp_path, "finished-long-ago", FINISHED_IDLE_S + 60, now)
    running = _folder(tmp_path, "finished-but-busy", 10, now)  # another harness's worker

    removed, freed = sweep_run_folders(tmp_path, {"finished-long-ago", "finished-but-busy"}, now)

    assert (removed, freed) == (2, 2000)
    assert killed.exists() and running.exists()
    assert not abandoned.exists() and not leftover.exists()


def test_a_recent_file_keeps_an_old_folder(tmp_path):
    now = time.time()
    folder = _folder(tmp_path, "resuming", ABANDONED_AFTER_S + 60, now)
    (folder / "worker.log").write_text("task 7\n")  # written just now
    assert sweep_run_folders(tmp_path, set(), now) == (0, 0)
    assert folder.exists()


def test_no_folder_yet_is_fine(tmp_path):
    assert sweep_run_folders(tmp_path, set()) == (0, 0)
