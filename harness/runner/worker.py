"""The worker: runs one continual-learning run of submission code in its own process.

Invoked as ``python -m harness.runner.worker SCRATCH_DIR``. It reads ``SCRATCH_DIR/job.json``
(written by the parent), trains the learner task by task, predicts on the evaluation inputs
before the first task and after each task, and writes ``predictions.npy`` (int16, shape
(num_tasks + 1, num_eval)) and ``result.json``.

What it is given, by construction: the training images and *training* labels of each task, and
the evaluation *inputs* in a presentation order (see `harness.data.scenario`). Evaluation labels
are never passed; the parent scores the predictions.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.api import Budget, ContinualLearner, LearnerContext, Scenario, TaskInfo
from harness.data.batches import DeviceTaskData, Normalizer
from harness.errors import BudgetExceededError, SubmissionFailure
from harness.models import backbone_factory
from harness.runner.hardware import hardware_fingerprint


def load_learner_class(submission_dir: Path) -> type[ContinualLearner]:
    """Import `submission.py` from a method folder and return its `Learner` class."""
    path = submission_dir / "submission.py"
    sys.path.insert(0, str(submission_dir))  # lets a submission import its own helper modules
    spec = importlib.util.spec_from_file_location(f"submission_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    learner = getattr(module, "Learner", None)
    if not (isinstance(learner, type) and issubclass(learner, ContinualLearner)):
        raise SubmissionFailure("submission.py must define `class Learner(ContinualLearner)`")
    return learner


class _Clock:
    """Wall-clock timer that waits for queued device work, so GPU time is not misattributed."""

    def __init__(self, device: torch.device):
        self.device = device

    def now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()


def predict_all(learner: ContinualLearner, inputs: torch.Tensor, normalize: Normalizer,
                groups: list, task_classes: list[tuple[int, ...]], scenario: Scenario,
                num_outputs: int, batch_size: int, after_task: int) -> np.ndarray:
    """Predicted labels for every evaluation input, in presentation order."""
    predictions = torch.empty(len(inputs), dtype=torch.int64)
    for task, start, stop in groups:
        for lo in range(start, stop, batch_size):
            hi = min(lo + batch_size, stop)
            with torch.inference_mode():
                logits = learner.predict(normalize(inputs[lo:hi]), task)
            _check_logits(logits, hi - lo, num_outputs, after_task)
            if scenario is Scenario.TASK:
                allowed = torch.tensor(task_classes[task], device=logits.device)
                chosen = allowed[logits[:, allowed].argmax(dim=1)]
            else:
                chosen = logits.argmax(dim=1)
            predictions[lo:hi] = chosen.cpu()
    return predictions.numpy().astype(np.int16)


def _check_logits(logits: Any, batch: int, num_outputs: int, after_task: int) -> None:
    when = "before the first task" if after_task < 0 else f"after task {after_task}"
    if not isinstance(logits, torch.Tensor):
        raise SubmissionFailure(f"predict returned {type(logits).__name__}, not a tensor ({when})")
    if tuple(logits.shape) != (batch, num_outputs):
        raise SubmissionFailure(f"predict returned logits of shape {tuple(logits.shape)}, "
                                f"expected ({batch}, {num_outputs}) ({when})")
    if not torch.isfinite(logits).all():
        raise SubmissionFailure(f"predict returned non-finite logits (NaN or inf) {when}; "
                                "the model has probably diverged (try a smaller learning rate)")


def run_job(job: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """Train and predict as `job` says; write predictions; return the measurements."""
    torch.set_num_threads(job["num_threads"])
    torch.manual_seed(job["seed"])
    device = torch.device(job["device"])
    scenario = Scenario(job["scenario"])
    budget = Budget(**job["budget"])
    input_shape = tuple(job["input_shape"])
    ctx = LearnerContext(
        device=device, seed=job["seed"],
        generator=torch.Generator().manual_seed(job["seed"]),
        num_tasks=job["num_tasks"], num_outputs=job["num_outputs"], input_shape=input_shape,
        scenario=scenario, budget=budget,
        make_backbone=backbone_factory(job["backbone"], input_shape, job["num_outputs"],
                                       **job["backbone_options"]),
    )
    # Import submission code before any data is opened: import errors fail fast, and whatever
    # the code does at import time sees exactly what the worker later opens.
    learner_class = load_learner_class(Path(job["submission_dir"]))
    normalize = Normalizer(job["mean"], job["std"], device)
    train_images = np.load(job["train_images"], mmap_mode="r")
    tasks = np.load(job["train_tasks"])
    eval_inputs = torch.from_numpy(np.load(job["eval_inputs"])).to(device)
    task_classes = [tuple(int(c) for c in tasks[f"task_{t}_classes"])
                    for t in range(job["num_tasks"])]
    (scratch / "ready").touch()  # the parent's clock for time_limit_s starts now
    learner = learner_class(ctx, dict(job["hparams"]))

    clock = _Clock(device)
    rows, state_sizes, samples = [], [], 0
    train_time_s = eval_time_s = 0.0

    def evaluate(after_task: int) -> None:
        nonlocal eval_time_s
        start = clock.now()
        rows.append(predict_all(learner, eval_inputs, normalize, job["groups"], task_classes,
                                scenario, job["num_outputs"], job["eval_batch_size"], after_task))
        eval_time_s += clock.now() - start

    evaluate(-1)
    for t in range(job["num_tasks"]):
        indices = tasks[f"task_{t}_indices"]
        images = torch.from_numpy(np.ascontiguousarray(train_images[indices])).to(device)
        labels = torch.from_numpy(tasks[f"task_{t}_labels"]).to(device)
        data = DeviceTaskData(
            images, labels, batch_size=budget.batch_size, num_epochs=budget.epochs_per_task,
            normalize=normalize,
            # Batch order depends on seed and task only: every method sees the same batches.
            generator=torch.Generator().manual_seed(job["seed"] * 1_000_003 + t),
        )
        info = TaskInfo(index=t, classes=task_classes[t], scenario=scenario,
                        num_train_samples=len(indices))
        start = clock.now()
        learner.learn(info, data)
        learner.end_of_task(info)
        train_time_s += clock.now() - start
        samples += data.samples_yielded
        state_sizes.append(_state_size(learner))
        evaluate(t)

    np.save(scratch / "predictions.npy", np.stack(rows))
    return {
        "train_time_s": train_time_s, "eval_time_s": eval_time_s, "samples_seen": samples,
        "state_size_bytes": state_sizes,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def _state_size(learner: ContinualLearner) -> int | None:
    size = learner.state_size_bytes()
    if size is not None and (not isinstance(size, int) or size < 0):
        raise SubmissionFailure(f"state_size_bytes() returned {size!r}, not a byte count")
    return size


def failure_reason(exc: BaseException, submission_dir: str) -> str:
    """One line: where in the submission it failed (if there) and what the exception said."""
    if isinstance(exc, BudgetExceededError | SubmissionFailure):
        return str(exc)
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(submission_dir):
            where = f"{Path(frame.filename).name}:{frame.lineno}: "
            break
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{where}{type(exc).__name__}: {message}".strip()


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker if the harness dies (a killed harness leaves no orphans)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: orphans finish their run and exit; nothing reads their output


def main(argv: list[str]) -> int:
    _die_with_parent()
    scratch = Path(argv[0])
    job = json.loads((scratch / "job.json").read_text())
    started = time.perf_counter()
    try:
        measured = run_job(job, scratch)
        result: dict[str, Any] = {"status": "ok", **measured}
    except Exception as exc:  # noqa: BLE001 - any failure of submission code fails the run
        traceback.print_exc()
        result = {"status": "failed", "reason": failure_reason(exc, job["submission_dir"])}
    result["worker_time_s"] = time.perf_counter() - started
    result["hardware"] = hardware_fingerprint(torch.device(job["device"]))
    text = json.dumps(result, allow_nan=True)
    (scratch / "result.json.tmp").write_text(text)
    (scratch / "result.json.tmp").rename(scratch / "result.json")
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

