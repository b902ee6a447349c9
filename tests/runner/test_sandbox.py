"""The sandbox: what a sandboxed worker can see and reach, and what hostile code can achieve.

The first tests build a sandbox for a made-up job and probe it with a short Python script (no
torch, fast). The hostile-submission tests then run real methods that try to read labels, write
the store, open sockets, read another method's folder, or patch the harness to score better.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

from harness.api import Scenario
from harness.data.scenario import build_plan
from harness.evaluation import EvaluateOptions, evaluate
from harness.runner import sandbox
from harness.runner.execute import accuracy_matrix
from harness.runner.local import LocalExecutor
from harness.runner.process import WorkerSettings
from harness.runner.sandbox import ResourceLimits, sandbox_argv, sandbox_available, sandbox_env
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import LEARNER_HEAD, make_method, write_tiny_suite
from tests.faults.common import TRAINS, store_problems

needs_sandbox = pytest.mark.skipif(not sandbox_available(),
                                   reason="bubblewrap (bwrap) is not usable here")

PROBE = """
import json, os, socket, sys
paths = json.loads(sys.argv[1])
seen = {name: os.path.exists(path) for name, path in paths.items()}
def can_write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False
writes = {name: can_write(path) for name, path in
          {"scratch": os.path.join(os.getcwd(), "out"), "tmp": "/tmp/x",
           "submission": os.path.join(paths["submission"], "x"), "root": "/x"}.items()}
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=2).close()
    net = "connected"
except OSError as exc:
    net = type(exc).__name__
print(json.dumps({"seen": seen, "writes": writes, "net": net, "env": sorted(os.environ)}))
"""


@pytest.fixture
def made_up_job(tmp_path):
    """Files laid out as a real run's: a cache folder, a prepared folder, methods, a store."""
    cache = tmp_path / "cache" / "textures-abc"
    prepared = tmp_path / "cache" / ".prepared" / "plan-ce0"
    for folder in (cache, prepared, tmp_path / "methods" / "mine", tmp_path / "methods" / "other",
                   tmp_path / "scratch", tmp_path / "results"):
        folder.mkdir(parents=True)
    for path in (cache / "train_images.npy", cache / "train_labels.npy",
                 cache / "test_images.npy", cache / "test_labels.npy", cache / "meta.json",
                 prepared / "train_tasks.npz", prepared / "eval_inputs.npy",
                 tmp_path / "methods" / "mine" / "submission.py",
                 tmp_path / "methods" / "other" / "submission.py",
                 tmp_path / "results" / "harness.db"):
        path.write_bytes(b"\0")
    job = {"submission_dir": str(tmp_path / "methods" / "mine"), "device": "cpu",
           "train_images": str(cache / "train_images.npy"),
           "train_tasks": str(prepared / "train_tasks.npz"),
           "eval_inputs": str(prepared / "eval_inputs.npy")}
    return tmp_path, job


