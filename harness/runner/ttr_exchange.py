"""How a time-to-result worker and its parent talk while it starts and while it runs.

Holding at start-up (`harness.runner.serial`): a worker started ahead of its turn loads
everything that is the harness's (interpreter, torch, its data), creates ``warm`` in its
scratch folder and blocks reading its stdin — no CPU, and no submission code has run — until the
parent writes to it (or closes it). Then it loads the submission and goes on as any run.

Stopping at the target (`harness.runner.ttr_worker`, `harness.runner.ttr_scoring.TargetWatcher`):
the worker publishes each evaluation's outputs as ``evals/NNNNNN.npy`` in its scratch folder
as it takes them (written under a temporary name and renamed, so the parent never reads half a
file); the parent, which alone holds the validation labels, scores them and creates ``stop``
at the first that meets the target; the worker looks for it before every step.

A module of its own so that the worker imports none of the parent's scoring (whose metrics pull
in scipy: a second of start-up in every sandboxed run).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

WARM_FILE = "warm"  # in the scratch folder: created by a held worker once it is warm
EVALS_FOLDER = "evals"  # in the scratch folder: one .npy of outputs per evaluation, in order
STOP_FILE = "stop"  # in the scratch folder: created by the parent once the target is met


def hold_until_released(scratch: Path) -> None:
    """Say the worker is warm and wait for the parent's word on stdin (any byte, or its end)."""
    (scratch / WARM_FILE).touch()
    os.read(0, 1)


def published(scratch: Path, index: int) -> Path:
    """Where the worker publishes the outputs of its `index`-th evaluation (from 0)."""
    return scratch / EVALS_FOLDER / f"{index:06d}.npy"


class EvaluationReports:
    """The worker's half: publish each evaluation's outputs; see whether the parent said stop."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        (scratch / EVALS_FOLDER).mkdir(exist_ok=True)
        self.stop = scratch / STOP_FILE
        self.count = 0

    def write(self, outputs: np.ndarray) -> None:
        final = published(self.scratch, self.count)
        tmp = final.with_name("." + final.name)
        np.save(tmp, outputs)
        tmp.rename(final)
        self.count += 1

    def stop_requested(self) -> bool:
        return self.stop.exists()
