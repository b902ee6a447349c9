"""The outcome of one run, as the parent process records it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from harness.runner.spec import RunSpec


class RunStatus(enum.Enum):
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True)
class RunResult:
    """A finished run: its spec, whether it succeeded, and what was measured.

    Attributes:
        metrics: scalar metrics by name (e.g. ``final_avg_acc``), empty for failed runs.
        curves: structured results by name (e.g. ``accuracy_matrix`` as nested lists).
        reason: why a failed run failed, one line; empty for successful runs.
        wall_time_s: whole-run wall time measured by the parent (start-up included).
        hardware: the hardware fingerprint of the machine that ran it.
        dataset_fingerprints: fingerprint of every dataset the run read, by dataset name.
    """

    spec: RunSpec
    status: RunStatus
    metrics: dict[str, float] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    wall_time_s: float = 0.0
    started_at: str = ""
    finished_at: str = ""
    hardware: dict[str, Any] = field(default_factory=dict)
    dataset_fingerprints: dict[str, str] = field(default_factory=dict)
    harness_version: str = ""

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK
