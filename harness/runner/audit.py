"""The state audit: how many bytes a learner keeps beyond its live network.

Replay methods are compared at a fixed memory (*Three scenarios for continual learning*; the
replay allowance of DESIGN §3.1). A learner's own `state_size_bytes()` is only informational:
the audit *measures* every tensor reachable from the learner object — buffers, stored models,
Fisher matrices, optimizer moments — counting each storage once, and subtracts one copy of the
live network (the largest module it holds). Tensors hidden outside the learner object (module
globals, closures) escape this measurement; the sandbox of the hardening work covers those.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

_MAX_DEPTH = 8


def allowed_state_bytes(replay_samples: int, input_shape: tuple[int, ...], num_outputs: int,
                        num_parameters: int, model_copies: int) -> int:
    """The budget: `replay_samples` stored samples (float32 input, int64 label, float32 logits)
    plus `model_copies` float32 copies of the network's parameters."""
    sample_bytes = 4 * math.prod(input_shape) + 8 + 4 * num_outputs
    return replay_samples * sample_bytes + model_copies * 4 * num_parameters


def measure_state_bytes(learner: Any) -> int:
    """Bytes of distinct tensor storage reachable from `learner`, minus its live network."""
    seen_storages: dict[int, int] = {}
    modules: list[nn.Module] = []
    _walk(vars(learner), seen_storages, modules, set(), depth=0)
    total = sum(seen_storages.values())
    if modules:
        live = max(modules, key=_module_bytes)
        total -= _module_bytes(live)
    return max(total, 0)


def _module_bytes(module: nn.Module) -> int:
    tensors = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
               for t in [*module.parameters(), *module.buffers()]}
    return sum(tensors.values())


def _walk(obj: Any, storages: dict[int, int], modules: list, visited: set[int],
          depth: int) -> None:
    if depth > _MAX_DEPTH or id(obj) in visited:
        return
    visited.add(id(obj))
    if isinstance(obj, torch.Tensor):
        storage = obj.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return
    if isinstance(obj, nn.Module):
        modules.append(obj)
        for tensor in [*obj.parameters(), *obj.buffers()]:
            _walk(tensor, storages, modules, visited, depth + 1)
        _walk(vars(obj), storages, modules, visited, depth + 1)
        return
    if isinstance(obj, torch.optim.Optimizer):
        _walk(obj.state, storages, modules, visited, depth + 1)
        return
    if isinstance(obj, dict):
        for value in obj.values():
            _walk(value, storages, modules, visited, depth + 1)
    elif isinstance(obj, list | tuple | set | frozenset):
        for value in obj:
            _walk(value, storages, modules, visited, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type) and _is_plain(obj):
        _walk(vars(obj), storages, modules, visited, depth + 1)


def _is_plain(obj: Any) -> bool:
    """Objects worth descending into: user classes, not modules of the standard library."""
    module = type(obj).__module__ or ""
    return not module.startswith(("torch", "builtins", "numpy", "harness.api"))
