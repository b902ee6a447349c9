"""Scratch folders: a killed harness's leftovers are removed by the next harness, a live one's
never are, and a harness that exits normally leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from harness.runner.scratch import PREFIX, run_scratch, session_folder, sweep_abandoned

# A harness stand-in: opens its session under ROOT, puts a run's files in it, says where, waits.
_OWNER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from harness.runner.scratch import run_scratch
    scratch = run_scratch("0123456789abcdef", Path(sys.argv[1]))
    (scratch / "predictions.npy").write_bytes(b"x" * 1000)
    print(scratch, flush=True)
    if sys.argv[2] == "wait":
        time.sleep(60)
""")


def _owner(root, mode: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", _OWNER, str(root), mode],
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def _sessions(root) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(PREFIX))


def test_runs_share_one_session_folder_per_process(tmp_path):
    first, second = run_scratch("a" * 64, tmp_path), run_scratch("b" * 64, tmp_path)
    assert first != second and first.parent == second.parent == session_folder(tmp_path)
    assert first.name.startswith("harness-run-") and not any(first.iterdir())
    assert "aaaa" not in first.name and "bbbb" not in second.name  # nothing of the run key
    assert _sessions(tmp_path) == [first.parent.name]
    assert sweep_abandoned(tmp_path) == 0  # our own session is locked
    assert first.parent.is_dir()


def test_a_killed_harness_leftovers_are_removed_by_the_next_one(tmp_path):
    proc, scratch = _owner(tmp_path, "wait")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (tmp_path / scratch / "predictions.npy").exists()  # SIGKILL: no clean-up ran
    live, live_scratch = _owner(tmp_path, "wait")
    try:
        mine = session_folder(tmp_path)  # a new harness session sweeps
        assert not os.path.exists(scratch)
        assert os.path.exists(os.path.join(live_scratch, "predictions.npy"))  # alive: kept
        assert _sessions(tmp_path) == sorted([mine.name, os.path.basename(
            os.path.dirname(live_scratch))])
    finally:
        live.kill()
        live.wait()
    assert sweep_abandoned(tmp_path) == 1
    assert _sessions(tmp_path) == [mine.name]


def test_a_harness_that_exits_leaves_nothing(tmp_path):
    proc, scratch = _owner(tmp_path, "exit")
    assert proc.wait(timeout=30) == 0 and scratch
    deadline = time.monotonic() + 5
    while _sessions(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sessions(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == []  # nor a half-made hidden folder
