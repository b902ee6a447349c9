"""Parent side of a stream run: a scratch folder that survives a kill, and the scoring.

A stream run's scratch folder is ``<cache root>/.nevis-runs/<run key>`` rather than a fresh
temporary folder, because it holds the per-task checkpoint (`harness.nevis.checkpoint`): if the
worker or the whole harness is killed, the next `harness evaluate` of the same run key (a plain
re-run when the harness died; ``--retry-failed`` when the run was stored as failed) starts a
worker in the same folder, which resumes at the next task. Stale files of the previous attempt
(job, readiness marker, result, log) are removed first; the folder is deleted once the run
succeeds. Folders no resume will ever need — of runs this store holds as succeeded, or untouched
for `ABANDONED_AFTER_S` (a run whose method or suite has since changed gets a new key, so its
old checkpoint is never read again) — are swept when a stream campaign starts
(`sweep_run_folders`). Scoring turns the worker's predictions into per-task errors against the
labels only the parent holds (`harness.metrics.nevis`). A run whose suite compiles its backbone
also stores ``compile_time_s`` (all tasks' compilation, never inside ``train_time_s``; per task in
the ``nevis_tasks`` curve); runs that compile nothing store neither, as before.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness import __version__
from harness.metrics.nevis import stream_summary, task_errors
from harness.nevis.pack import StreamPlan
from harness.runner.execute import RunJob, _failed, run_worker
from harness.runner.result import RunResult, RunStatus
from harness.store import utc_now

_STALE = ("job.json", "ready", "result.json", "result.json.tmp", "predictions.npy")
# A folder idle this long belongs to a run nobody resumed: its method, suite or harness version
# changed (a new run key), or its campaign was abandoned. Two weeks covers a paused campaign.
ABANDONED_AFTER_S = 14 * 24 * 3600
# A succeeded run's folder is normally deleted by its own harness; one left behind (the harness
# died between scoring and cleaning up) is swept once it has been idle this long, so a second
# harness still running the same key on the same store is never pulled from under its worker.
FINISHED_IDLE_S = 3600


def run_folder(root: Path, key: str) -> Path:
    return Path(root) / ".nevis-runs" / key


def sweep_run_folders(root: Path, finished: set[str], now: float | None = None) -> tuple[int, int]:
    """Delete stream run folders no resume needs; returns (folders removed, bytes freed).

    `finished`: the run keys the current store holds as succeeded. A folder goes when its key
    is finished and it has been idle `FINISHED_IDLE_S`, or when it has been idle
    `ABANDONED_AFTER_S` whatever its key (it may belong to another store's campaign, which
    would then start that run from its first task). Idle time is that of the newest file.
    """
    now = time.time() if now is None else now
    removed = freed = 0
    folders = Path(root) / ".nevis-runs"
    for folder in sorted(folders.iterdir()) if folders.is_dir() else ():
        files = [p for p in folder.rglob("*") if p.is_file()]
        idle = now - max([folder.stat().st_mtime] + [p.stat().st_mtime for p in files])
        if idle > ABANDONED_AFTER_S or (folder.name in finished and idle > FINISHED_IDLE_S):
            size = sum(p.stat().st_size for p in files)
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed, freed = removed + 1, freed + size
    return removed, freed


def execute_stream(job: RunJob) -> RunResult:
    """Run (or resume) a stream run; never raises."""
    started_at, start = utc_now(), time.perf_counter()
    scratch = run_folder(Path(job.payload["checkpoint_root"]), job.spec.key)
    scratch.mkdir(parents=True, exist_ok=True)
    for name in _STALE:
        (scratch / name).unlink(missing_ok=True)
    if (scratch / "worker.log").exists():
        (scratch / "worker.log").rename(scratch / "worker.previous.log")
    outcome, worker = run_worker(job, scratch)
    if outcome is None:
        outcome = score_stream(job.plan, scratch, worker)
    status, reason, metrics, curves = outcome
    if status is RunStatus.OK:
        shutil.rmtree(scratch, ignore_errors=True)
    return RunResult(
        spec=job.spec, status=status, metrics=metrics, curves=curves, reason=reason,
        wall_time_s=time.perf_counter() - start, started_at=started_at, finished_at=utc_now(),
        hardware=worker.get("hardware", {}) if worker else {},
        dataset_fingerprints=job.payload["dataset_fingerprints"], harness_version=__version__)


def score_stream(plan: StreamPlan, scratch: Path, worker: dict[str, Any]):
    predictions = np.load(scratch / "predictions.npy").astype(np.int64)
    if predictions.shape != plan.eval_labels.shape:
        return _failed(f"worker wrote {predictions.shape} predictions, not "
                       f"{plan.eval_labels.shape}")
    errors = task_errors(predictions, plan.eval_labels, plan.eval_task_ids, plan.num_tasks)
    metrics = stream_summary(errors, plan.num_eval, worker["train_flops"],
                             worker["search_flops"])
    metrics.update({
        "train_time_s": float(np.sum(worker["train_time_s"])),
        "eval_time_s": float(np.sum(worker["eval_time_s"])),
        "samples_seen": float(np.sum(worker["samples_seen"])),
        "search_trials": float(np.sum(worker["search_trials"])),
        "state_bytes": float(max(worker["state_bytes"], default=0)),
        "peak_rss_mb": float(worker["peak_rss_mb"]),
        "num_tasks": float(plan.num_tasks),
    })
    compile_time_s = [float(s) for s in worker.get("compile_time_s", [])]
    if sum(compile_time_s):  # a compiled backbone: its compilation, apart from train_time_s
        metrics["compile_time_s"] = float(np.sum(compile_time_s))
    curves = {"nevis_tasks": {
        "side": plan.side, "name": list(plan.task_names), "year": list(plan.task_years),
        "num_classes": list(plan.num_classes), "num_train": list(plan.num_train),
        "num_eval": list(plan.num_eval), "error": errors.round(6).tolist(),
        "train_flops": [float(f) for f in worker["train_flops"]],
        "search_flops": [float(f) for f in worker["search_flops"]],
        "search_trials": list(worker["search_trials"]),
        "train_time_s": [round(float(s), 4) for s in worker["train_time_s"]],
        "resumed_at": list(worker.get("resumed_at", [])),
        "checkpoint_error": worker.get("checkpoint_error", ""),
    }}
    if sum(compile_time_s):
        curves["nevis_tasks"]["compile_time_s"] = [round(s, 4) for s in compile_time_s]
    return RunStatus.OK, "", metrics, curves
