"""The worker side of a stream run: learn each task in order, predict it right after, checkpoint.

Invoked through `harness.runner.worker.main` for jobs whose ``api`` is ``"nevis"``. Per task:
build its `DeviceTaskData` (batches of its training split, seeded by run seed and task) with a
`TaskSearch` attached as ``data.search``; call `learn` and `end_of_task`; predict the task's
scored inputs (only that task's: NEVIS'22 reports the error of each task right after learning
it); record FLOPs (the task's own steps plus every search trial), samples, time and the
learner's measured state; then checkpoint (`harness.nevis.checkpoint`). On start, an existing
checkpoint in the scratch folder is restored and the stream continues at the next task.

The suite's speed options (`harness.performance_options`) are applied as the continual worker
(`harness.runner.worker`) applies them: `ctx.make_backbone` returns the fixed network in
channels_last and/or compiled (`StreamBackbones`, a `PreparedFactory` that also keeps its
networks compiled across a resume); `learn`, `end_of_task` (and so every in-task search trial,
which runs inside `learn`) and `predict` run under the suite's autocast; compilation, including
a network rebuilt inside `learn`, is kept out of ``train_time_s`` and reported per task as
``compile_time_s`` (`time_without_compile`); with `pin_memory` each task's splits and scored
inputs reach the device through page-locked memory.

Per-task measurements are checkpointed with the learner, so a resumed run reports the tasks of
all its attempts. Its ``compile_time_s`` is the compilation those attempts paid: a resumed
worker compiles again (the learner's constructor builds its network, and the restored networks
that were compiled are compiled anew, `StreamBackbones.reprepare`; graphs do not survive a
process), and that cost is counted on the first task it runs, so a resumed run reports more
compilation than an uninterrupted one — the price of the kill, never inside ``train_time_s``.
What a killed attempt spent after its last checkpoint is lost with it, as its training time is.

Writes ``predictions.npy`` (int16, one prediction per scored input, in task order) and returns
the measurements for ``result.json``. Scored labels never enter this process.
"""

from __future__ import annotations

import resource
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.api import Budget, LearnerContext, Scenario, TaskInfo
from harness.data.batches import DeviceTaskData, Normalizer
from harness.models import backbone_factory
from harness.nevis import checkpoint
from harness.nevis.backbones import StreamBackbones
from harness.nevis.search import TaskSearch
from harness.performance_options import PerformanceOptions
from harness.runner.audit import measure_state_bytes
from harness.runner.instrument import StepInstrument
from harness.runner.performance import autocast, to_device
from harness.runner.worker import _Clock, load_learner_class, predict_all, time_without_compile

_MEASURED = ("train_flops", "search_flops", "search_trials", "samples_seen", "train_time_s",
             "eval_time_s", "state_bytes", "compile_time_s")


def stream_context(job: dict[str, Any]) -> LearnerContext:
    input_shape = tuple(job["input_shape"])
    budget = job["budget"]
    return LearnerContext(
        device=torch.device(job["device"]), seed=job["seed"],
        generator=torch.Generator().manual_seed(job["seed"]), num_tasks=job["num_tasks"],
        num_outputs=job["num_outputs"], input_shape=input_shape, scenario=Scenario.TASK,
        budget=Budget(epochs_per_task=budget["epochs_per_task"],
                      batch_size=budget["batch_size"], replay_samples=0,
                      time_limit_s=budget["time_limit_s"]),
        make_backbone=backbone_factory(job["backbone"], input_shape, job["num_outputs"],
                                       **job["backbone_options"]))


def run_stream_job(job: dict[str, Any], scratch: Path) -> dict[str, Any]:
    torch.set_num_threads(job["num_threads"])
    torch.manual_seed(job["seed"])
    learner_class = load_learner_class(Path(job["submission_dir"]))
    stream = _Stream(job, scratch)
    (scratch / "ready").touch()  # the parent's clock for time_limit_s starts now
    stream.learner = learner_class(stream.ctx, dict(job["hparams"]))
    return stream.execute()


