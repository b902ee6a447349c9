"""Getting a run close to the hardware: memory format, compilation, mixed precision, copies.

The workers apply these as a suite's `[performance]` table says (`harness.performance_options`);
each is a no-op unless the table turns it on, so a run's numbers change only when its
configuration says so. What each buys:

- **channels_last** (`prepare_model`): convolutions on tensor cores (and oneDNN on CPU) want
  NHWC; with NCHW weights every conv pays a layout transform. A convolution whose weight is
  channels_last computes and returns channels_last whatever its input's layout, so the workers
  convert the network only: batches stay NCHW, and the first convolution converts its input
  once. (airbench converts the data too; here random cropping returns NCHW batches anyway, and
  one layout for every batch, cropped or not, keeps compiled graphs from recompiling.)
- **torch.compile** (`prepare_model`): fuses the many small elementwise kernels of a small
  network, whose launch overhead dominates a GPU step (airbench94: 3.83 s → 3.29 s). Compiling
  takes seconds to a minute, so it is done and timed *before* the clock of the run starts and
  reported as `compile_time_s` beside the result, never inside time-to-result.
- **bf16 autocast** (`autocast`): matmuls and convolutions in bfloat16 roughly double tensor-core
  throughput; bf16 has float32's exponent range, so unlike float16 it needs no loss scaling and
  can be imposed without the learner's cooperation: the workers enter it around the
  submission's calls (`learn`, `predict`; `select_batch`, `step`, `prepare_for_eval`).
- **pinned, non-blocking copies** (`to_device_pinned`): a copy from pageable host memory goes
  through a driver staging buffer at a fraction of the bus bandwidth and blocks the host; from
  page-locked memory it runs at full bandwidth and overlaps with host work.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from harness.performance_options import PerformanceOptions

# What `autocast` accepts: None and "float32" mean full precision.
AUTOCAST_DTYPES = {"float32": None, "bfloat16": torch.bfloat16}


def prepare_model(model: nn.Module, *, channels_last: bool, compile: bool,
                  example_input: torch.Tensor | tuple[torch.Tensor, ...] | None = None,
                  backend: str | Callable = "inductor") -> tuple[nn.Module, float]:
    """`model` in channels_last and/or compiled; returns it with the seconds compilation took.

    Compilation is in place (`nn.Module.compile`), so the module keeps its class, attributes
    and `state_dict` keys (a wrapper would prefix them with ``_orig_mod.``). torch.compile is
    lazy: the graphs are built on the first call. With `example_input` (one training batch
    exactly as the learner will receive it: device, dtype and memory format, since the graphs
    are specialized on them; a tuple for a model called with several inputs) this function
    makes those first calls itself — a training-mode forward and backward and an
    inference-mode forward, under whatever autocast the caller has entered, with the batch
    dimension hinted dynamic so a short last batch or another evaluation batch size does not
    recompile — and restores the parameters' gradients, the buffers (e.g. BatchNorm
    statistics) and the RNG afterwards, so the learner starts from the same state as without
    it. `compile_time_s` is then the cost the run would otherwise have paid inside its clock.
    Graphs for other entry points (e.g. a learner's `features`) still compile lazily, inside
    training time. Copies made with `copy.deepcopy` run eagerly. `model` must be of a class
    defined outside torch (every harness backbone is): torch 2.13's in-place compile silently
    leaves torch's own classes, such as a bare `nn.Sequential`, uncompiled.

    `backend` is torch.compile's ("inductor" generates kernels; "aot_eager" or a callable
    trace without code generation, for tests). Raises RuntimeError if torch.compile is
    unavailable.
    """
    if channels_last:
        # Only 4-d parameters and buffers (conv weights) change layout; the rest is untouched.
        model = model.to(memory_format=torch.channels_last)
    if not compile:
        return model, 0.0
    if not hasattr(torch, "compile") or not torch._dynamo.is_dynamo_supported():
        raise RuntimeError("torch.compile is not available with this torch build/Python")
    start = time.perf_counter()
    model.compile(backend=backend)
    if example_input is not None:
        _warm_up(model, example_input)
    first = example_input[0] if isinstance(example_input, tuple) else example_input
    if first is not None and first.device.type == "cuda":
        torch.cuda.synchronize(first.device)
    return model, time.perf_counter() - start


def _warm_up(model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...]) -> None:
    """Trigger compilation of the training and inference graphs; leave no trace in `model`."""
    inputs = _dynamic_batch(example if isinstance(example, tuple) else (example,))
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    grads = {p: p.grad for p in model.parameters()}
    was_training = model.training
    device = inputs[0].device
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        model.train()
        model(*inputs).float().sum().backward()
        model.eval()
        with torch.inference_mode():  # as the worker predicts: inputs made in inference mode
            model(*_dynamic_batch(inputs))
    model.train(was_training)
    with torch.no_grad():
        for name, b in model.named_buffers():
            b.copy_(buffers[name])
    for p, grad in grads.items():
        p.grad = grad


class PreparedFactory:
    """A model factory whose models come out with a suite's options applied (`prepare_model`).

    The continual worker hands this to the learner as `ctx.make_backbone`. Without
    channels_last and compile it returns `make()` untouched. Otherwise each call builds a fresh
    model, moves it to `device` (compiled graphs are specialized on the device they warm up
    on) and prepares it under the autocast the learner's calls run in (the graphs are
    specialized on that too), warming up on `example_input`. `compile_time_s` sums every
    call's compilation, so the worker reports it apart and subtracts what a call made inside a
    clock cost (GDumb, for one, rebuilds its network at every task).
    """

    def __init__(self, make: Callable[[], nn.Module], options: PerformanceOptions,
                 device: torch.device, example_input: torch.Tensor):
        self.make, self.options, self.device = make, options, device
        self.example_input = example_input
        self.compile_time_s = 0.0

    def __call__(self) -> nn.Module:
        if not self.options.prepares_model:
            return self.make()
        with autocast(self.device, self.options.autocast):
            model, seconds = prepare_model(
                self.make().to(self.device), channels_last=self.options.channels_last,
                compile=self.options.compile, example_input=self.example_input,
                backend=self.options.compile_backend)
        self.compile_time_s += seconds
        return model


def _dynamic_batch(inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Fresh copies of `inputs` whose batch dimension Dynamo treats as dynamic (the mark
    belongs to a tensor object, so each graph's example needs its own)."""
    copies = tuple(x.detach().clone() for x in inputs)
    for x in copies:
        # A hint, not a constraint: a model that needs a fixed batch size still compiles.
        torch._dynamo.maybe_mark_dynamic(x, 0)
    return copies


