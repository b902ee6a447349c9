"""A suite's `[performance]` options take effect in the workers, and only when turned on.

Compilation uses the "aot_eager" backend: it runs torch.compile's capture, guards and autograd
tracing without generating code (inductor's code generation takes about a minute on 2 cores),
and what is checked here — graphs built before the clocks, their time reported apart — does not
depend on the code generator.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from harness.evaluation import EvaluateOptions, evaluate
from harness.runner.ttr_worker import run_ttr_job
from harness.runner.worker import time_without_compile
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import LEARNER_HEAD, make_method, write_tiny_suite
from tests.runner.test_ttr_worker import tiny_job

pytestmark = pytest.mark.skipif(
    not (hasattr(torch, "compile") and torch._dynamo.is_dynamo_supported()),
    reason="torch.compile unavailable")

ALL_ON = """
[performance]
channels_last = true
compile = true
compile_backend = "aot_eager"
autocast = "bfloat16"
pin_memory = true
"""

# Logs, per call, what the learner sees; in its first task it rebuilds its network (as GDumb
# does), so that compilation happens inside `learn` and must not count as training time.
PROBE = LEARNER_HEAD + """
    def observe(self, where, **extra):
        import json, os
        conv = self.model.body[0].weight
        with open(os.environ["HARNESS_TEST_PROBE_LOG"], "a") as log:
            log.write(json.dumps({
                "where": where, "autocast": torch.is_autocast_enabled("cpu"),
                "channels_last": conv.is_contiguous(memory_format=torch.channels_last)
                                 and not conv.is_contiguous(),
                "compiled": self.model._compiled_call_impl is not None, **extra}) + "\\n")

    def learn(self, task, data):
        import time
        if task.index == 0:
            start = time.perf_counter()
            self.model = self.ctx.make_backbone()
            self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01)
            self.observe("rebuild", rebuild_s=time.perf_counter() - start)
        for x, y in data:
            self.opt.zero_grad()
            logits = self.model(x)
            F.cross_entropy(logits, y).backward()
            self.opt.step()
        self.observe("learn", logits_dtype=str(logits.dtype))

    def predict(self, x, task=None):
        self.observe("predict")
        return self.model(x)
"""


def probe_runs(tmp_path, tiny_cache, monkeypatch, table: str):
    log = tmp_path / "probe.jsonl"
    monkeypatch.setenv("HARNESS_TEST_PROBE_LOG", str(log))
    path = write_tiny_suite(tmp_path)
    path.write_text(path.read_text() + table)
    sub = load_submission(make_method(tmp_path, "probe", PROBE))
    with Store(tmp_path / "r.db") as store:
        report = evaluate(load_suite(path), [sub], store,
                          EvaluateOptions(num_trials=1, num_seeds=1), cache=tiny_cache)
    assert report.results and not report.failed, [r.reason for r in report.failed]
    return report.results, [json.loads(line) for line in log.read_text().splitlines()]


def test_continual_worker_applies_every_option_and_reports_compile_time_apart(
        tmp_path, tiny_cache, monkeypatch):
    results, seen = probe_runs(tmp_path, tiny_cache, monkeypatch, ALL_ON)
    assert all(s["autocast"] and s["channels_last"] and s["compiled"] for s in seen)
    assert {s["logits_dtype"] for s in seen if s["where"] == "learn"} == {"torch.bfloat16"}
    rebuilds = [s["rebuild_s"] for s in seen if s["where"] == "rebuild"]
    assert len(rebuilds) == len(results) == 2
    for run, rebuild_s in zip(results, rebuilds, strict=True):
        # Compiled in __init__ and again inside `learn`: both counted as compilation.
        assert run.metrics["compile_time_s"] > rebuild_s > 0


def test_compilation_inside_a_learner_call_is_not_training_time():
    class Backbones:  # what a learner rebuilding its compiled network leaves behind
        compile_time_s = 2.0

    times = iter([10.0, 17.0])  # the call spans 7 s, of which 5 s compiling

    def rebuild_and_train():
        Backbones.compile_time_s += 5.0

    assert time_without_compile(rebuild_and_train, lambda: next(times), Backbones) == 2.0


def test_continual_worker_without_the_table_runs_as_before(tmp_path, tiny_cache, monkeypatch):
    results, seen = probe_runs(tmp_path, tiny_cache, monkeypatch, "")
    assert not any(s["autocast"] or s["channels_last"] or s["compiled"] for s in seen)
    assert {s["logits_dtype"] for s in seen if s["where"] == "learn"} == {"torch.float32"}
    assert all("compile_time_s" not in run.metrics for run in results)


ALGORITHM = """
import json, os
import torch
from harness.api import TrainingAlgorithm

def observe(**seen):
    with open(os.environ["HARNESS_TEST_PROBE_LOG"], "a") as log:
        log.write(json.dumps(seen) + "\\n")

class Algorithm(TrainingAlgorithm):
    def batch_size(self, workload):
        return 16

    def init(self, workload, model):
        self.workload, self.model = workload, model
        observe(compiled=model._compiled_call_impl is not None)
        self.opt = torch.optim.SGD(model.parameters(), lr=float(self.hparams["lr"]))

    def step(self, batch, step_index):
        if step_index == 0:
            observe(autocast=torch.is_autocast_enabled("cpu"))
        self.opt.zero_grad()
        self.workload.loss(self.model, batch).backward()
        self.opt.step()
"""


def test_time_to_result_worker_compiles_before_the_clock_and_trains_in_bf16(tmp_path,
                                                                             monkeypatch):
    log = tmp_path / "probe.jsonl"
    monkeypatch.setenv("HARNESS_TEST_PROBE_LOG", str(log))
    job, eval_labels = tiny_job(tmp_path, ALGORITHM)
    job["performance"] = {"channels_last": True, "compile": True, "compile_backend": "aot_eager",
                          "autocast": "bfloat16", "pin_memory": False}
    try:
        result = run_ttr_job(job, tmp_path)
    finally:
        torch._dynamo.reset()
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        {"compiled": True}, {"autocast": True}]
    assert result["compile_time_s"] > 0
    # Compiled before the clock: a first step that compiled (seconds) would spend the whole
    # 0.6 s budget.
    assert result["num_steps"] > 10
    predictions = np.load(tmp_path / "eval_predictions.npy")
    assert (predictions[-1] == eval_labels).mean() > 0.9  # still learns in bf16
