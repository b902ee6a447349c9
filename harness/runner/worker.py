"""The worker: runs one continual-learning run of submission code in its own process.

Invoked as ``python -m harness.runner.worker SCRATCH_DIR``. It reads ``SCRATCH_DIR/job.json``
(written by the parent), trains the learner task by task, predicts on the evaluation inputs
before the first task and after each task, and writes ``predictions.npy`` (int16, shape
(num_tasks + 1, num_eval)) and ``result.json``.

What it is given, by construction: the training images and *training* labels of each task, and
the evaluation *inputs* in a presentation order (see `harness.data.scenario`). Evaluation labels
are never passed; the parent scores the predictions.

The suite's speed options (`harness.performance_options`) are applied here: `ctx.make_backbone`
returns the fixed network in channels_last and/or compiled (`PreparedFactory`; the compilation is
reported as `compile_time_s`, outside `train_time_s`), the learner's `learn`, `end_of_task` and
`predict` run under the suite's autocast, and with `pin_memory` host→device copies go through
page-locked memory.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.api import Budget, ContinualLearner, LearnerContext, Scenario, TaskInfo
from harness.data.augment import Augmentation, augmenter
from harness.data.batches import PRENORMALIZE_MAX_BYTES, DeviceTaskData, Normalizer, identity
from harness.errors import BudgetExceededError, SubmissionFailure
from harness.models import backbone_factory
from harness.performance_options import PerformanceOptions
from harness.runner.audit import allowed_state_bytes, measure_state_bytes, network_bytes
from harness.runner.hardware import hardware_fingerprint
from harness.runner.instrument import StepInstrument
from harness.runner.performance import PreparedFactory, autocast, to_device


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


@dataclass(frozen=True)
class EvalInputs:
    """Evaluation inputs as `predict_all` reads them: `images`, and the `normalize` still to
    apply to each batch of them (the identity once they are normalized)."""

    images: torch.Tensor
    normalize: Callable[[torch.Tensor], torch.Tensor]

    @classmethod
    def prepare(cls, images_uint8: torch.Tensor, normalize: Normalizer) -> EvalInputs:
        """Normalized once when the float copy fits in `PRENORMALIZE_MAX_BYTES` (the rule of
        training data, `harness.data.batches`), else batch by batch.

        The evaluation set is predicted before the first task and after every task, and the
        continual subsample every few steps: normalizing it once saves a conversion pass each
        time, which for a small network is a tenth of the prediction's cost (the 2 × 400 MLP on
        MNIST's test set, `benchmarks/test_eval_path.py`). The copy is 4× the uint8 images
        (31 MB for MNIST's test set, 123 MB for CIFAR's). It is made in inference mode, as
        per-batch normalization inside `predict_all` makes its batches: a compiled backbone is
        warmed up on inference tensors, and a batch that is not one would recompile it inside
        the evaluation clock.
        """
        if images_uint8.numel() * 4 <= PRENORMALIZE_MAX_BYTES:
            with torch.inference_mode():
                return cls(normalize(images_uint8), identity)
        return cls(images_uint8, normalize)


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
                scored = logits[:, allowed]
                _check_scored(scored, after_task)
                chosen = allowed[scored.argmax(dim=1)]
            else:
                _check_scored(logits, after_task)
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
    # -inf is a masking idiom (other tasks' classes in task-incremental learning); NaN and
    # +inf are a diverged model
    if torch.isnan(logits).any() or torch.isposinf(logits).any():
        raise SubmissionFailure(f"predict returned non-finite logits (NaN or +inf) {when}; "
                                "the model has probably diverged (try a smaller learning rate)")


def _check_scored(logits: torch.Tensor, after_task: int) -> None:
    """Each row needs a finite logit among the classes it is scored on."""
    if not torch.isfinite(logits).any(dim=1).all():
        when = "before the first task" if after_task < 0 else f"after task {after_task}"
        raise SubmissionFailure(f"predict returned a row whose logits are all -inf over the "
                                f"classes it is scored on {when}; mask with a large negative "
                                "finite value instead")


def time_without_compile(call: Callable[[], None], now: Callable[[], float],
                         backbones: PreparedFactory) -> float:
    """Seconds `call()` took by the clock `now`, less the compilation of the backbones it built
    (a learner that rebuilds its network inside `learn`): that is `compile_time_s`'s."""
    compiled_s = backbones.compile_time_s
    start = now()
    call()
    return now() - start - (backbones.compile_time_s - compiled_s)


