"""The time-to-result loop: only timed calls advance the clock; evaluations are untimed."""

from __future__ import annotations

import textwrap
import threading

import numpy as np

from harness.runner.ttr_exchange import EVALS_FOLDER, STOP_FILE
from harness.runner.ttr_scoring import TargetWatcher, TTRPlan, score_ttr
from harness.runner.ttr_worker import run_ttr_job
from harness.ttr_kinds import WorkloadKind

ALGORITHM = """
import time
import torch
from harness.api import TrainingAlgorithm

SEEN = {}

class Algorithm(TrainingAlgorithm):
    def batch_size(self, workload):
        SEEN["handle"] = repr(workload) + workload.loss.__qualname__
        return 16

    def init(self, workload, model):
        self.workload, self.model = workload, model
        self.opt = torch.optim.SGD(model.parameters(), lr=float(self.hparams["lr"]))

    def prepare_for_eval(self):
        time.sleep(0.01)  # timed: counts towards submission time

    def step(self, batch, step_index):
        self.opt.zero_grad()
        self.workload.loss(self.model, batch).backward()
        self.opt.step()
"""


def tiny_problem(tmp_path, n=256):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, n)
    images = rng.integers(0, 60, (n, 1, 4, 4)).astype(np.uint8)
    images[labels == 1, :, :2, :] += 150  # class 1: bright top half
    paths = {}
    for name, array in (("train_images", images), ("train_labels", labels.astype(np.int64)),
                        ("eval_inputs", images[:64])):
        paths[name] = str(tmp_path / f"{name}.npy")
        np.save(paths[name], array)
    return paths, labels[:64]


def tiny_job(tmp_path, algorithm: str) -> tuple[dict, np.ndarray]:
    """A worker job for `algorithm` (submission source) on `tiny_problem`; and its labels."""
    folder = tmp_path / "algo"
    folder.mkdir()
    (folder / "submission.py").write_text(textwrap.dedent(algorithm))
    paths, eval_labels = tiny_problem(tmp_path)
    job = {
        **paths, "api": "training-algorithm", "seed": 0, "hparams": {"lr": 0.5},
        "submission_dir": str(folder), "num_threads": 1, "device": "cpu",
        "eval_batch_size": 32,
        "workload": {"model": "mlp", "model_options": {"hidden": 16, "num_layers": 1},
                     "input_shape": [1, 4, 4], "num_outputs": 2, "mean": [0.3], "std": [0.3],
                     "step_hint": 100, "max_runtime_s": 0.6, "eval_period_s": 0.1},
    }
    return job, eval_labels


def test_the_trace_follows_submission_time_and_the_model_learns(tmp_path):
    job, eval_labels = tiny_job(tmp_path, ALGORITHM)
    result = run_ttr_job(job, tmp_path)
    times = result["eval_submission_times_s"]
    assert times[0] < 0.05  # before any step: only the timed prepare_for_eval (10 ms)
    assert times == sorted(times) and len(times) >= 4
    assert times[-1] >= 0.6 and result["submission_time_s"] == times[-1]
    assert result["eval_steps"] == sorted(result["eval_steps"]) and result["num_steps"] > 10
    predictions = np.load(tmp_path / "eval_predictions.npy")
    assert predictions.shape == (len(times), 64)
    assert (predictions[-1] == eval_labels).mean() > 0.9  # learned; scored by the parent
    assert result["eval_time_s"] > 0 and result["timing_noise"] >= 0


