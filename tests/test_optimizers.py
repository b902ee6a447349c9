"""The training-algorithm baselines (submissions/<optimizer>) on a tiny workload defined here:
they train through the TrainingAlgorithm contract, their schedules and update rules are the
published ones, their folders validate, and the WorkloadHandle gives away no workload name."""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from harness.api import TrainingAlgorithm, WorkloadHandle
from harness.search_space import load_search_space
from harness.submission import validate_submission
from harness.submission_check import import_submission_module

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
SECRET_NAME = "wmt-transformer-heldout-variant"
STEP_HINT = 100
BATCH_SIZE = 32

# One setting per baseline, inside its search space (checked below), that trains the tiny
# workload: small models take larger steps than AlgoPerf's defaults for large ones.
HPARAMS: dict[str, dict[str, float | int]] = {
    "_template_optimizer": {"learning_rate": 0.1},
    "sgd-nesterov": {"learning_rate": 0.1, "one_minus_beta1": 0.1, "weight_decay": 1e-6,
                     "warmup_factor": 0.05, "decay_steps_factor": 0.9, "end_factor": 1e-2},
    "heavy-ball": {"learning_rate": 0.1, "one_minus_beta1": 0.1, "weight_decay": 1e-6,
                   "warmup_factor": 0.05, "decay_steps_factor": 0.9, "end_factor": 1e-2},
    "adamw": {"learning_rate": 1e-2, "one_minus_beta1": 0.1, "beta2": 0.999,
              "weight_decay": 1e-2, "warmup_factor": 0.05},
    "nadamw": {"learning_rate": 1e-2, "one_minus_beta1": 0.1, "beta2": 0.999,
               "weight_decay": 1e-2, "warmup_factor": 0.05},
    "adamw-wsd": {"learning_rate": 1e-2, "one_minus_beta1": 0.1, "beta2": 0.999,
                  "weight_decay": 1e-2, "warmup_factor": 0.05, "cooldown_fraction": 0.2},
    "lion": {"learning_rate": 3e-3, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.1,
             "warmup_factor": 0.05},
}
NAMES = sorted(HPARAMS)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; more only contend on a busy test machine."""
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


def module_of(name: str):
    return import_submission_module(SUBMISSIONS / name)


def make_algorithm(name: str, **overrides: float | int) -> TrainingAlgorithm:
    hparams = {**HPARAMS[name], "batch_size": BATCH_SIZE, **overrides}
    return module_of(name).Algorithm(hparams)


def build_workload(name: str, step_hint: int = STEP_HINT, seed: int = 0):
    """A tiny regression workload: (handle, model, inputs, targets).

    `name` picks the data, as a suite's workload id would, but nothing the handle reaches
    holds it: the loss is a closure defined here, in a function with a neutral name, that
    captures no name. Harness workloads must build their losses the same way.
    """
    data = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    inputs = torch.randn(512, 8, generator=data)
    weights = torch.randn(8, 1, generator=data)
    targets = torch.tanh(inputs @ weights) + 0.05 * torch.randn(512, 1, generator=data)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))

    def loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        batch_inputs, batch_targets = batch
        return F.mse_loss(model(batch_inputs), batch_targets)

    handle = WorkloadHandle(
        loss=loss, param_shapes={n: tuple(p.shape) for n, p in model.named_parameters()},
        step_hint=step_hint, max_runtime_s=60.0, device=torch.device("cpu"),
        generator=torch.Generator().manual_seed(seed))
    return handle, model, inputs, targets


def batches(inputs: torch.Tensor, targets: torch.Tensor, batch_size: int,
            seed: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    while True:
        index = torch.randint(0, len(inputs), (batch_size,), generator=generator)
        yield inputs[index], targets[index]


def full_loss(handle: WorkloadHandle, model: nn.Module, inputs, targets) -> float:
    with torch.no_grad():
        return float(handle.loss(model, (inputs, targets)))


@pytest.mark.parametrize("name", NAMES)
def test_baseline_trains_the_tiny_workload(name):
    handle, model, inputs, targets = build_workload("tiny-regression")
    algorithm = make_algorithm(name)
    batch_size = algorithm.batch_size(handle)  # untimed
    algorithm.init(handle, model)  # untimed
    before = full_loss(handle, model, inputs, targets)
    stream = batches(inputs, targets, batch_size)
    for step_index in range(STEP_HINT):  # timed, in the harness
        batch = algorithm.select_batch(next(stream), step_index)
        algorithm.step(batch, step_index)
    algorithm.prepare_for_eval()
    after = full_loss(handle, model, inputs, targets)
    assert batch_size == BATCH_SIZE
    assert math.isfinite(after) and after < 0.25 * before, (before, after)


@pytest.mark.parametrize("name", NAMES)
def test_test_settings_lie_in_the_search_space_and_every_sample_is_accepted(name):
    space = load_search_space(SUBMISSIONS / name / "search_space.json")
    by_name = {p.name: p for p in space.params}
    assert set(HPARAMS[name]) == set(by_name)
    for key, value in HPARAMS[name].items():
        param = by_name[key]
        if param.is_range:
            assert param.low <= value <= param.high, key
        else:
            assert value in param.feasible_points, key
    for setting in space.sample(8, seed=0):
        module_of(name).Algorithm(setting)  # every search-space key is a known setting


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameters_are_refused(name):
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        module_of(name).Algorithm({"learning_rat": 0.1})


def test_nadamw_schedule_is_linear_warmup_then_cosine_over_the_step_hint():
    handle, model, *_ = build_workload("schedule", step_hint=1000)
    algorithm = make_algorithm("nadamw", learning_rate=0.01, warmup_factor=0.05)
    algorithm.init(handle, model)
    lr = algorithm.learning_rate
    # warmup: int(0.05 * 1000) = 50 steps from 0; cosine over the remaining 950 steps
    assert lr(0) == 0.0 and lr(25) == pytest.approx(0.005) and lr(50) == pytest.approx(0.01)
    assert lr(50 + 475) == pytest.approx(0.005)  # cosine midpoint: half the peak
    assert lr(1000) == pytest.approx(0.0, abs=1e-15) and lr(1500) == lr(1000)  # held at 0
    decay = [lr(t) for t in range(50, 1001)]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False))


def test_wsd_holds_the_peak_then_cools_down_with_one_minus_sqrt():
    handle, model, *_ = build_workload("schedule", step_hint=1000)
    algorithm = make_algorithm("adamw-wsd", learning_rate=0.01)
    algorithm.init(handle, model)
    lr = algorithm.learning_rate
    assert lr(0) == 0.0 and lr(50) == pytest.approx(0.01)
    assert {lr(t) for t in range(50, 800)} == {0.01}  # stable until the last 20 %
    assert lr(900) == pytest.approx(0.01 * (1 - math.sqrt(0.5)))  # halfway through cooldown
    assert lr(1000) == 0.0
    cooldown = [lr(t) for t in range(800, 1001)]
    assert all(a > b for a, b in zip(cooldown, cooldown[1:], strict=False))


def test_sgd_schedule_decays_linearly_to_the_end_factor_and_stays():
    handle, model, *_ = build_workload("schedule", step_hint=1000)
    algorithm = make_algorithm("sgd-nesterov", learning_rate=1.0, end_factor=1e-2)
    algorithm.init(handle, model)
    lr = algorithm.learning_rate
    # warmup 50; decay over int(950 * 0.9) = 855 steps, from 1 to 0.01
    assert lr(0) == 0.0 and lr(50) == pytest.approx(1.0)
    assert lr(50 + 855 // 2) == pytest.approx(1.0 - 0.99 * (427 / 855))
    assert lr(905) == pytest.approx(0.01) and lr(2000) == pytest.approx(0.01)


def test_lion_moves_every_coordinate_by_exactly_the_learning_rate():
    handle, model, inputs, targets = build_workload("lion")
    algorithm = make_algorithm("lion", learning_rate=1e-3, weight_decay=0.0, warmup_factor=0.0)
    algorithm.init(handle, model)
    before = [p.detach().clone() for p in model.parameters()]
    algorithm.step((inputs[:64], targets[:64]), 0)
    for old, new in zip(before, model.parameters(), strict=True):
        torch.testing.assert_close((new - old).abs(), torch.full_like(old, 1e-3),
                                   rtol=0, atol=1e-6)


def test_lion_weight_decay_is_decoupled():
    lion = module_of("lion").Lion
    param = nn.Parameter(torch.tensor([2.0, -2.0]))
    param.grad = torch.tensor([0.5, 0.5])
    lion([param], lr=0.1, weight_decay=0.5).step()
    # theta * (1 - 0.1 * 0.5) - 0.1 * sign(0.1 * 0.5): 2 * 0.95 - 0.1, -2 * 0.95 - 0.1
    torch.testing.assert_close(param.detach(), torch.tensor([1.8, -2.0]))


def test_nadamw_first_step_uses_the_nesterov_look_ahead():
    nadamw = module_of("nadamw").NAdamW
    param = nn.Parameter(torch.tensor([1.0, -1.0]))
    param.grad = torch.tensor([0.3, -2.0])
    nadamw([param], lr=0.01, betas=(0.9, 0.999), weight_decay=0.0).step()
    # m = 0.1 g, v = 0.001 g^2; look-ahead 0.9 m + 0.1 g = 0.19 g; step size 0.01 / 0.1;
    # denominator sqrt(0.001 g^2) / sqrt(0.001) = |g|: update -0.01 * 1.9 * sign(g).
    # (AdamW's first step would be -0.01 * sign(g).)
    torch.testing.assert_close(param.detach(), torch.tensor([1.0 - 0.019, -1.0 + 0.019]))


@pytest.mark.parametrize("name", NAMES)
def test_folder_validates_as_a_training_algorithm(name):
    assert validate_submission(SUBMISSIONS / name) == []


ALLOWED_IMPORTS = {"__future__", "math", "collections.abc", "torch", "torch.nn", "harness.api"}


@pytest.mark.parametrize("name", NAMES)
def test_baseline_imports_only_the_api_torch_and_the_standard_library(name):
    tree = ast.parse((SUBMISSIONS / name / "submission.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert imported <= ALLOWED_IMPORTS


# --- the handle carries no workload name -----------------------------------------------------


def reachable_strings(root: object, max_objects: int = 10_000) -> list[str]:
    """Every string a submission reaches from `root` by ordinary attribute access.

    Follows dataclass fields, containers, functions (names, module, docstring, closure cells,
    defaults, attributes, `__wrapped__`), partials, modules' parameter names and reprs. It
    does not follow a function's `__globals__` (the defining module's namespace, which holds
    everything in it): a workload module's globals are out of reach of this check, so keep
    workload names out of the module that defines a loss, or wrap the loss in a closure
    defined elsewhere.
    """
    seen: set[int] = set()
    strings: list[str] = []
    stack: list[object] = [root]
    while stack and len(seen) < max_objects:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            strings.append(obj)
            continue
        if isinstance(obj, torch.Tensor | int | float | bool | type(None)):
            continue
        strings += [repr(obj), type(obj).__qualname__]
        stack.extend(_children(obj))
    return strings


def _children(obj: object) -> list[object]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, list | tuple | set | frozenset):
        return list(obj)
    if isinstance(obj, functools.partial):
        return [obj.func, obj.args, obj.keywords]
    if callable(obj) and hasattr(obj, "__code__"):
        cells = [cell.cell_contents for cell in (obj.__closure__ or ())]
        return [obj.__name__, obj.__qualname__, obj.__module__, obj.__doc__, *cells,
                obj.__defaults__, obj.__kwdefaults__, vars(obj), obj.__code__.co_names,
                obj.__code__.co_consts, getattr(obj, "__wrapped__", None)]
    if isinstance(obj, nn.Module):
        return [name for name, _ in obj.named_parameters()]
    return []


def test_the_handle_exposes_no_workload_name():
    handle, *_ = build_workload(SECRET_NAME)
    leaks = [s for s in reachable_strings(handle) if SECRET_NAME.lower() in s.lower()]
    assert leaks == []


def test_the_name_check_catches_a_leaky_handle():
    """The check above would fail if a workload named its loss or captured its name."""
    handle, *_ = build_workload("tiny-regression")

    def capture(name: str):
        def loss(model, batch):
            assert name  # a closure that holds the name
            return handle.loss(model, batch)
        return loss

    renamed = functools.wraps(handle.loss)(lambda model, batch: handle.loss(model, batch))
    renamed.__qualname__ = f"{SECRET_NAME}_loss"
    for leaky_loss in (capture(SECRET_NAME), renamed):
        leaky = dataclasses.replace(handle, loss=leaky_loss)
        assert any(SECRET_NAME in s for s in reachable_strings(leaky))
