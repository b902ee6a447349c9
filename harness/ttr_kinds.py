"""The closed set of time-to-result workload kinds and the validation metrics each may target.

A workload kind fixes what the data is, which models it takes and how its validation metric is
computed; the metric fixes the target's direction. AlgoPerf's workloads target a metric that is
either higher-is-better (accuracy, AUC, SSIM) or lower-is-better (loss, perplexity, log loss,
error); a target is *met* when the metric is at or beyond it in that direction.

| kind | data | models | metrics |
|---|---|---|---|
| classification | cached images | `harness.models.BACKBONES` | accuracy |
| language-model | byte-level text | transformer_lm | loss (nats per byte), perplexity |
| click-through | dense + categorical, clicks | dlrm | log_loss, auc |
| reconstruction | cached images, no labels | conv_autoencoder | ssim, mse |

This module is light (no torch), so suite parsing stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class WorkloadKind(StrEnum):
    CLASSIFICATION = "classification"
    LANGUAGE_MODEL = "language-model"
    CLICK_THROUGH = "click-through"
    RECONSTRUCTION = "reconstruction"


@dataclass(frozen=True)
class MetricInfo:
    """A validation metric: its direction and the range a sensible target lies in."""

    higher_is_better: bool
    low: float           # exclusive lower bound of a valid target
    high: float          # inclusive upper bound of a valid target (inf: none)

    def check_target(self, target: float) -> str | None:
        """None if `target` is valid, else why not."""
        if not (self.low < target <= self.high):
            upper = "" if math.isinf(self.high) else f", at most {self.high:g}"
            return f"must be greater than {self.low:g}{upper}"
        return None


METRICS: dict[WorkloadKind, dict[str, MetricInfo]] = {
    WorkloadKind.CLASSIFICATION: {"accuracy": MetricInfo(True, 0.0, 1.0)},
    WorkloadKind.LANGUAGE_MODEL: {"loss": MetricInfo(False, 0.0, math.inf),
                                  "perplexity": MetricInfo(False, 1.0, math.inf)},
    WorkloadKind.CLICK_THROUGH: {"log_loss": MetricInfo(False, 0.0, math.inf),
                                 "auc": MetricInfo(True, 0.5, 1.0)},
    WorkloadKind.RECONSTRUCTION: {"ssim": MetricInfo(True, 0.0, 1.0),
                                  "mse": MetricInfo(False, 0.0, math.inf)},
}

DEFAULT_METRIC: dict[WorkloadKind, str] = {
    WorkloadKind.CLASSIFICATION: "accuracy", WorkloadKind.LANGUAGE_MODEL: "loss",
    WorkloadKind.CLICK_THROUGH: "log_loss", WorkloadKind.RECONSTRUCTION: "ssim",
}

# Models per kind other than classification (which takes any classification backbone).
MODELS: dict[WorkloadKind, tuple[str, ...]] = {
    WorkloadKind.LANGUAGE_MODEL: ("transformer_lm",),
    WorkloadKind.CLICK_THROUGH: ("dlrm",),
    WorkloadKind.RECONSTRUCTION: ("conv_autoencoder",),
}


def higher_is_better(kind: WorkloadKind, metric: str) -> bool:
    return METRICS[kind][metric].higher_is_better


def meets(value: float, target: float, higher: bool) -> bool:
    """Whether a metric value meets a target in the metric's direction."""
    return value >= target if higher else value <= target
