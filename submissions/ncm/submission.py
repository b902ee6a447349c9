"""Nearest class mean (NCM) on backbone features: Mensink, Verbeek, Perronnin & Csurka 2013,
*Distance-Based Image Classification: Generalizing to New Classes at Near-Zero Cost*, TPAMI;
with the features trained on the first task and then frozen, as in Panos, Kobe, Fini, Soatto &
Aljundi 2023, *First Session Adaptation: A Strong Replay-Free Baseline for Class-Incremental
Learning*, ICCV.

What trains the features: the backbone (with its linear head, cross-entropy, Adam) learns the
**first task only**, for the epochs the harness gives; then it is frozen (eval mode, no more
updates). Why: a frozen extractor cannot forget, so each class mean stays valid forever, and the
first task gives it features adapted to the domain, which a random network lacks.
`train_first_task = false` instead keeps the backbone at its random initialization (a fixed
random-feature NCM: no training at all).

The classifier keeps, per class c, the running sum and count of the (L2-normalized, by
default) features of its training samples, so μ_c = sum_c / count_c is the exact mean over every
training sample of the class; no sample is stored. `predict` returns −‖φ(x) − μ_c‖² as the logit
of class c, and a large negative finite logit for classes not seen yet.

Choices:

- **Each sample counted once:** means are accumulated over the first epoch of tasks after the
  first; later epochs are drawn from the harness's iterator but unused (the features are fixed).
  On the first task, the features change while training, so the last epoch's samples are copied
  while training and their features taken with the final, frozen backbone (held only inside
  `learn`).
- **Normalized features** (`normalize = true`, as iCaRL's nearest-mean-of-exemplars and FSA's
  cosine classifier do); `normalize = false` uses raw features.
- **Domain-incremental:** classes are the within-task labels, pooled over tasks.

Hyperparameters: `lr` (Adam learning rate for the first task, default 1e-3),
`train_first_task` (default true), `normalize` (default true).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from harness.api import ContinualLearner, HParams, LearnerContext, TaskData, TaskInfo

DEFAULT_LR = 1e-3
UNSEEN_LOGIT = -1e9  # large, finite: the harness rejects non-finite logits
EMBED_BATCH = 256


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


class Learner(ContinualLearner):
    def __init__(self, ctx: LearnerContext, hparams: HParams):
        super().__init__(ctx, hparams)
        self.model = ctx.make_backbone().to(ctx.device)
        self.lr = float(hparams.get("lr", DEFAULT_LR))
        self.train_first_task = _flag(hparams.get("train_first_task"), True)
        self.normalize = _flag(hparams.get("normalize"), True)
        self.frozen = not self.train_first_task
        if self.frozen:
            self.freeze()
        self.sums: torch.Tensor | None = None  # (num_outputs, feature_dim)
        self.counts = torch.zeros(ctx.num_outputs, device=ctx.device)

    def freeze(self) -> None:
        self.model.eval()
        self.model.requires_grad_(False)
        self.frozen = True

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        with torch.no_grad():
            feats = torch.cat([self.model.features(x[i:i + EMBED_BATCH])
                               for i in range(0, len(x), EMBED_BATCH)])
        return F.normalize(feats, dim=1) if self.normalize else feats

    def accumulate(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Add the features of (x, y) to the per-class running sums and counts."""
        feats = self.embed(x)
        if self.sums is None:
            self.sums = torch.zeros(self.ctx.num_outputs, feats.shape[1], device=feats.device)
        self.sums.index_add_(0, y, feats)
        self.counts.index_add_(0, y, torch.ones_like(y, dtype=self.counts.dtype))

    def learn(self, task: TaskInfo, data: TaskData) -> None:
        if not self.frozen:
            self.learn_features_then_freeze(data)
            return
        num_offered = 0
        for x, y in data:  # features are fixed: each sample counted once (first epoch)
            new = max(0, min(len(x), data.num_samples - num_offered))
            if new:
                self.accumulate(x[:new], y[:new])
                num_offered += new

    def learn_features_then_freeze(self, data: TaskData) -> None:
        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        last_epoch_start = (data.num_epochs - 1) * data.num_samples
        kept_x, kept_y, num_seen = [], [], 0
        self.model.train()
        for x, y in data:
            if num_seen >= last_epoch_start:
                kept_x.append(x.detach().clone())
                kept_y.append(y.clone())
            num_seen += len(x)
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(self.model(x), y).backward()
            optimizer.step()
        self.freeze()
        if kept_x:
            self.accumulate(torch.cat(kept_x), torch.cat(kept_y))

    def class_means(self) -> torch.Tensor | None:
        if self.sums is None:
            return None
        return self.sums / self.counts.clamp_min(1).unsqueeze(1)

    def predict(self, x: torch.Tensor, task: int | None = None) -> torch.Tensor:
        means = self.class_means()
        if means is None:
            return torch.zeros(len(x), self.ctx.num_outputs, device=x.device)
        feats = self.embed(x)
        distances = torch.cdist(feats, means) ** 2
        return (-distances).masked_fill(self.counts == 0, UNSEEN_LOGIT)

    def state_size_bytes(self) -> int:
        size = self.counts.numel() * self.counts.element_size()
        if self.sums is not None:
            size += self.sums.numel() * self.sums.element_size()
        return size
