"""A stream suite's `[performance]` options take effect in the stream worker, and survive a resume.

Compilation uses the "aot_eager" backend, as in `tests/runner/test_performance_in_workers.py`:
torch.compile's capture, guards and autograd tracing without code generation (no C compiler,
seconds rather than a minute on 2 cores).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.evaluation import EvaluateOptions
from harness.nevis import checkpoint
from harness.nevis.backbones import MARK, StreamBackbones
from harness.nevis.evaluation import evaluate_nevis, prepare_streams, stream_job
from harness.nevis.worker import run_stream_job
from harness.performance_options import PerformanceOptions
from harness.protocol import evaluation_specs
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import make_method
from tests.nevis.conftest import write_stream

pytestmark = pytest.mark.skipif(
    not (hasattr(torch, "compile") and torch._dynamo.is_dynamo_supported()),
    reason="torch.compile unavailable")

COMPILED = """
[performance]
channels_last = true
compile = true
compile_backend = "aot_eager"
"""

# Multi-headed fine-tuning (as `nevis-finetune`, with SGD so runs are cheap), logging what each
# call sees. In task 0 it rebuilds its network (as GDumb does), so a compilation happens inside
# `learn` and must not count as training time. With HARNESS_TEST_FAIL_ONCE naming an existing
# file, it removes the file and fails in task 1: a run killed after its first checkpoint.
PROBE = """
import json, os, time
import torch
from torch.nn import functional as F
from harness.api import ContinualLearner, MultiHead

class Learner(ContinualLearner):
    def __init__(self, ctx, hparams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.heads = MultiHead(ctx)

    def observe(self, where, task, **extra):
        conv = self.model.body[0].weight
        with open(os.environ["HARNESS_TEST_PROBE_LOG"], "a") as log:
            log.write(json.dumps({
                "where": where, "task": task, "autocast": torch.is_autocast_enabled("cpu"),
                "channels_last": conv.is_contiguous(memory_format=torch.channels_last)
                                 and not conv.is_contiguous(),
                "compiled": self.model._compiled_call_impl is not None, **extra}) + "\\n")

    def learn(self, task, data):
        start = time.perf_counter()
        flag = os.environ.get("HARNESS_TEST_FAIL_ONCE", "")
        if task.index == 1 and flag and os.path.exists(flag):
            os.remove(flag)
            raise RuntimeError("killed in task 1")
        compiled_s = 0.0
        if task.index == 0:
            before = self.ctx.make_backbone.compile_time_s
            self.model = self.ctx.make_backbone()
            compiled_s = self.ctx.make_backbone.compile_time_s - before
        self.heads.add_task(task)
        optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05)
        self.model.train()
        for x, y in data:
            optimizer.zero_grad(set_to_none=True)
            logits = self.model(x)
            F.cross_entropy(self.heads(logits, y), y).backward()
            optimizer.step()
        self.observe("learn", task.index, logits_dtype=str(logits.dtype),
                     learn_s=time.perf_counter() - start, compiled_in_learn_s=compiled_s)

    def predict(self, x, task=None):
        self.model.eval()
        self.observe("predict", task)
        return self.model(x)
