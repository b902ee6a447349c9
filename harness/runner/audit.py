"""The state audit: how many bytes a learner keeps beyond its live network.

Replay methods are compared at a fixed memory (*Three scenarios for continual learning*; the
replay allowance of DESIGN §3.1). A learner's own `state_size_bytes()` is only informational:
the audit *measures* every tensor reachable from the learner object — buffers, stored models,
Fisher matrices, optimizer moments — counting each storage once, and subtracts one copy of the
live network (the largest module it holds). Tensors hidden outside the learner object (module
globals, closures) escape this measurement; the sandbox of the hardening work covers those.
"""

from __future__ import annotations

import array
import collections
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.utils.data
from torch import nn


def allowed_state_bytes(replay_samples: int, input_shape: tuple[int, ...], num_outputs: int,
                        num_parameters: int, model_copies: int) -> int:
    """The budget: `replay_samples` stored samples (float32 input, int64 label, float32 logits)
    plus `model_copies` float32 copies of the network's parameters."""
    sample_bytes = 4 * math.prod(input_shape) + 8 + 4 * num_outputs
    return replay_samples * sample_bytes + model_copies * 4 * num_parameters


def measure_state_bytes(learner: Any, network_bytes: int | None = None) -> int:
    """Bytes of distinct buffers reachable from `learner` (tensor storages, NumPy buffers,
    bytes), minus its live network: the largest module it holds, counted at most as
    `network_bytes` (a fresh backbone's parameters and buffers), so samples registered as
    buffers or extra parameters on the network are not taken for the network.

    The walk has no depth limit (a replay buffer may be a linked list, or nested many levels
    down) and visits each object once; it descends into mappings, sequences, sets, deques,
    object arrays, and the attributes and slots of user classes.
    """
    buffers, modules = _walk(learner)
    total = sum(buffers.values())
    if modules:
        live = _module_bytes(max(modules, key=_module_bytes))
        total -= live if network_bytes is None else min(live, network_bytes)
    return max(total, 0)


def reachable_modules(learner: Any) -> list[nn.Module]:
    """Every network module reachable from `learner` (attributes, containers, helper objects),
    each once, parents before their children."""
    _, found = _walk(learner)
    inner = {id(child) for module in found for child in list(module.modules())[1:]}
    ordered: dict[int, nn.Module] = {}
    for root in (m for m in found if id(m) not in inner):
        for module in root.modules():
            ordered.setdefault(id(module), module)
    return list(ordered.values())


def _walk(learner: Any) -> tuple[dict[int, int], list[nn.Module]]:
    buffers: dict[int, int] = {}  # address (or id, for bytes) -> bytes; shared memory once
    modules: list[nn.Module] = []
    visited: set[int] = set()
    stack: list[Any] = [vars(learner)]
    while stack:
        obj = stack.pop()
        if id(obj) not in visited:
            visited.add(id(obj))
            stack.extend(_children(obj, buffers, modules))
    return buffers, modules


def network_bytes(module: nn.Module) -> int:
    """Bytes of a network's parameters and buffers (the allowance of the live network)."""
    return _module_bytes(module)


def _module_bytes(module: nn.Module) -> int:
    tensors = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
               for t in [*module.parameters(), *module.buffers()]}
    return sum(tensors.values())


def _children(obj: Any, buffers: dict[int, int], modules: list[nn.Module]) -> Iterable[Any]:
    """Record `obj`'s own memory in `buffers`; return the objects it holds."""
    if isinstance(obj, torch.Tensor):
        storage = obj.untyped_storage()
        buffers[storage.data_ptr()] = storage.nbytes()
        return ()
    if isinstance(obj, np.ndarray):
        base = obj
        while isinstance(base.base, np.ndarray):
            base = base.base
        buffers[base.__array_interface__["data"][0]] = base.nbytes
        return obj.ravel().tolist() if obj.dtype == object else ()
    if isinstance(obj, str | int | float | complex | bool | type(None) | type | range):
        return ()  # (a range is a Collection of maybe billions of ints it does not hold)
    if isinstance(obj, bytes | bytearray | memoryview | array.array):  # the buffer protocol
        buffers[id(obj)] = memoryview(obj).nbytes
        return ()
    if isinstance(obj, nn.Module):
        modules.append(obj)
        return [*obj.parameters(), *obj.buffers(), vars(obj)]
    if isinstance(obj, torch.optim.Optimizer):
        return [obj.state]
    if isinstance(obj, torch.utils.data.Dataset) and hasattr(obj, "__dict__"):
        return [vars(obj)]  # TensorDataset, Subset, ConcatDataset: a buffer in torch's clothes
    held: list[Any] = []
    # The built-in containers (and their subclasses) hold what they yield; any other class is
    # walked through its attributes, never its iteration, which may yield copies or ids while
    # the data sits in its attributes.
    if isinstance(obj, dict):
        held = [*obj.keys(), *obj.values()]
    elif isinstance(obj, list | tuple | set | frozenset | collections.deque):
        held = list(obj)
    if _is_plain(obj):
        held += list(vars(obj).values()) if hasattr(obj, "__dict__") else []
        held += [getattr(obj, name) for name in _slots(type(obj)) if hasattr(obj, name)]
    return held


def _slots(cls: type) -> list[str]:
    return [name for klass in cls.__mro__
            for name in ([klass.__dict__["__slots__"]] if isinstance(
                klass.__dict__.get("__slots__"), str) else klass.__dict__.get("__slots__", ()))
            if name not in ("__dict__", "__weakref__")]


def _is_plain(obj: Any) -> bool:
    """Objects worth descending into: user classes, not modules of the standard library."""
    module = type(obj).__module__ or ""
    return not module.startswith(("torch", "builtins", "numpy", "harness.api"))
