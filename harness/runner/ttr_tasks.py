"""Worker side of each time-to-result workload kind: data on the device, model, loss, evaluation.

A `Task` holds the training arrays (indexed together by one batch permutation), how an indexed
slice becomes the submission's `Batch`, the training loss, and `evaluate(model)`, which returns
one output per validation example (see `harness.metrics.validation` for what they are and who
computes the metric).

Batches by kind: classification `(images, labels)`; language-model `(tokens, next_tokens)`;
click-through `(dense, categorical, clicks)`; reconstruction `(images,)`. Images are
standardized per channel for classification and scaled to [0, 1] for reconstruction (the
autoencoder's sigmoid output and SSIM's data range).

Every loss is a closure made by `_named_loss`, so its name says nothing about the workload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from harness.api import Batch
from harness.data.batches import Normalizer
from harness.errors import SubmissionFailure
from harness.metrics.ssim import ssim_per_image
from harness.ttr_kinds import WorkloadKind


@dataclass(frozen=True)
class Task:
    train: tuple[Tensor, ...]
    to_batch: Callable[[tuple[Tensor, ...]], Batch]
    loss: Callable[[nn.Module, Batch], Tensor]
    evaluate: Callable[[nn.Module, int, int], np.ndarray]  # (model, batch size, step)


def _named_loss(fn: Callable[[nn.Module, Batch], Tensor]) -> Callable[[nn.Module, Batch], Tensor]:
    def loss(model: nn.Module, batch: Batch) -> Tensor:
        return fn(model, batch)
    return loss


class Diverged(SubmissionFailure):
    """The model's outputs became non-finite: the run ends there; its earlier evaluations
    stand (a time to target met before it counts, as in AlgoPerf)."""


def _check_finite(values: Tensor, step: int) -> None:
    if not torch.isfinite(values).all():
        raise Diverged(f"the model's outputs became non-finite by step {step}; "
                       "the training algorithm diverged")


def _chunked(model: nn.Module, count: int, batch_size: int,
             one: Callable[[slice], Tensor]) -> np.ndarray:
    """`one(rows)` over the validation set in chunks, in eval mode, without autograd."""
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        out = [one(slice(s, s + batch_size)).cpu() for s in range(0, count, batch_size)]
    model.train(was_training)
    return torch.cat(out).numpy()


def load_task(job: dict[str, Any], device: torch.device) -> Task:
    kind = WorkloadKind(job["workload"].get("kind", WorkloadKind.CLASSIFICATION.value))
    loader = {WorkloadKind.CLASSIFICATION: _classification,
              WorkloadKind.LANGUAGE_MODEL: _language_model,
              WorkloadKind.CLICK_THROUGH: _click_through,
              WorkloadKind.RECONSTRUCTION: _reconstruction}[kind]
    return loader(job, device)


def _classification(job: dict[str, Any], device: torch.device) -> Task:
    w = job["workload"]
    normalize = Normalizer(w["mean"], w["std"], device)
    images = normalize(torch.from_numpy(np.load(job["train_images"])).to(device))
    labels = torch.from_numpy(np.load(job["train_labels"])).to(device)
    eval_inputs = normalize(torch.from_numpy(np.load(job["eval_inputs"])).to(device))

    def evaluate(model: nn.Module, batch_size: int, step: int) -> np.ndarray:
        def one(rows: slice) -> Tensor:
            logits = model(eval_inputs[rows])
            _check_finite(logits, step)
            return logits.argmax(dim=1)
        return _chunked(model, len(eval_inputs), batch_size, one).astype(np.int16)

    return Task((images, labels), lambda t: t,
                _named_loss(lambda model, b: F.cross_entropy(model(b[0]), b[1])), evaluate)


def _arrays(path: str, device: torch.device) -> dict[str, Tensor]:
    with np.load(path) as data:
        return {k: torch.from_numpy(np.asarray(data[k])).to(device) for k in data.files}


def _language_model(job: dict[str, Any], device: torch.device) -> Task:
    train = _arrays(job["train_tasks"], device)["tokens"].long()
    held = _arrays(job["eval_inputs"], device)["tokens"].long()

    def lm_loss(model: nn.Module, batch: Batch) -> Tensor:
        logits = model(batch[0])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[1].reshape(-1))

    def evaluate(model: nn.Module, batch_size: int, step: int) -> np.ndarray:
        def one(rows: slice) -> Tensor:
            seqs = held[rows]
            logits = model(seqs[:, :-1])
            _check_finite(logits, step)
            nll = F.cross_entropy(logits.transpose(1, 2), seqs[:, 1:], reduction="none")
            return nll.mean(dim=1)
        return _chunked(model, len(held), batch_size, one).astype(np.float32)

    return Task((train,), lambda t: (t[0][:, :-1], t[0][:, 1:]), _named_loss(lm_loss),
                evaluate)


def _click_through(job: dict[str, Any], device: torch.device) -> Task:
    train = _arrays(job["train_tasks"], device)
    held = _arrays(job["eval_inputs"], device)
    tensors = (train["dense"].float(), train["categorical"].long(), train["clicks"].float())
    dense, categorical = held["dense"].float(), held["categorical"].long()

    def ctr_loss(model: nn.Module, batch: Batch) -> Tensor:
        return F.binary_cross_entropy_with_logits(model(batch[0], batch[1]), batch[2])

    def evaluate(model: nn.Module, batch_size: int, step: int) -> np.ndarray:
        def one(rows: slice) -> Tensor:
            logits = model(dense[rows], categorical[rows])
            _check_finite(logits, step)
            return torch.sigmoid(logits)
        return _chunked(model, len(dense), batch_size, one).astype(np.float32)

    return Task(tensors, lambda t: t, _named_loss(ctr_loss), evaluate)


def _reconstruction(job: dict[str, Any], device: torch.device) -> Task:
    scale = 1.0 / 255.0
    images = torch.from_numpy(np.load(job["train_tasks"])).to(device).float() * scale
    held = torch.from_numpy(np.load(job["eval_inputs"])).to(device).float() * scale
    metric = job["workload"].get("metric", "ssim")

    def reconstruction_loss(model: nn.Module, batch: Batch) -> Tensor:
        return F.mse_loss(model(batch[0]), batch[0])

    def evaluate(model: nn.Module, batch_size: int, step: int) -> np.ndarray:
        def one(rows: slice) -> Tensor:
            x = held[rows]
            out = model(x)
            _check_finite(out, step)
            if metric == "ssim":
                return ssim_per_image(out.clamp(0, 1), x)
            return ((out - x) ** 2).flatten(1).mean(dim=1)
        return _chunked(model, len(held), batch_size, one).astype(np.float32)

    return Task((images,), lambda t: t, _named_loss(reconstruction_loss), evaluate)