def run_job(job: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """Train and predict as `job` says; write predictions; return the measurements."""
    torch.set_num_threads(job["num_threads"])
    torch.manual_seed(job["seed"])
    # Import submission code before any data is opened: import errors fail fast, and whatever
    # the code does at import time sees exactly what the worker later opens.
    learner_class = load_learner_class(Path(job["submission_dir"]))
    run = _Run(job, scratch)
    (scratch / "ready").touch()  # the parent's clock for time_limit_s starts now
    run.learner = learner_class(run.ctx, dict(job["hparams"]))
    return run.execute()


def learner_context(job: dict[str, Any]) -> LearnerContext:
    """The context a learner is built with, including its audited state allowance."""
    input_shape = tuple(job["input_shape"])
    make_backbone = backbone_factory(job["backbone"], input_shape, job["num_outputs"],
                                     **job["backbone_options"])
    with torch.random.fork_rng(devices=[]):  # counting parameters must not shift the seed
        num_parameters = sum(p.numel() for p in make_backbone().parameters())
    budget = Budget(**job["budget"], state_bytes_allowed=allowed_state_bytes(
        job["budget"]["replay_samples"], input_shape, job["num_outputs"], num_parameters,
        job["model_copies"]))
    return LearnerContext(
        device=torch.device(job["device"]), seed=job["seed"],
        generator=torch.Generator().manual_seed(job["seed"]), num_tasks=job["num_tasks"],
        num_outputs=job["num_outputs"], input_shape=input_shape,
        scenario=Scenario(job["scenario"]), budget=budget, make_backbone=make_backbone,
    )


class _Run:
    """One run's data, learner and measurements."""

    def __init__(self, job: dict[str, Any], scratch: Path):
        self.job, self.scratch = job, scratch
        self.options = PerformanceOptions.from_payload(job.get("performance"))
        ctx = learner_context(job)
        self.device = ctx.device
        # The warm-up batch of a compiled backbone: a training batch's shape, dtype and layout.
        example = torch.zeros((max(ctx.budget.batch_size, 2), *ctx.input_shape),
                              device=self.device)
        self.backbones = PreparedFactory(ctx.make_backbone, self.options, self.device, example)
        self.ctx = replace(ctx, make_backbone=self.backbones)
        self.clock = _Clock(self.device)
        self.normalize = Normalizer(job["mean"], job["std"], self.device)
        self.train_images = np.load(job["train_images"], mmap_mode="r")
        self.tasks = np.load(job["train_tasks"])
        self.eval_inputs = EvalInputs.prepare(self.to_device(np.load(job["eval_inputs"])),
                                              self.normalize)
        self.ce_inputs = (EvalInputs.prepare(self.to_device(np.load(job["ce_inputs"])),
                                             self.normalize)
                          if job.get("ce_inputs") else None)
        self.task_classes = [tuple(int(c) for c in self.tasks[f"task_{t}_classes"])
                             for t in range(job["num_tasks"])]
        self.learner: ContinualLearner | None = None
        self.rows: list[np.ndarray] = []
        self.ce_rows: list[tuple[int, int, np.ndarray]] = []  # (task, step, predictions)
        self.train_time_s = self.eval_time_s = 0.0
        self._network_bytes: int | None = None
        self.measured = {"samples_seen": 0, "uncounted_train_time_s": 0.0,
                         "train_flops": [], "state_bytes_measured": [],
                         "state_bytes_reported": []}

    def to_device(self, array: np.ndarray) -> torch.Tensor:
        return to_device(array, self.device, pin_memory=self.options.pin_memory)

    def learner_time_s(self, call: Callable[[], None]) -> float:
        """Run `call` (into the learner) under the suite's autocast; return its seconds."""
        with autocast(self.device, self.options.autocast):
            return time_without_compile(call, self.clock.now, self.backbones)

    def predict(self, inputs: EvalInputs, groups: list, after_task: int) -> np.ndarray:
        with autocast(self.device, self.options.autocast):
            return predict_all(self.learner, inputs.images, inputs.normalize, groups,
                               self.task_classes,
                               self.ctx.scenario, self.ctx.num_outputs,
                               self.job["eval_batch_size"], after_task)

    def evaluate(self, after_task: int) -> None:
        start = self.clock.now()
        self.rows.append(self.predict(self.eval_inputs, self.job["groups"], after_task))
        if self.ce_inputs is not None and after_task >= 0:
            self.ce_rows.append((after_task, -1, self.predict(
                self.ce_inputs, self.job["ce_groups"], after_task)))
        self.eval_time_s += self.clock.now() - start

    def execute(self) -> dict[str, Any]:
        self.evaluate(-1)
        for t in range(self.job["num_tasks"]):
            self.train_task(t)
            self.audit(t)
            self.evaluate(t)
        np.save(self.scratch / "predictions.npy", np.stack(self.rows))
        if self.ce_rows:
            np.save(self.scratch / "ce_predictions.npy", np.stack([r[2] for r in self.ce_rows]))
        return {
            **self.measured, "train_time_s": self.train_time_s,
            "eval_time_s": self.eval_time_s, "compile_time_s": self.backbones.compile_time_s,
            "ce_rows": [[task, step] for task, step, _ in self.ce_rows],
            "state_bytes_allowed": self.ctx.budget.state_bytes_allowed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        }

    def train_task(self, t: int) -> None:
        budget, job = self.ctx.budget, self.job
        indices = self.tasks[f"task_{t}_indices"]
        num_steps = budget.epochs_per_task * -(-len(indices) // budget.batch_size)
        ce = None
        if self.ce_inputs is not None:
            def ce(t=t):
                return self.predict(self.ce_inputs, job["ce_groups"], t)
        instrument = StepInstrument(num_steps, evaluate=ce, every_steps=job["ce_every_steps"],
                                    learner=self.learner, clock=self.clock.now)
        data = DeviceTaskData(
            self.to_device(self.train_images[indices]),
            self.to_device(self.tasks[f"task_{t}_labels"]),
            batch_size=budget.batch_size, num_epochs=budget.epochs_per_task,
            normalize=self.normalize, instrument=instrument,
            augment=augmenter(tuple(Augmentation(a) for a in job.get("augment", [])),
                              torch.Generator().manual_seed(augment_seed(job["seed"], t)),
                              num_samples=len(indices)),
            # Batch order depends on seed and task only: every method sees the same batches.
            generator=torch.Generator().manual_seed(job["seed"] * 1_000_003 + t),
        )
        info = TaskInfo(index=t, classes=self.task_classes[t], scenario=self.ctx.scenario,
                        num_train_samples=len(indices))

        def learn() -> None:
            self.learner.learn(info, data)
            instrument.end_of_learn(data)
            self.learner.end_of_task(info)

        compiled_s = self.backbones.compile_time_s
        learner_time_s = self.learner_time_s(learn) - instrument.eval_time_s
        self.train_time_s += learner_time_s
        self.eval_time_s += instrument.eval_time_s
        # training outside the harness's batches: its FLOPs are not counted (instrument)
        if instrument.batches_time_s is not None:  # else unknown: the batches were not finished
            # compilation during the batches is in the span, not in the learner's time
            in_batches_s = instrument.batches_time_s - (self.backbones.compile_time_s - compiled_s)
            self.measured["uncounted_train_time_s"] += max(0.0, learner_time_s - in_batches_s)
        self.ce_rows += [(t, step, preds) for step, preds in instrument.rows]
        self.measured["samples_seen"] += data.samples_yielded
        self.measured["train_flops"].append(instrument.estimated_flops)

    def audit(self, t: int) -> None:
        reported = self.learner.state_size_bytes()
        if reported is not None and (not isinstance(reported, int) or reported < 0):
            raise SubmissionFailure(f"state_size_bytes() returned {reported!r}, not a byte count")
        if self._network_bytes is None:  # a fresh backbone, without shifting the seed
            with torch.random.fork_rng(devices=[]):
                self._network_bytes = network_bytes(backbone_factory(
                    self.job["backbone"], tuple(self.job["input_shape"]),
                    self.job["num_outputs"], **self.job["backbone_options"])())
        measured = measure_state_bytes(self.learner, self._network_bytes)
        self.measured["state_bytes_reported"].append(reported)
        self.measured["state_bytes_measured"].append(measured)
        allowed = self.ctx.budget.state_bytes_allowed
        if measured > allowed and self.job.get("audit_state", True):
            raise BudgetExceededError(
                f"after task {t} the learner holds {measured:,} bytes of state beyond its "
                f"network; the suite allows {allowed:,} (replay_samples = "
                f"{self.ctx.budget.replay_samples} samples + {self.job['model_copies']} "
                "parameter copies). Each tensor counts its whole storage: a sample kept as a "
                "view of a batch (x[i]) holds the whole batch; keep x[i].clone()")


def augment_seed(seed: int, task: int) -> int:
    """The seed of a task's augmentation generator: its own stream, apart from the batch-order
    seeds (seed · 1,000,003 + task). It was seed · 1,000,003 + task + 7, the batch-order seed
    of task + 7, so the two streams of a long suite were the same numbers."""
    state = np.random.SeedSequence([seed, task, 0xA0C]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> 1)  # torch seeds are signed 64-bit


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
        if job.get("api") == "training-algorithm":
            from harness.runner.ttr_worker import run_ttr_job

            measured = run_ttr_job(job, scratch)
        elif job.get("api") == "nevis":
            from harness.nevis.worker import run_stream_job

            measured = run_stream_job(job, scratch)
        else:
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

