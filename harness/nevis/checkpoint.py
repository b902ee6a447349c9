"""Per-task checkpoints of a stream run, so a killed run resumes at the next task.

After each task the worker writes, atomically (temporary file, then rename), the learner's
`checkpoint_state()`, the random number generators it may draw from (torch's default generator
and `ctx.generator`), the per-task predictions and measurements so far, and the index of the
next task. A resumed worker constructs the learner as usual, restores all of it and goes on:
the batch order of every task depends only on seed and task, so the remaining tasks see exactly
what they would have seen, and the per-task errors equal an uninterrupted run's.

A learner whose state cannot be pickled runs on without checkpoints (the reason goes to the
worker log and the run's `checkpoint_error`); its run must then start over if killed.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import torch

from harness.api import ContinualLearner, LearnerContext

FILE = "checkpoint.pt"


def save(folder: Path, learner: ContinualLearner, ctx: LearnerContext,
         progress: dict[str, Any]) -> str | None:
    """Write the checkpoint; the reason (one line) if the learner cannot be pickled."""
    buffer = io.BytesIO()
    try:
        torch.save({"learner": learner.checkpoint_state(), "torch_rng": torch.get_rng_state(),
                    "ctx_generator": ctx.generator.get_state(),
                    "progress_json": json.dumps(progress)}, buffer)
    except Exception as exc:  # noqa: BLE001 - pickling arbitrary learner state can fail anyhow
        return f"learner state cannot be checkpointed: {type(exc).__name__}: {exc}"[:300]
    tmp = folder / f".{FILE}.tmp"
    with open(tmp, "wb") as f:
        f.write(buffer.getvalue())
        f.flush()
        os.fsync(f.fileno())
    tmp.rename(folder / FILE)
    return None


def load(folder: Path, learner: ContinualLearner, ctx: LearnerContext) -> dict[str, Any] | None:
    """Restore the learner and generators from `folder`; the progress record, or None."""
    path = folder / FILE
    if not path.is_file():
        return None
    state = torch.load(path, weights_only=False, map_location=ctx.device)
    learner.restore_state(state["learner"])
    torch.set_rng_state(state["torch_rng"].cpu())
    ctx.generator.set_state(state["ctx_generator"].cpu())
    return json.loads(state["progress_json"])
