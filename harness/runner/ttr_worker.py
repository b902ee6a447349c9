"""The worker side of a time-to-result run (AlgoPerf semantics, DESIGN §3.2).

Only the submission's timed calls — `select_batch`, `step`, `prepare_for_eval` — advance the
*submission clock*, synchronized with the device. Every `eval_period_s` of submission time the
harness predicts the validation inputs (untimed) and records (submission time, step,
predictions); the parent scores them, so validation labels never enter the worker either.
Time-to-target is read off the trace by the parent (the first evaluation meeting the target).

With ``stop_at_target`` in the job (evaluation and tuning runs; not calibration, which needs the
best metric within the whole budget) the run stops once the target is met, as AlgoPerf's runs
do: each evaluation's outputs are also published as they are taken
(`harness.runner.ttr_exchange`), the parent scores them while the worker trains
(`harness.runner.ttr_scoring.TargetWatcher`) and creates ``stop`` when one meets the target;
the worker looks for it before every step (outside the submission clock) and ends there. The
score is the one a run to `max_runtime_s` gets; what is saved is the rest of the budget in wall
time. Otherwise the run goes on until `max_runtime_s` of submission time.

With ``hold`` in the job (a worker started ahead of its turn, `harness.runner.serial`) the
worker waits after loading its data, before any submission code runs, until the parent
releases it (`harness.runner.ttr_exchange.hold_until_released`).

The workload reaches the submission as a `WorkloadHandle` with no name; its data, model, loss
and evaluation come from `harness.runner.ttr_tasks` by the workload's kind (classification,
language model, click-through, reconstruction), and the loss's name says nothing about which.

The suite's speed options (`harness.performance_options`): the workload's model is put in
channels_last and/or compiled before `init` (outside the submission clock; the compilation is
reported as `compile_time_s`, never inside time-to-result), and the submission's timed calls run
under the suite's autocast. Evaluations run the model's forward under the same autocast (the
compiled graphs are specialized on it) but compute the validation metric in float32, so the
score never depends on bf16 rounding of the metric itself.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch._dynamo  # noqa: F401 - torch's optimizers import it on first use (~1.4 s): start-up
from torch import nn

from harness.api import TrainingAlgorithm, WorkloadHandle
from harness.errors import SubmissionFailure
from harness.performance_options import PerformanceOptions
from harness.runner.performance import autocast, prepare_model
from harness.runner.ttr_exchange import EvaluationReports, hold_until_released
from harness.runner.ttr_tasks import Diverged, Task, load_task
from harness.ttr_kinds import WorkloadKind
from harness.ttr_models import build_model


def load_algorithm_class(submission_dir: Path) -> type[TrainingAlgorithm]:
    path = submission_dir / "submission.py"
    sys.path.insert(0, str(submission_dir))
    spec = importlib.util.spec_from_file_location(f"algorithm_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    algorithm = getattr(module, "Algorithm", None)
    if not (isinstance(algorithm, type) and issubclass(algorithm, TrainingAlgorithm)):
        raise SubmissionFailure("submission.py must define `class Algorithm(TrainingAlgorithm)`")
    return algorithm


class _SubmissionClock:
    """Accumulates the time of timed calls only, waiting for queued device work first; the
    calls run under the suite's autocast (`precision`)."""

    def __init__(self, device: torch.device, precision: str):
        self.device, self.precision, self.total_s = device, precision, 0.0

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def timed(self, fn, *args):
        with autocast(self.device, self.precision):  # entered outside the timed span
            self._sync()
            start = time.perf_counter()
            out = fn(*args)
            self._sync()
            elapsed = time.perf_counter() - start
        self.total_s += elapsed
        return out, elapsed


def run_ttr_job(job: dict[str, Any], scratch: Path) -> dict[str, Any]:
    torch.set_num_threads(job["num_threads"])
    torch.manual_seed(job["seed"])
    device = torch.device(job["device"])
    w = job["workload"]
    task = load_task(job, device)
    if job.get("hold"):  # started ahead of its turn: warm now, no submission code run yet
        hold_until_released(scratch)
    algorithm = load_algorithm_class(Path(job["submission_dir"]))(dict(job["hparams"]))
    (scratch / "ready").touch()

    kind = WorkloadKind(w.get("kind", WorkloadKind.CLASSIFICATION.value))
    torch.manual_seed(job["seed"])  # one initial model per seed, whatever the submission drew
    model = build_model(kind, w["model"], w, w["model_options"]).to(device)
    handle = WorkloadHandle(
        loss=task.loss,
        param_shapes={n: tuple(p.shape) for n, p in model.named_parameters()},
        step_hint=w["step_hint"], max_runtime_s=w["max_runtime_s"], device=device,
        generator=torch.Generator().manual_seed(job["seed"]),
    )
    batch_size = int(algorithm.batch_size(handle))
    if batch_size < 1:
        raise SubmissionFailure(f"batch_size() returned {batch_size}; it must be >= 1")
    options = PerformanceOptions.from_payload(job.get("performance"))
    compile_time_s = 0.0
    if options.prepares_model:
        example = _model_inputs(model, task, batch_size)
        with autocast(device, options.autocast):
            model, compile_time_s = prepare_model(
                model, channels_last=options.channels_last, compile=options.compile,
                example_input=example, backend=options.compile_backend)
    algorithm.init(handle, model)
    return {**_train(job, scratch, algorithm, model, task, batch_size),
            "compile_time_s": compile_time_s}


