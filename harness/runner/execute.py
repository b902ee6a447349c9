"""Parent side of one run: write the worker's inputs, launch it, enforce the clock, score it.

The parent owns the evaluation labels, the wall-clock limit and the scoring. The worker gets a
scratch folder with `job.json`; everything it may read is named there. Whatever happens in the
worker — an exception, NaN, a budget overrun, a hang, a crash, running out of memory — the parent
turns it into a `RunResult` with status FAILED and a one-line reason; it never raises.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness import __version__
from harness.data.scenario import ScenarioPlan
from harness.metrics.continual import minimum_accuracy, summarize, worst_case_accuracy
from harness.runner.process import Worker, wait_worker
from harness.runner.result import RunResult, RunStatus
from harness.runner.scratch import run_scratch
from harness.runner.spec import RunSpec
from harness.runner.ttr_exchange import WARM_FILE
from harness.runner.ttr_scoring import TargetWatcher, TTRPlan, score_ttr
from harness.store import utc_now

# Time the worker gets for interpreter and torch start-up and data loading, before the suite's
# time limit starts counting (generous: a loaded 2-core machine takes seconds to import torch).
STARTUP_ALLOWANCE_S = 120.0
_LOG_TAIL_LINES = 8

# Worker processes alive now, so an interrupted harness can take them all down.
_live: set[Worker] = set()
_live_lock = threading.Lock()


def kill_all_workers() -> None:
    """SIGKILL every running worker's process group (used when the harness is interrupted)."""
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        proc.kill()


@dataclass(frozen=True)
class RunJob:
    """A run ready to execute: its spec, its scenario plan and the worker payload."""

    spec: RunSpec
    plan: ScenarioPlan | TTRPlan
    payload: dict[str, Any]
    time_limit_s: float


def prepare_plan_files(plan: ScenarioPlan, root: Path,
                       continual_per_task: int = 0) -> dict[str, Any]:
    """Write the files a worker reads for `plan` (once per plan; atomic); return their paths.

    `train_tasks.npz` holds each task's train indices, scenario labels and classes;
    `eval_inputs.npy` the evaluation images in presentation order — inputs only;
    `ce_inputs.npy` the continual-evaluation subsample (when `continual_per_task` > 0).
    """
    folder = root / f"{plan.fingerprint()}-ce{continual_per_task}"
    if not (folder / "eval_inputs.npy").exists():
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=_mkdir(root)))
        arrays = {}
        for task in plan.tasks:
            arrays[f"task_{task.index}_indices"] = task.train_indices
            arrays[f"task_{task.index}_labels"] = task.train_labels
            arrays[f"task_{task.index}_classes"] = np.array(task.classes, np.int64)
        np.savez(tmp / "train_tasks.npz", **arrays)
        images = plan.dataset.images(plan.eval_split)
        eval_inputs = np.ascontiguousarray(images[plan.eval_indices])
        if continual_per_task:
            positions, _ = plan.continual_subset(continual_per_task)
            np.save(tmp / "ce_inputs.npy", eval_inputs[positions])
        np.save(tmp / "eval_inputs.npy", eval_inputs)
        try:
            tmp.rename(folder)
        except OSError:  # another process prepared the same plan first
            shutil.rmtree(tmp, ignore_errors=True)
    files: dict[str, Any] = {
        "train_images": str(plan.dataset.images_path(plan.train_split)),
        "train_tasks": str(folder / "train_tasks.npz"),
        "eval_inputs": str(folder / "eval_inputs.npy"),
    }
    if continual_per_task:
        files["ce_inputs"] = str(folder / "ce_inputs.npy")
        files["ce_groups"] = [list(g) for g in plan.continual_subset(continual_per_task)[1]]
    return files


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def accuracy_matrix(predictions: np.ndarray, plan: ScenarioPlan) -> np.ndarray:
    """R of shape (T+1, T): R[j, i] = accuracy on task i after j tasks (row 0: untrained)."""
    correct = predictions == plan.eval_targets[None, :]
    return np.stack(
        [correct[:, plan.eval_task_ids == t].mean(axis=1) for t in range(plan.num_tasks)], axis=1
    )


