"""Click logs for the click-through-rate workloads: synthetic ones with a planted model, and
Criteo-format ones from Hugging Face.

`PlantedClickModel` is a ground-truth click model with the structure DLRM is built to learn
(fixed by `seed`): a base rate, a linear term in the dense features, a bias per category value
of every field, and pairwise interactions of low-rank category embeddings between fields.
Category values are Zipf-distributed (exponent 1.05), as in real logs. `sample` draws a split
with its own seed; clicks are Bernoulli(sigmoid(logit)), so the Bayes log loss (the mean binary
entropy of the true probabilities, `bayes_log_loss`) is the floor any model can reach.

`criteo_logs` reads a Criteo-format table (a label column, 13 integer columns I1..I13, 26 hashed
categorical columns C1..C26; e.g. `reczoo/Criteo_x1`) through `datasets`: integer features
become log(1 + max(x, 0)) (DLRM's transform; missing = 0), categorical values are hashed
(crc32 of "column=value", stable across processes, unlike Python's `hash`) into
`hash_buckets - 1` buckets, bucket 0 being "missing".
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.hub_split import load_split
from harness.errors import UserError

CRITEO_DENSE = tuple(f"I{i}" for i in range(1, 14))
CRITEO_CATEGORICAL = tuple(f"C{i}" for i in range(1, 27))


@dataclass(frozen=True)
class ClickLogs:
    dense: np.ndarray          # float32 (N, D)
    categorical: np.ndarray    # int64 (N, F), value ids per field
    clicks: np.ndarray         # uint8 (N,)
    cardinalities: tuple[int, ...]


class PlantedClickModel:
    def __init__(self, seed: int, num_dense: int = 4,
                 cardinalities: Sequence[int] = (40, 30, 20, 10), rank: int = 3,
                 base_rate_logit: float = -1.2):
        rng = np.random.default_rng(seed)
        self.cardinalities = tuple(int(c) for c in cardinalities)
        self.base = base_rate_logit
        self.weights = rng.normal(0, 0.6, num_dense)
        self.biases = [rng.normal(0, 0.8, c) for c in self.cardinalities]
        self.factors = [rng.normal(0, 0.6, (c, rank)) for c in self.cardinalities]
        self.popularity = [(1.0 / np.arange(1, c + 1) ** 1.05) for c in self.cardinalities]
        self.popularity = [p / p.sum() for p in self.popularity]

    def logits(self, dense: np.ndarray, categorical: np.ndarray) -> np.ndarray:
        out = self.base + dense @ self.weights
        for f, (bias, factor) in enumerate(zip(self.biases, self.factors, strict=True)):
            out = out + bias[categorical[:, f]]
            for g in range(f + 1, len(self.factors)):
                out = out + np.sum(factor[categorical[:, f]] *
                                   self.factors[g][categorical[:, g]], axis=1)
        return out

    def sample(self, sample_seed: int, num_samples: int) -> ClickLogs:
        rng = np.random.default_rng(sample_seed)
        dense = rng.normal(0, 1, (num_samples, len(self.weights))).astype(np.float32)
        categorical = np.stack([rng.choice(len(p), size=num_samples, p=p)
                                for p in self.popularity], axis=1).astype(np.int64)
        probability = 1 / (1 + np.exp(-self.logits(dense, categorical)))
        clicks = (rng.random(num_samples) < probability).astype(np.uint8)
        return ClickLogs(dense, categorical, clicks, self.cardinalities)

    def bayes_log_loss(self, logs: ClickLogs) -> float:
        p = np.clip(1 / (1 + np.exp(-self.logits(logs.dense, logs.categorical))), 1e-12,
                    1 - 1e-12)
        return float(-np.mean(p * np.log(p) + (1 - p) * np.log(1 - p)))


def _bucket(column: str, value: Any, buckets: int) -> int:
    if value is None or value == "":
        return 0
    return 1 + zlib.crc32(f"{column}={value}".encode()) % (buckets - 1)


def criteo_logs(path: str, split: str, *, config: str | None = None,
                data_files: dict[str, Any] | None = None, cache_dir: Path | None = None,
                label_column: str = "label", dense_columns: Sequence[str] = CRITEO_DENSE,
                categorical_columns: Sequence[str] = CRITEO_CATEGORICAL,
                hash_buckets: int = 10_000, **builder_options: Any) -> ClickLogs:
    """One split of a Criteo-format click log as `ClickLogs`."""
    table = load_split(path, split, config=config, data_files=data_files, cache_dir=cache_dir,
                       **builder_options)
    wanted = [label_column, *dense_columns, *categorical_columns]
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise UserError(f"{path} split {split!r} lacks columns {', '.join(missing)}; columns: "
                        f"{', '.join(table.column_names[:50])} (set dataset_options.*_column(s))")
    dense = np.zeros((len(table), len(dense_columns)), dtype=np.float32)
    for j, column in enumerate(dense_columns):
        values = np.array([np.nan if v is None or v == "" else float(v) for v in table[column]],
                          dtype=np.float64)
        dense[:, j] = np.log1p(np.maximum(np.nan_to_num(values, nan=0.0), 0.0))
    categorical = np.array([[_bucket(c, v, hash_buckets) for v in table[c]]
                            for c in categorical_columns], dtype=np.int64).T
    clicks = np.asarray(table[label_column], dtype=np.float64)
    if not np.isin(clicks, (0, 1)).all():
        raise UserError(f"{path}: column {label_column!r} must hold 0/1 click labels")
    return ClickLogs(dense, categorical.reshape(len(table), len(categorical_columns)),
                     clicks.astype(np.uint8), (hash_buckets,) * len(categorical_columns))