@contextlib.contextmanager
def autocast(device: torch.device | str, dtype: str | None) -> Iterator[None]:
    """Mixed precision for the enclosed code when `dtype` is "bfloat16"; otherwise a no-op.

    bf16 on "cuda" and "cpu" (torch's autocast for both); on any other device, or with
    `dtype` None or "float32", the code runs in full precision. An unknown `dtype` raises
    ValueError (the suite loader should have rejected it).
    """
    if dtype is not None and dtype not in AUTOCAST_DTYPES:
        raise ValueError(f'unknown autocast dtype "{dtype}"; use one of '
                         f"{', '.join(AUTOCAST_DTYPES)} or None")
    device_type = torch.device(device).type
    torch_dtype = AUTOCAST_DTYPES.get(dtype) if dtype is not None else None
    if torch_dtype is None or device_type not in ("cuda", "cpu"):
        yield
        return
    with torch.autocast(device_type=device_type, dtype=torch_dtype):
        yield


def to_device_pinned(array: np.ndarray | torch.Tensor, device: torch.device | str
                     ) -> torch.Tensor:
    """`array` as a tensor on `device`: via page-locked memory and asynchronously on CUDA.

    On CUDA the host data is copied once into pinned memory (straight from a read-only memory
    map too) and sent with `non_blocking=True`; the caching host allocator keeps the pinned
    buffer alive until the copy is done, and work queued on the current stream sees the data,
    so callers need no synchronization. Elsewhere it is a plain copy (no pinning: it costs a
    host copy and buys nothing without a DMA engine). A read-only numpy array is copied rather
    than shared, so the tensor never aliases memory it may not write.
    """
    device = torch.device(device)
    if device.type != "cuda":
        if isinstance(array, torch.Tensor):
            return array.to(device)
        if not array.flags.writeable:
            array = np.array(array)
        return torch.from_numpy(np.ascontiguousarray(array)).to(device)
    if isinstance(array, torch.Tensor):
        pinned = array if array.is_pinned() else array.pin_memory()
    else:
        dtype = torch.from_numpy(np.empty(0, array.dtype)).dtype
        pinned = torch.empty(array.shape, dtype=dtype, pin_memory=True)
        pinned.numpy()[...] = array  # one host copy, directly into page-locked memory
    return pinned.to(device, non_blocking=True)


def to_device(array: np.ndarray, device: torch.device, *, pin_memory: bool) -> torch.Tensor:
    """`array` as a tensor on `device`, through page-locked memory when the suite asks for it
    (`to_device_pinned`). A read-only array (a slice of a memory map) is copied, never aliased:
    a CPU tensor would otherwise share memory that no one may write."""
    if pin_memory:
        return to_device_pinned(array, device)
    if not array.flags.writeable:
        array = np.array(array)
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)