def _model_inputs(model: nn.Module, task: Task, batch_size: int) -> tuple[torch.Tensor, ...]:
    """The inputs the workload's loss passes to `model` for a training batch of `batch_size`.

    Captured by a forward pre-hook around one eager loss call (eval mode, no autograd, RNG
    untouched, so the model is left as it was); they are the compiled model's warm-up batch.
    """
    captured: list[tuple[torch.Tensor, ...]] = []
    hook = model.register_forward_pre_hook(lambda _module, args: captured.append(args))
    batch = task.to_batch(tuple(t[:batch_size] for t in task.train))
    was_training = model.training
    devices = [batch[0].device.index or 0] if batch[0].device.type == "cuda" else []
    try:
        model.eval()
        with torch.no_grad(), torch.random.fork_rng(devices=devices):
            task.loss(model, batch)
    finally:
        hook.remove()
        model.train(was_training)
    return captured[0]


class _AutocastForward(nn.Module):
    """`model` called under `autocast(device, dtype)`, returning float32: what the harness's
    evaluation calls, so the model runs as it was trained and the metric is computed in full
    precision."""

    def __init__(self, model: nn.Module, device: torch.device, dtype: str):
        super().__init__()
        self.model, self.device, self.dtype = model, device, dtype

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        with autocast(self.device, self.dtype):
            return self.model(*inputs).float()


def _train(job, scratch, algorithm, model, task: Task, batch_size: int) -> dict[str, Any]:
    w, train = job["workload"], task.train
    device = train[0].device
    precision = PerformanceOptions.from_payload(job.get("performance")).autocast
    evaluated = _AutocastForward(model, device, precision) if precision != "float32" else model
    clock = _SubmissionClock(device, precision)
    order_gen = torch.Generator().manual_seed(job["seed"] * 1_000_003)
    rows, times, steps, step_times = [], [], [], []
    eval_time_s, next_eval_s, step, order = 0.0, 0.0, 0, torch.empty(0, dtype=torch.long)
    reports = EvaluationReports(scratch) if job.get("stop_at_target") else None
    diverged = ""
    while True:
        if clock.total_s >= next_eval_s or clock.total_s >= w["max_runtime_s"]:
            clock.timed(algorithm.prepare_for_eval)
            start = time.perf_counter()
            try:
                rows.append(task.evaluate(evaluated, job["eval_batch_size"], step))
            except Diverged as exc:
                if not rows:
                    raise
                diverged = str(exc)
                break
            eval_time_s += time.perf_counter() - start
            times.append(clock.total_s)
            steps.append(step)
            next_eval_s = clock.total_s + w["eval_period_s"]
            if reports is not None:
                reports.write(rows[-1])
            if clock.total_s >= w["max_runtime_s"]:
                break
        if reports is not None and reports.stop_requested():
            break
        if len(order) < batch_size:
            order = torch.randperm(len(train[0]), generator=order_gen).to(device)
        index, order = order[:batch_size], order[batch_size:]
        batch = task.to_batch(tuple(t[index] for t in train))
        selected, select_s = clock.timed(algorithm.select_batch, batch, step)
        _, step_s = clock.timed(algorithm.step, selected, step)
        step_times.append(select_s + step_s)
        step += 1
    np.save(scratch / "eval_predictions.npy", np.stack(rows))
    median = statistics.median(step_times) if step_times else 0.0
    p90 = float(np.percentile(step_times, 90)) if step_times else 0.0
    return {"eval_submission_times_s": times, "eval_steps": steps, "eval_time_s": eval_time_s,
            "submission_time_s": clock.total_s, "num_steps": step,
            "stopped_at_target": bool(reports and reports.stop_requested()),
            "diverged": diverged,
            "step_time_median_s": median,
            "timing_noise": (p90 - median) / median if median else 0.0}