def execute(job: RunJob, scratch_root: Path | None = None) -> RunResult:
    """Run `job` in a fresh worker process and return its result (never raises)."""
    if job.payload.get("api") == "nevis":  # resumable stream runs keep their scratch folder
        from harness.nevis.execute import execute_stream

        return execute_stream(job)
    return finish(start(job, scratch_root))


@dataclass
class StartedRun:
    """A run whose worker has been started; `finish` waits for it and scores it."""

    job: RunJob
    scratch: Path
    started_at: str
    clock_start: float
    worker: Worker | None = None
    error: str = ""  # why the worker could not be started


def start(job: RunJob, scratch_root: Path | None = None, *, hold: bool = False) -> StartedRun:
    """Write the worker's inputs and start it (never raises).

    `hold` (time-to-result runs only; `harness.runner.serial`): a sandboxed worker stops once
    warm — interpreter, torch and data loaded, no submission code run — until `finish`.
    """
    return start_in(job, run_scratch(job.spec.key, scratch_root), hold=hold)


def start_in(job: RunJob, scratch: Path, *, hold: bool = False) -> StartedRun:
    """`start` in a given scratch folder (a stream run's, kept across resumes)."""
    run = StartedRun(job, scratch, utc_now(), time.perf_counter())
    # Dataset names stay in the parent: the job file is readable by submission code.
    worker_payload = {k: v for k, v in job.payload.items() if k != "dataset_fingerprints"}
    hold = hold and job.payload.get("api") == "training-algorithm"
    if hold:
        worker_payload["hold"] = True
    (scratch / "job.json").write_text(json.dumps(worker_payload))
    try:
        run.worker = Worker(scratch, hold=hold)
    except Exception as exc:  # noqa: BLE001 - e.g. the zygote died: this run fails, not all
        run.error = f"the worker could not be started: {type(exc).__name__}: {exc}"[:500]
        return run
    with _live_lock:
        _live.add(run.worker)
    return run


def wait_warm(run: StartedRun, timeout_s: float = STARTUP_ALLOWANCE_S) -> None:
    """Wait until a held worker is warm, has exited, or has used its start-up allowance."""
    deadline = time.monotonic() + timeout_s
    while run.worker is not None and not (run.scratch / WARM_FILE).exists() \
            and time.monotonic() < deadline and run.worker.join(timeout_s=0.02) is None:
        pass


def finish(run: StartedRun) -> RunResult:
    """Release the run's worker if held, wait for it, score it (never raises)."""
    job, worker = run.job, {}
    held_s = 0.0
    try:
        if run.error:
            outcome = _failed(run.error)
        else:
            held_s = _held_for(run)
            outcome, worker = _wait(run)
            if outcome is None:
                outcome = _score(job, run.scratch, worker)
    finally:
        shutil.rmtree(run.scratch, ignore_errors=True)
    status, reason, metrics, curves = outcome
    return RunResult(
        spec=job.spec, status=status, metrics=metrics, curves=curves, reason=reason,
        wall_time_s=time.perf_counter() - run.clock_start - held_s, started_at=run.started_at,
        finished_at=utc_now(), hardware=worker.get("hardware", {}) if worker else {},
        dataset_fingerprints=job.payload["dataset_fingerprints"], harness_version=__version__,
    )


def run_worker(job: RunJob, scratch: Path):
    """Start the worker in `scratch` and wait for it; (failure outcome or None, its
    result.json or {}). For callers that score the run themselves (stream runs)."""
    run = start_in(job, scratch)
    return (_failed(run.error), {}) if run.error else _wait(run)


def _held_for(run: StartedRun) -> float:
    """Seconds the worker waited warm for its turn: not part of the run's wall time."""
    try:
        return max(0.0, time.time() - (run.scratch / WARM_FILE).stat().st_mtime)
    except OSError:  # never held, or not warm yet
        return 0.0