def probe(tmp_path, job, port: int, monkeypatch) -> dict:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    monkeypatch.setenv("HARNESS_TEST_SEEN", "1")
    argv = sandbox_argv(sandbox.bwrap_status()[0], tmp_path / "scratch", job, ResourceLimits(),
                        limit_processes=False)
    paths = {
        "submission": job["submission_dir"], "train_images": job["train_images"],
        "train_tasks": job["train_tasks"], "eval_inputs": job["eval_inputs"],
        "test_labels": str(tmp_path / "cache" / "textures-abc" / "test_labels.npy"),
        "train_labels": str(tmp_path / "cache" / "textures-abc" / "train_labels.npy"),
        "test_images": str(tmp_path / "cache" / "textures-abc" / "test_images.npy"),
        "other_method": str(tmp_path / "methods" / "other" / "submission.py"),
        "store": str(tmp_path / "results" / "harness.db"),
        "project_submissions": str(sandbox.Path(sandbox.__file__).parents[2] / "submissions"),
        "ssh_keys": os.path.expanduser("~/.ssh"), "etc_shadow": "/etc/shadow",
    }
    command = argv[: argv.index("--") + 1] + [sys.executable, "-c", PROBE, json.dumps(paths),
                                              str(port)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                          env=sandbox_env(tmp_path / "scratch"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_sandbox
def test_the_sandbox_shows_only_what_the_job_names(made_up_job, monkeypatch):
    tmp_path, job = made_up_job
    with socket.create_server(("127.0.0.1", 0)) as server:
        result = probe(tmp_path, job, server.getsockname()[1], monkeypatch)
        server.settimeout(0.1)
        with pytest.raises(TimeoutError):
            server.accept()  # nothing from the sandbox reached the host's loopback
    seen = result["seen"]
    assert {name for name, visible in seen.items() if visible} == {
        "submission", "train_images", "train_tasks", "eval_inputs"}
    assert result["writes"] == {"scratch": True, "tmp": True, "submission": False,
                                "root": False}
    assert result["net"] == "ConnectionRefusedError"  # its own, empty loopback
    assert "AWS_SECRET_ACCESS_KEY" not in result["env"] and "HARNESS_TEST_SEEN" in result["env"]
    assert not (tmp_path / "methods" / "mine" / "x").exists()


def test_without_bubblewrap_runs_unsandboxed_and_says_so_once(monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bwrap_status", lambda: (None, "bubblewrap (bwrap) is not "
                                                                "installed"))
    monkeypatch.setattr(sandbox, "_announced", False)
    for _ in range(3):
        LocalExecutor(2, WorkerSettings(sandbox=True))
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("harness: note: sandbox off: bubblewrap (bwrap) is not installed")
    assert "labels still never reach it" in lines[0]


def test_a_run_with_the_sandbox_requested_but_unavailable_still_completes(
        tmp_path, tiny_cache, monkeypatch):
    monkeypatch.setattr("harness.runner.process.sandbox_available", lambda: False)
    suite = load_suite(write_tiny_suite(tmp_path))
    sub = load_submission(make_method(tmp_path, "good", TRAINS))
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, [sub], store, EvaluateOptions(num_trials=1, num_seeds=1,
                                                               sandbox=True), cache=tiny_cache)
    assert [r.ok for r in report.results] == [True, True]


# ----------------------------------------------------------------- hostile submissions

# Runs `attack(job)` on the first task and fails the run with what it found, so the attempt
# and its outcome are in the run's reason.
ATTACKER = LEARNER_HEAD + """
    def learn(self, task, data):
        import json, os
        scratch = os.path.dirname(os.readlink("/proc/self/fd/1"))
        with open(os.path.join(scratch, "job.json")) as f:
            raise RuntimeError(attack(json.load(f)))
"""

ATTACKS = {
    "labels": """
def attack(job):
    import glob
    from pathlib import Path
    found = []
    for key in ("train_images", "eval_inputs"):
        folder = Path(job[key]).parent
        for root in (folder, folder.parent, folder.parent.parent):
            found += glob.glob(str(root / "**" / "*_labels.npy"), recursive=True)
    for path in found:
        try:
            with open(path, "rb") as f:
                f.read(16)
            return f"LEAKED {path}"
        except OSError:
            pass
    return "DENIED: no label file in view"
""",
    "store": """
def attack(job):
    import sqlite3
    try:
        db = sqlite3.connect(STORE, timeout=1)
        db.execute("UPDATE metrics SET value = 1.0")
        db.execute("DELETE FROM runs")
        db.commit()
        return "LEAKED: wrote to the store"
    except sqlite3.Error as exc:
        return f"DENIED: {exc}"
""",
    "network": """
def attack(job):
    import socket
    outcomes = []
    for host, port in (("127.0.0.1", PORT), ("1.1.1.1", 53)):
        try:
            socket.create_connection((host, port), timeout=2).close()
            outcomes.append(f"LEAKED: connected to {host}:{port}")
        except OSError as exc:
            outcomes.append(f"DENIED {host}:{port}: {type(exc).__name__}")
    return "; ".join(outcomes)
""",
    "neighbour": """
def attack(job):
    try:
        with open(NEIGHBOUR) as f:
            return f"LEAKED {len(f.read())} characters of another method"
    except OSError as exc:
        return f"DENIED: {type(exc).__name__}"
""",
}

# Patches the harness inside the worker, then trains exactly like TRAINS: the scoring code it
# patches runs in the parent, so its recorded scores must equal an honest twin's.
CHEATER = TRAINS + """
import numpy as _np
import harness.metrics.continual as _continual
import harness.runner.execute as _execute
_execute.accuracy_matrix = lambda predictions, plan: _np.ones((plan.num_tasks + 1,
                                                               plan.num_tasks))
_continual.summarize = lambda acc: {"final_avg_acc": 1.0}
_execute.RunStatus = None
"""

