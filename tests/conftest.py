"""Shared fixtures: an isolated data cache, a tiny suite, and method folders that misbehave."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from harness.data.cache import DatasetCache

REPO = Path(__file__).resolve().parent.parent
TINY_SIZES = {"train": 24, "val": 8, "test": 8}

# The caps equal TINY_SIZES, so runs are as small when a test's subprocess (the CLI) reads the
# default-sized procedural data as when the test reads the tiny cache in process.
TINY_SUITE = """
name = "tiny"
description = "Two tasks of two texture classes each; tests only."
api = "continual"
scenarios = {scenarios}
backbone = "small_cnn"
backbone_options = {{ width = 4 }}

[budget]
epochs_per_task = 1
batch_size = 16
replay_samples = 8
time_limit_s = {time_limit_s}

[continual_eval]
every_steps = 1
samples_per_task = 4

[protocol]
num_trials = 2
num_seeds = 2

[tuning]
dataset = "textures"
classes = [4, 5, 6, 7]
num_tasks = 2
eval_split = "val"
max_train_per_class = 24
max_eval_per_class = 8

[evaluation]
dataset = "textures"
classes = [0, 1, 2, 3]
num_tasks = 2
eval_split = "test"
max_train_per_class = 24
max_eval_per_class = 8
"""


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets the same session-wide temporary cache, never ~/.cache."""
    root = tmp_path_factory.getbasetemp() / "harness-cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(root))
    return root


@pytest.fixture
def tiny_cache(isolated_cache) -> DatasetCache:
    return DatasetCache(isolated_cache, sizes_override=TINY_SIZES)


def write_tiny_suite(folder: Path, scenarios=("class",), time_limit_s: float = 60) -> Path:
    path = folder / "tiny.toml"
    path.write_text(TINY_SUITE.format(scenarios=list(scenarios), time_limit_s=time_limit_s))
    return path


def make_method(root: Path, name: str, body: str | None = None, base: str = "naive") -> Path:
    """A method folder copied from a baseline, with its name changed and optionally its code."""
    folder = root / name
    shutil.copytree(REPO / "submissions" / base, folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    toml = (folder / "submission.toml").read_text()
    toml = "\n".join(f'name = "{name}"' if line.startswith("name") else line
                     for line in toml.splitlines())
    (folder / "submission.toml").write_text(toml.replace('"quickstart"', '"*"') + "\n")
    if body is not None:
        (folder / "submission.py").write_text(textwrap.dedent(body))
    return folder


LEARNER_HEAD = """
import torch
from torch.nn import functional as F
from harness.api import ContinualLearner

class Learner(ContinualLearner):
    def __init__(self, ctx, hparams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=float(hparams.get("lr", 0.01)))

    def predict(self, x, task=None):
        return self.model(x)
"""

RAISES = LEARNER_HEAD + """
    def learn(self, task, data):
        for x, y in data:
            raise RuntimeError("exploding on purpose")
"""

NAN = LEARNER_HEAD + """
    def learn(self, task, data):
        for x, y in data:
            pass
        with torch.no_grad():
            for p in self.model.parameters():
                p.fill_(float("nan"))
"""

HANGS = LEARNER_HEAD + """
    def learn(self, task, data):
        import time
        while True:
            time.sleep(0.1)
"""

TWO_PASSES = LEARNER_HEAD + """
    def learn(self, task, data):
        for _ in range(2):
            for x, y in data:
                pass
"""

# Records every file the worker process opens (Python audit hook, installed at import) in a
# log named by an environment variable: the test reads it to prove labels never reach here.
LABEL_SPY = """
import os, sys
_log = open(os.environ["HARNESS_TEST_SPY_LOG"], "a")
def _hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _log.write(os.fsdecode(args[0]) + "\\n"); _log.flush()
sys.addaudithook(_hook)
""" + LEARNER_HEAD + """
    def learn(self, task, data):
        for x, y in data:
            self.opt.zero_grad()
            F.cross_entropy(self.model(x), y).backward()
            self.opt.step()
"""