def _wait(run: StartedRun):
    """Let the worker go and wait for it; (failure outcome or None, its result.json or {})."""
    job, scratch, proc = run.job, run.scratch, run.worker
    proc.release()
    try:
        watcher = (TargetWatcher(job.plan, scratch)
                   if isinstance(job.plan, TTRPlan) and job.plan.stop_at_target else None)
        code = wait_worker(proc, scratch / "ready", job.time_limit_s, STARTUP_ALLOWANCE_S,
                           poll=watcher)
    except BaseException:  # e.g. the watcher failed on a file the submission wrote: the run
        proc.kill()        # fails, and its worker must not go on beside the next timed run
        raise
    finally:
        with _live_lock:
            _live.discard(proc)
    if code is None:
        return _failed(f"timed out: the run went past the suite's time_limit_s of "
                       f"{job.time_limit_s:g} s and was killed"), {}
    result_path = scratch / "result.json"
    if not result_path.exists():
        return _failed(_crash_reason(code, scratch / "worker.log")), {}
    worker = json.loads(result_path.read_text())
    if worker["status"] != "ok":
        return _failed(worker["reason"]), worker
    return None, worker


def _crash_reason(code: int, log_path: Path) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        what = f"worker killed by {name}"
        if name == "SIGKILL":
            what += " (often: out of memory)"
    else:
        what = f"worker exited with code {code} before writing a result"
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    tail = text.strip().splitlines()[-_LOG_TAIL_LINES:]
    last = next((line.strip() for line in reversed(tail) if line.strip()), "")
    return f"{what}; last output: {last[:300]}" if last else what


def _failed(reason: str):
    return RunStatus.FAILED, reason, {}, {}


def _score(job: RunJob, scratch: Path, worker: dict[str, Any]):
    if isinstance(job.plan, TTRPlan):
        return score_ttr(job.plan, scratch, worker)
    predictions = np.load(scratch / "predictions.npy")
    expected = (job.plan.num_tasks + 1, len(job.plan.eval_targets))
    if predictions.shape != expected:
        return _failed(f"worker wrote predictions of shape {predictions.shape}, not {expected}")
    acc = accuracy_matrix(predictions.astype(np.int64), job.plan)
    metrics = dict(summarize(acc))
    metrics.update({k: float(worker[k]) for k in
                    ("train_time_s", "eval_time_s", "peak_rss_mb", "samples_seen")})
    if "uncounted_train_time_s" in worker:
        metrics["uncounted_train_time_s"] = float(worker["uncounted_train_time_s"])
    if worker.get("compile_time_s"):  # a compiled backbone: its compilation, apart
        metrics["compile_time_s"] = float(worker["compile_time_s"])
    metrics["train_flops"] = float(sum(worker["train_flops"]))
    metrics["state_bytes"] = float(max(worker["state_bytes_measured"], default=0))
    curves = {
        "accuracy_matrix": acc.round(6).tolist(),
        "train_flops_per_task": worker["train_flops"],
        "state_bytes_per_task": worker["state_bytes_measured"],
    }
    if worker["ce_rows"]:
        trace = _continual_trace(job, scratch, worker)
        metrics["min_acc"] = minimum_accuracy(trace["acc"], trace["task"])
        metrics["wc_acc"] = worst_case_accuracy(trace["acc"], trace["task"], acc[-1])
        curves["continual_eval"] = trace
    metrics = {k: float(v) for k, v in metrics.items() if np.isfinite(v)}
    return RunStatus.OK, "", metrics, curves


def _continual_trace(job: RunJob, scratch: Path, worker: dict[str, Any]) -> dict[str, Any]:
    """Per-task accuracy at every continual evaluation, with the task and step it was taken."""
    predictions = np.load(scratch / "ce_predictions.npy").astype(np.int64)
    positions, _ = job.plan.continual_subset(job.payload["ce_samples_per_task"])
    targets, task_ids = job.plan.eval_targets[positions], job.plan.eval_task_ids[positions]
    correct = predictions == targets[None, :]
    acc = np.stack([correct[:, task_ids == t].mean(axis=1)
                    for t in range(job.plan.num_tasks)], axis=1)
    return {"task": [r[0] for r in worker["ce_rows"]], "step": [r[1] for r in worker["ce_rows"]],
            "acc": acc.round(6).tolist()}