def test_a_run_stops_at_the_first_evaluation_the_parent_finds_on_target(tmp_path):
    """The worker publishes each evaluation; the parent's watcher scores it against labels the
    worker never sees and asks it to stop. A 60 s budget ends within seconds once met."""
    job, eval_labels = tiny_job(tmp_path, ALGORITHM)
    job["workload"]["max_runtime_s"] = 60.0
    job["stop_at_target"] = True
    plan = TTRPlan(eval_labels=eval_labels, target=0.9, max_runtime_s=60.0)
    watcher = TargetWatcher(plan, tmp_path)
    done = threading.Event()

    def parent():
        while not done.is_set():
            watcher()
            done.wait(0.02)

    thread = threading.Thread(target=parent)
    thread.start()
    try:
        result = run_ttr_job(job, tmp_path)
    finally:
        done.set()
        thread.join()
    assert result["stopped_at_target"] and watcher.stopped
    assert result["submission_time_s"] < 10.0
    published = sorted((tmp_path / EVALS_FOLDER).glob("*.npy"))
    assert len(published) == len(result["eval_submission_times_s"])
    status, _, metrics, _ = score_ttr(plan, tmp_path, result)
    assert metrics["reached_target"] == 1.0
    assert metrics["time_to_target_s"] <= result["submission_time_s"]
    # the evaluation that met the target is the last one the watcher read
    last_read = np.load(published[watcher.read - 1])
    assert (last_read == eval_labels).mean() >= 0.9
    assert all((np.load(p) == eval_labels).mean() < 0.9 for p in published[:watcher.read - 1])


def _publish(scratch, rows):
    folder = scratch / EVALS_FOLDER
    folder.mkdir(exist_ok=True)
    for i, row in enumerate(rows):
        np.save(folder / f"{i:06d}.npy", np.asarray(row))


def test_the_watcher_stops_at_the_first_met_target_in_the_metrics_direction(tmp_path):
    labels = np.array([0, 1, 1, 0])
    plan = TTRPlan(eval_labels=labels, target=0.75, max_runtime_s=10.0)
    accuracy = tmp_path / "accuracy"
    accuracy.mkdir()
    _publish(accuracy, [[1, 0, 0, 1], [0, 1, 0, 1]])  # accuracy 0, 0.5
    watcher = TargetWatcher(plan, accuracy)
    watcher()
    assert not (accuracy / STOP_FILE).exists() and watcher.read == 2
    _publish(accuracy, [[1, 0, 0, 1], [0, 1, 0, 1], [0, 1, 1, 1], [0, 1, 1, 0]])
    watcher()  # reads only the new files: the third (0.75) meets the target
    assert (accuracy / STOP_FILE).exists() and watcher.read == 3

    # a loss: lower is better; NaN (diverged) never meets the target
    loss = TTRPlan(eval_labels=np.zeros(3), target=2.0, max_runtime_s=10.0,
                   kind=WorkloadKind.LANGUAGE_MODEL, metric="loss")
    losses = tmp_path / "loss"
    losses.mkdir()
    _publish(losses, [[3.0, 2.5, 2.5], [np.nan, 0.1, 0.1], [2.5, 2.0, 1.0]])
    watcher = TargetWatcher(loss, losses)
    watcher()
    assert (losses / STOP_FILE).exists() and watcher.read == 3


def _scored(tmp_path, plan, rows, times):
    np.save(tmp_path / "eval_predictions.npy", np.asarray(rows, dtype=float))
    worker = {"eval_submission_times_s": times, "eval_steps": list(range(len(times))),
              "submission_time_s": times[-1], "eval_time_s": 1.0, "num_steps": 10,
              "step_time_median_s": 0.01, "timing_noise": 0.0}
    return score_ttr(plan, tmp_path, worker)


def test_a_run_that_diverges_after_meeting_the_target_keeps_its_time(tmp_path):
    """AlgoPerf's time to target is that of the first evaluation meeting it; what the run
    does afterwards, diverging included, does not take it back."""
    plan = TTRPlan(eval_labels=np.zeros(3), target=2.0, max_runtime_s=60.0,
                   kind=WorkloadKind.LANGUAGE_MODEL, metric="loss", stop_at_target=False)
    status, reason, metrics, curves = _scored(
        tmp_path, plan, [[5.0] * 3, [1.5] * 3, [np.nan] * 3, [np.inf] * 3], [0.1, 20.0, 30.0, 40.0])
    assert (status.value, reason) == ("ok", "")
    assert metrics["time_to_target_s"] == 20.0 and metrics["best_metric"] == 1.5
    assert curves["eval_trace"]["value"] == [5.0, 1.5]  # the trace stops where it diverged
    assert curves["eval_trace"]["time_s"] == [0.1, 20.0]

    # diverged before meeting it: a failed run, as before
    status, reason, metrics, _ = _scored(
        tmp_path, plan, [[5.0] * 3, [np.nan] * 3, [np.nan] * 3], [0.1, 20.0, 30.0])
    assert status.value == "failed" and "diverged" in reason and metrics == {}

    # classification: a NaN logit row is not an accuracy (argmax of NaN would pick a class)
    labels = np.array([0, 1, 1, 0])
    plan = TTRPlan(eval_labels=labels, target=0.75, max_runtime_s=60.0, stop_at_target=False)
    status, _, metrics, _ = _scored(tmp_path, plan, [[1, 0, 0, 1], [0, 1, 1, 0]], [1.0, 2.0])
    assert metrics["time_to_target_s"] == 2.0