# Rewrites every prediction to class 0: it controls its predictions, never the labels, so its
# score is what the parent's labels make of "always 0".
ALWAYS_ZERO = TRAINS + """
import numpy as _np
import harness.runner.worker as _worker
_real = _worker.predict_all
_worker.predict_all = lambda *args, **kwargs: _np.zeros_like(_real(*args, **kwargs))
"""


def attackers(tmp_path, names, port=0):
    source = {"STORE": repr(str(tmp_path / "r.db")), "PORT": str(port),
              "NEIGHBOUR": repr(str(tmp_path / "methods" / "honest" / "submission.py"))}
    folders = []
    for name in names:
        code = ATTACKER + ATTACKS[name]
        for placeholder, value in source.items():
            code = code.replace(placeholder, value)
        folders.append(make_method(tmp_path / "methods", name, code))
    return folders


@needs_sandbox
@pytest.mark.slow
def test_hostile_submissions_are_denied_or_without_effect(tmp_path, tiny_cache):
    connections = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)

    def listen():
        while not done.is_set():
            try:
                connections.append(server.accept())
            except TimeoutError:
                continue

    done = threading.Event()
    listener = threading.Thread(target=listen)
    listener.start()
    honest = make_method(tmp_path / "methods", "honest", TRAINS)
    methods = [honest, make_method(tmp_path / "methods", "cheater", CHEATER),
               make_method(tmp_path / "methods", "zero", ALWAYS_ZERO),
               *attackers(tmp_path, ATTACKS, port=server.getsockname()[1])]
    suite = load_suite(write_tiny_suite(tmp_path))
    try:
        with Store(tmp_path / "r.db") as store:
            report = evaluate(suite, [load_submission(m) for m in methods], store,
                              EvaluateOptions(jobs=2, num_trials=1, num_seeds=1, sandbox=True),
                              cache=tiny_cache)
            stored = {r.spec.key: r for r in store.iter_runs()}
    finally:
        done.set()
        listener.join()
        server.close()

    reasons = {r.spec.submission: r.reason for r in stored.values() if not r.ok}
    for name in ATTACKS:
        assert "DENIED" in reasons[name] and "LEAKED" not in reasons[name], reasons[name]
    assert "DENIED 127.0.0.1" in reasons["network"] and "DENIED 1.1.1.1" in reasons["network"]
    assert connections == []
    # The store is what the driver wrote, nothing else.
    assert store_problems(tmp_path / "r.db") == []
    assert {k: (r.status, r.metrics) for k, r in stored.items()} == \
        {r.spec.key: (r.status, r.metrics) for r in report.results}

    def scores(name):
        return sorted((r.spec.phase.value, r.metrics["final_avg_acc"],
                       json.dumps(r.curves["accuracy_matrix"]))
                      for r in stored.values() if r.spec.submission == name)

    assert scores("cheater") == scores("honest")  # patching scoring code in the worker: no effect
    dataset = tiny_cache.get("textures")
    for result in (r for r in stored.values() if r.spec.submission == "zero"):
        side = suite.tuning if result.spec.phase.value == "tune" else suite.evaluation
        plan = build_plan(side, Scenario.CLASS, dataset)
        zeros = np.zeros((plan.num_tasks + 1, len(plan.eval_targets)), np.int64)
        assert result.curves["accuracy_matrix"] == accuracy_matrix(zeros, plan).round(6).tolist()


def test_without_the_sandbox_the_same_attacks_succeed(tmp_path, tiny_cache):
    """The control for the test above: these attacks are real, only the sandbox stops them
    (unsandboxed, the guarantee is that labels are never *given* to the worker)."""
    make_method(tmp_path / "methods", "honest", TRAINS)
    methods = attackers(tmp_path, ["labels", "neighbour"])
    suite = load_suite(write_tiny_suite(tmp_path))
    with Store(tmp_path / "r.db") as store:
        evaluate(suite, [load_submission(m) for m in methods], store,
                 EvaluateOptions(jobs=2, num_trials=1, sandbox=False), cache=tiny_cache)
        reasons = dict(zip(store.runs_frame().submission, store.runs_frame().reason,
                           strict=True))
    assert "LEAKED" in reasons["labels"] and "_labels.npy" in reasons["labels"]
    assert "LEAKED" in reasons["neighbour"]