"""


def _self_tuning_probe(root: Path):
    folder = root / "probe"
    if folder.is_dir():
        return load_submission(folder)
    folder = make_method(root, "probe", PROBE, base="nevis-finetune")
    (folder / "search_space.json").unlink()
    toml = folder / "submission.toml"
    toml.write_text(toml.read_text().replace("external-tuning", "self-tuning"))
    return load_submission(folder)


def _evaluate(tmp_path: Path, cache, monkeypatch, table: str, name: str):
    """The tiny stream's test-stream run of the probe through a whole campaign; (the stored
    result, what each call saw)."""
    folder = tmp_path / name
    folder.mkdir()
    log = folder / "probe.jsonl"
    monkeypatch.setenv("HARNESS_TEST_PROBE_LOG", str(log))
    suite = load_suite(write_stream(folder, extra=table))
    with Store(folder / "r.db") as db:
        evaluate_nevis(suite, [_self_tuning_probe(tmp_path)], db, EvaluateOptions(),
                       cache=cache)
        [key] = db.statuses()
        result = db.get_run(key)
    return result, [json.loads(line) for line in log.read_text().splitlines()]


def test_stream_campaign_compiles_in_channels_last_and_stores_compilation_apart(
        tmp_path, cache, monkeypatch):
    plain, plain_seen = _evaluate(tmp_path, cache, monkeypatch, "", "plain")
    fast, fast_seen = _evaluate(tmp_path, cache, monkeypatch, COMPILED, "fast")
    assert plain.ok and fast.ok, (plain.reason, fast.reason)
    assert plain.spec.key != fast.spec.key  # the table is part of the suite version
    assert not any(s["compiled"] or s["channels_last"] or s["autocast"] for s in plain_seen)
    assert all(s["compiled"] and s["channels_last"] and not s["autocast"] for s in fast_seen)
    assert "compile_time_s" not in plain.metrics
    assert "compile_time_s" not in plain.curves["nevis_tasks"]
    tasks = fast.curves["nevis_tasks"]
    assert fast.metrics["compile_time_s"] == pytest.approx(sum(tasks["compile_time_s"]),
                                                           abs=1e-3)
    # Task 0 carries the constructor's compilation and the rebuild inside `learn`; the rebuild
    # is compilation, not training: train_time_s is `learn`'s time without it.
    [first] = [s for s in fast_seen if s["where"] == "learn" and s["task"] == 0]
    rebuild_s = first["compiled_in_learn_s"]
    assert tasks["compile_time_s"][0] > rebuild_s > 0 and tasks["compile_time_s"][1:] == [0, 0]
    assert 0 < tasks["train_time_s"][0] < first["learn_s"] - rebuild_s / 2
    # In float32, channels_last convolutions and aot_eager graphs compute the same functions in
    # another order of float operations; on this stream the predictions, hence the per-task
    # errors, come out identical (the FLOP count is the same by construction).
    assert tasks["error"] == plain.curves["nevis_tasks"]["error"]
    assert fast.metrics["avg_error"] == plain.metrics["avg_error"]
    assert fast.metrics["train_flops"] == plain.metrics["train_flops"]


def test_bf16_autocast_covers_learn_and_predict_in_the_stream_worker(tmp_path, cache,
                                                                      monkeypatch):
    result, seen = _evaluate(tmp_path, cache, monkeypatch,
                             '[performance]\nautocast = "bfloat16"\npin_memory = true\n', "bf16")
    assert result.ok, result.reason
    assert seen and all(s["autocast"] and not s["compiled"] for s in seen)
    assert {s["logits_dtype"] for s in seen if s["where"] == "learn"} == {"torch.bfloat16"}
    assert "compile_time_s" not in result.metrics  # nothing compiled, nothing reported


def _stream_job(tmp_path: Path, cache, table: str) -> dict:
    """The test-stream job of the probe, as the worker reads it from its job file."""
    suite = load_suite(write_stream(tmp_path, extra=table))
    streams = prepare_streams(suite, cache)
    sub = _self_tuning_probe(tmp_path)
    [spec] = evaluation_specs(suite, streams.test_scenario, sub, {}, 1)
    job = stream_job(suite, spec, streams.test, sub, options=EvaluateOptions(),
                     cache_root=cache.root)
    assert job.payload["performance"] == suite.performance.to_payload()
    return json.loads(json.dumps({k: v for k, v in job.payload.items()
                                  if k != "dataset_fingerprints"}))


def _attempt(job: dict, scratch: Path, monkeypatch) -> tuple[dict, list[dict]]:
    """One worker attempt in this process (a fresh process would start with no graphs)."""
    scratch.mkdir(exist_ok=True)
    log = scratch / f"probe-{len(list(scratch.glob('probe-*')))}.jsonl"
    monkeypatch.setenv("HARNESS_TEST_PROBE_LOG", str(log))
    try:
        result = run_stream_job(job, scratch)
    finally:
        torch._dynamo.reset()
    return result, [json.loads(line) for line in log.read_text().splitlines()]


def test_a_resumed_compiled_stream_is_compiled_again_and_predicts_as_without_the_kill(
        tmp_path, cache, monkeypatch):
    job = _stream_job(tmp_path, cache, COMPILED)
    reference, _ = _attempt(job, tmp_path / "uninterrupted", monkeypatch)
    flag = tmp_path / "fail-once"
    flag.touch()
    monkeypatch.setenv("HARNESS_TEST_FAIL_ONCE", str(flag))
    with pytest.raises(RuntimeError, match="killed in task 1"):
        _attempt(job, tmp_path / "killed", monkeypatch)
    assert (tmp_path / "killed" / checkpoint.FILE).is_file()
    resumed, seen = _attempt(job, tmp_path / "killed", monkeypatch)
    assert resumed["resumed_at"] == [1]
    # The restored network was unpickled, hence uncompiled: it was compiled again before
    # task 1, and still computes exactly what the uninterrupted run's network did.
    assert {s["task"] for s in seen} == {1, 2}
    assert all(s["compiled"] and s["channels_last"] for s in seen)
    np.testing.assert_array_equal(np.load(tmp_path / "killed" / "predictions.npy"),
                                  np.load(tmp_path / "uninterrupted" / "predictions.npy"))
    # Task 0's compilation comes from the checkpoint; task 1 carries the resumed worker's two
    # (the learner's constructor and the restored network), task 2 none.
    compile_s = resumed["compile_time_s"]
    assert len(compile_s) == 3 and compile_s[0] > 0 and compile_s[1] > 0 and compile_s[2] == 0
    assert reference["compile_time_s"][1:] == [0.0, 0.0]


class _Net(torch.nn.Module):  # a class of our own: in-place compile skips torch's (see
    def __init__(self):         # `prepare_model`)
        super().__init__()
        self.conv, self.head = torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4 * 6 * 6, 2)

    def forward(self, x):
        return self.head(self.conv(x).flatten(1))


def test_only_backbones_compiled_at_the_checkpoint_are_compiled_after_the_restore():
    options = PerformanceOptions(channels_last=True, compile=True, compile_backend="aot_eager")
    backbones = StreamBackbones(_Net, options, torch.device("cpu"), torch.zeros(2, 3, 8, 8))
    try:
        model = backbones()
        eager_copy = copy.deepcopy(model)  # runs eagerly in an uninterrupted run too
        assert model._compiled_call_impl is not None and eager_copy._compiled_call_impl is None
        buffer = io.BytesIO()
        with backbones.marked_for_checkpoint():
            torch.save({"model": model, "copy": eager_copy}, buffer)
        assert MARK not in vars(model)  # only while the checkpoint is written
        compiled_s = backbones.compile_time_s
        buffer.seek(0)
        state = torch.load(buffer, weights_only=False)
        assert state["model"]._compiled_call_impl is None  # pickling drops the compiled call
        assert backbones.reprepare() == 1
        assert state["model"]._compiled_call_impl is not None
        assert state["copy"]._compiled_call_impl is None
        assert MARK not in vars(state["model"])
        assert backbones.compile_time_s > compiled_s
        conv = state["model"].conv.weight
        assert conv.is_contiguous(memory_format=torch.channels_last)
        x = torch.randn(3, 3, 8, 8)
        torch.testing.assert_close(state["model"](x), model(x))
    finally:
        torch._dynamo.reset()