class _Stream:
    def __init__(self, job: dict[str, Any], scratch: Path):
        self.job, self.scratch = job, scratch
        self.options = PerformanceOptions.from_payload(job.get("performance"))
        ctx = stream_context(job)
        self.device = ctx.device
        # The warm-up batch of a compiled backbone: a training batch's shape, dtype and layout.
        example = torch.zeros((max(ctx.budget.batch_size, 2), *ctx.input_shape),
                              device=self.device)
        self.backbones = StreamBackbones(ctx.make_backbone, self.options, self.device, example)
        self.ctx = replace(ctx, make_backbone=self.backbones)
        self.compile_counted_s = 0.0  # of backbones.compile_time_s, already in a task's entry
        self.clock = _Clock(self.device)
        self.normalize = Normalizer(job["mean"], job["std"], self.device)
        self.images = np.load(job["train_images"], mmap_mode="r")
        self.tasks = np.load(job["train_tasks"])
        self.eval_inputs = np.load(job["eval_inputs"], mmap_mode="r")
        self.classes = [tuple(int(c) for c in self.tasks[f"task_{t}_classes"])
                        for t in range(job["num_tasks"])]
        self.learner = None
        self.progress: dict[str, Any] = {"next_task": 0, "predictions": [],
                                         **{k: [] for k in _MEASURED},
                                         "resumed_at": [], "checkpoint_error": ""}

    def to_device(self, array: np.ndarray) -> torch.Tensor:
        return to_device(array, self.device, pin_memory=self.options.pin_memory)

    def _split(self, t: int, role: str) -> tuple[torch.Tensor, torch.Tensor]:
        indices = self.tasks[f"task_{t}_{role}_indices"]
        return (self.to_device(self.images[indices]),
                self.to_device(self.tasks[f"task_{t}_{role}_labels"]))

    def execute(self) -> dict[str, Any]:
        restored = checkpoint.load(self.scratch, self.learner, self.ctx)
        if restored is not None:
            self.backbones.reprepare()
            # A checkpoint of a harness that did not measure compilation: none was reported.
            restored.setdefault("compile_time_s", [0.0] * restored["next_task"])
            self.progress = restored
            self.progress["resumed_at"].append(restored["next_task"])
        for t in range(self.progress["next_task"], self.job["num_tasks"]):
            self.learn(t)
            self.progress["next_task"] = t + 1
            if not self.progress["checkpoint_error"]:
                with self.backbones.marked_for_checkpoint():
                    error = checkpoint.save(self.scratch, self.learner, self.ctx, self.progress)
                if error:
                    print(error, file=sys.stderr)
                    self.progress["checkpoint_error"] = error
        np.save(self.scratch / "predictions.npy",
                np.concatenate([np.asarray(p, np.int16) for p in self.progress["predictions"]]))
        return {**{k: self.progress[k] for k in _MEASURED},
                "resumed_at": self.progress["resumed_at"],
                "checkpoint_error": self.progress["checkpoint_error"],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}

    def learn(self, t: int) -> None:
        budget, job, seed = self.ctx.budget, self.job, self.job["seed"]
        x, y = self._split(t, "train")
        num_steps = budget.epochs_per_task * -(-len(y) // budget.batch_size)
        instrument = StepInstrument(num_steps, evaluate=None, every_steps=0,
                                    learner=self.learner, clock=self.clock.now)
        data = DeviceTaskData(x, y, batch_size=budget.batch_size,
                              num_epochs=budget.epochs_per_task, normalize=self.normalize,
                              instrument=instrument,
                              generator=torch.Generator().manual_seed(seed * 1_000_003 + t))
        classes = torch.tensor(self.classes[t], device=self.device)
        data.search = TaskSearch(
            train=(x, y), dev=self._split(t, "dev"), classes=classes,
            max_trials=job["budget"]["search_trials_per_task"],
            batch_size=budget.batch_size, num_epochs=budget.epochs_per_task,
            normalize=self.normalize, seed=seed * 1_000_003 + t, learner=self.learner,
            clock=self.clock.now, eval_batch_size=job["eval_batch_size"])
        info = TaskInfo(index=t, classes=self.classes[t], scenario=Scenario.TASK,
                        num_train_samples=len(y))

        def learn() -> None:
            self.learner.learn(info, data)
            instrument.end_of_learn(data)
            self.learner.end_of_task(info)

        with autocast(self.device, self.options.autocast):
            train_time_s = time_without_compile(learn, self.clock.now, self.backbones)
        start = self.clock.now()
        lo, hi = job["groups"][t][1:]
        inputs = self.to_device(self.eval_inputs[lo:hi])
        with autocast(self.device, self.options.autocast):
            predictions = predict_all(self.learner, inputs, self.normalize, [[t, 0, hi - lo]],
                                      self.classes, Scenario.TASK, self.ctx.num_outputs,
                                      job["eval_batch_size"], t)
        p = self.progress
        p["eval_time_s"].append(self.clock.now() - start)
        # This task's compilation: what `learn` rebuilt, and for the first task a worker runs,
        # the learner's construction (and, after a resume, `reprepare`) too.
        p["compile_time_s"].append(self.backbones.compile_time_s - self.compile_counted_s)
        self.compile_counted_s = self.backbones.compile_time_s
        p["predictions"].append(predictions.tolist())
        p["train_time_s"].append(train_time_s)
        p["train_flops"].append(instrument.estimated_flops + data.search.flops)
        p["search_flops"].append(data.search.flops)
        p["search_trials"].append(data.search.trials_run)
        p["samples_seen"].append(data.samples_yielded + data.search.samples)
        p["state_bytes"].append(measure_state_bytes(self.learner))