def test_the_best_metric_is_the_best_within_the_budget(tmp_path):
    """The state after the last step is evaluated once the clock is past max_runtime_s; no run
    can count that evaluation, so calibration (the median of best_metric) must not either."""
    plan = TTRPlan(eval_labels=np.zeros(3), target=1.0, max_runtime_s=25.0,
                   kind=WorkloadKind.LANGUAGE_MODEL, metric="loss", stop_at_target=False)
    _, _, metrics, _ = _scored(tmp_path, plan, [[5.0] * 3, [3.0] * 3, [1.5] * 3],
                               [0.1, 20.0, 25.3])
    assert metrics["best_metric"] == 3.0 and metrics["time_to_target_s"] == float("inf")


DIVERGES = ALGORITHM.replace('''    def step(self, batch, step_index):
        self.opt.zero_grad()''', '''    def step(self, batch, step_index):
        if step_index == 2000:
            with torch.no_grad():
                for p in self.model.parameters():
                    p.fill_(float("nan"))
            return
        self.opt.zero_grad()''')


def test_a_worker_whose_model_diverges_after_the_target_keeps_its_time(tmp_path):
    """The worker used to fail the whole run at the first non-finite evaluation; it now ends
    the run there and the parent scores the evaluations before it."""
    assert DIVERGES != ALGORITHM
    job, eval_labels = tiny_job(tmp_path, DIVERGES)
    job["workload"]["max_runtime_s"] = 30.0
    result = run_ttr_job(job, tmp_path)
    assert "non-finite by step" in result["diverged"] and result["num_steps"] >= 2000
    plan = TTRPlan(eval_labels=eval_labels, target=0.9, max_runtime_s=30.0,
                   stop_at_target=False)
    status, reason, metrics, _ = score_ttr(plan, tmp_path, result)
    assert (status.value, reason) == ("ok", "") and metrics["time_to_target_s"] < 30
    never = TTRPlan(eval_labels=eval_labels, target=1.01, max_runtime_s=30.0,
                    stop_at_target=False)
    status, reason, _, _ = score_ttr(never, tmp_path, result)
    assert status.value == "failed" and "non-finite by step" in reason


INIT_PROBE = """
import json
import torch
from harness.api import TrainingAlgorithm

if DRAW:
    torch.rand(10)  # a submission drawing from the global generator at import


class Algorithm(TrainingAlgorithm):
    def batch_size(self, workload):
        return 16

    def init(self, workload, model):
        with open(self.hparams["out"], "w") as f:
            json.dump(next(model.parameters()).flatten()[:8].tolist(), f)

    def step(self, batch, step_index):
        pass
"""


def test_the_initial_model_does_not_depend_on_the_submissions_random_draws(tmp_path):
    import json

    weights = []
    for draw in (False, True):
        folder = tmp_path / str(draw)
        folder.mkdir()
        job, _ = tiny_job(folder, f"DRAW = {draw}\n" + INIT_PROBE)
        job["hparams"] = {"out": str(folder / "weights.json")}
        job["workload"]["max_runtime_s"] = 0.01
        run_ttr_job(job, folder)
        weights.append(json.loads((folder / "weights.json").read_text()))
    assert weights[0] == weights[1]
