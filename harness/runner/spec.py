"""A run: the unit of work the harness schedules, stores and skips when finished.

A run is identified by everything that determines its result (suite version, scenario, phase,
submission content hash, hyperparameters, seed, trial, study). Its key is a hash of those fields
in canonical JSON, so `harness evaluate` can be re-run at will: finished keys are skipped. The
suite version hashes the whole suite file, so settings that change numbers without being fields
here — the budget, the `[performance]` speed options — still give new keys when edited. The
device (`--device`) is not part of the key: the hardware fingerprint stored with each run says
where it ran, and time-based scores compare only runs of one fingerprint class.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


class Phase(enum.Enum):
    """Protocol phases. Tuning runs never see evaluation data (DESIGN §4).

    The two legacy phases reproduce the common practice the fair protocol replaces — trials
    scored on the evaluation data itself, then the winner evaluated over the seeds — so the
    site can show each method's *protocol gap* (`harness evaluate --legacy-test-tuning`).
    """

    TUNE = "tune"
    EVALUATE = "evaluate"
    LEGACY_TUNE = "legacy-tune"
    LEGACY = "legacy"

    @property
    def is_trial(self) -> bool:
        return self in (Phase.TUNE, Phase.LEGACY_TUNE)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's result; `key` is derived from it.

    `trial` is the tuning trial index (-1 for evaluation runs); `study` the tuning study
    (0 unless a suite runs several, as time-to-result does).
    """

    suite: str
    suite_version: str
    scenario: str
    phase: Phase
    submission: str
    submission_hash: str
    hparams: dict[str, Any] = field(hash=False)
    seed: int
    trial: int = -1
    study: int = 0

    def identity(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "suite_version": self.suite_version,
            "scenario": self.scenario,
            "phase": self.phase.value,
            "submission": self.submission,
            "submission_hash": self.submission_hash,
            "hparams": self.hparams,
            "seed": self.seed,
            "trial": self.trial,
            "study": self.study,
        }

    @property
    def key(self) -> str:
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()[:24]

    @classmethod
    def from_identity(cls, identity: dict[str, Any]) -> RunSpec:
        return cls(**{**identity, "phase": Phase(identity["phase"])})

    def label(self) -> str:
        """Short human-readable name for progress displays and error messages."""
        where = f"trial {self.trial}" if self.phase.is_trial else f"seed {self.seed}"
        return f"{self.submission} · {self.suite}/{self.scenario} · {self.phase.value} {where}"
