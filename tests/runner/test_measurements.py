"""What a run measures beyond accuracy: state audit, training FLOPs, continual evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from harness.data.batches import DeviceTaskData, Normalizer
from harness.evaluation import EvaluateOptions, evaluate
from harness.metrics.continual import minimum_accuracy, worst_case_accuracy
from harness.models import small_cnn
from harness.runner.audit import allowed_state_bytes, measure_state_bytes
from harness.runner.instrument import StepInstrument
from harness.runner.spec import Phase
from harness.store import Store
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import LEARNER_HEAD, make_method, write_tiny_suite

HOARDER = LEARNER_HEAD + """
    def learn(self, task, data):
        self.kept = getattr(self, "kept", [])
        for x, y in data:
            self.kept.append(x.repeat(50, 1, 1, 1))  # far more than the replay allowance
"""

# Checks that a mid-task predict (which switches to eval mode) does not leak into training.
MODE_CHECK = LEARNER_HEAD + """
    def learn(self, task, data):
        for x, y in data:
            self.model.train()
            before = self.model.training
            self.opt.zero_grad()
            F.cross_entropy(self.model(x), y).backward()
            self.opt.step()
            assert self.model.training == before

    def predict(self, x, task=None):
        self.model.eval()
        return self.model(x)
"""


def test_measured_state_counts_buffers_and_optimizer_state_but_not_the_live_network():
    class Learner:
        def __init__(self):
            self.model = nn.Linear(10, 4)  # 44 parameters: the live network, not counted
            self.buffer = torch.zeros(6, 10)  # 240 bytes
            self.same_buffer = self.buffer[:3]  # a view: same storage, counted once
            self.old = [nn.Linear(10, 4)]  # a stored model: 176 bytes
            self.opt = torch.optim.Adam(self.model.parameters())
            self.model(torch.ones(2, 10)).sum().backward()
            self.opt.step()  # Adam moments: 2 × 176 bytes (+ step counters)

    measured = measure_state_bytes(Learner())
    assert 240 + 176 + 2 * 176 <= measured <= 240 + 176 + 2 * 176 + 64


def test_allowance_formula():
    assert allowed_state_bytes(10, (1, 2, 2), 3, num_parameters=100, model_copies=2) == \
        10 * (16 + 8 + 12) + 2 * 400


def test_flops_of_sampled_steps_agree_with_the_analytic_count():
    model = nn.Linear(784, 10)
    instrument = StepInstrument(6, evaluate=None, every_steps=0, learner=object(),
                                clock=lambda: 0.0)
    batch = 32
    for step in range(6):
        with instrument(step, batch):
            model(torch.randn(batch, 784)).sum().backward()
    # forward x·Wᵀ: 2·B·784·10; backward: ∂W only (the input needs no gradient): 2·B·784·10.
    assert instrument.estimated_flops == pytest.approx(6 * 4 * batch * 784 * 10)
    assert len(instrument.sampled_flops) == 3



def _task_data(num_samples: int, batch: int, instrument: StepInstrument) -> DeviceTaskData:
    images = torch.randint(0, 255, (num_samples, 1, 28, 28), dtype=torch.uint8)
    return DeviceTaskData(images, torch.zeros(num_samples, dtype=torch.long), batch_size=batch,
                          num_epochs=1, normalize=Normalizer([0.5], [0.5], torch.device("cpu")),
                          generator=torch.Generator().manual_seed(0), instrument=instrument)


def test_flops_of_a_task_whose_last_batch_is_short_are_counted_per_sample():
    """100 samples in batches of 32: three full steps and one of 4 samples. Per step, the short
    batch was one of three samples and the task counted 27 % too few FLOPs."""
    model = nn.Linear(784, 10)
    instrument = StepInstrument(4, evaluate=None, every_steps=0, learner=object(),
                                clock=lambda: 0.0)
    for x, _ in _task_data(100, 32, instrument):
        model(x.flatten(1)).sum().backward()
    assert instrument.estimated_flops == pytest.approx(100 * 4 * 784 * 10)


@pytest.mark.parametrize("keeps_iterator", [False, True])
def test_a_learner_that_takes_its_batches_with_next_leaves_no_flop_counter_running(
        keeps_iterator):
    """A learner calling next() exactly len(data) times never asks for the batch after the last:
    that step's instrumentation used to stay open after `learn`, with a FLOP counter that kept
    slowing (and counting) the harness's own evaluation, and the step's continual evaluation
    was lost. `end_of_learn` ends it, whether the learner kept its iterator or dropped it."""
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    model = nn.Linear(784, 10)
    instrument = StepInstrument(4, evaluate=lambda: np.zeros(1), every_steps=1,
                                learner=nn.Module(), clock=lambda: 0.0)
    data = _task_data(100, 32, instrument)
    kept = []

    def learn():
        batches = iter(data)
        if keeps_iterator:
            kept.append(batches)
        for _ in range(len(data)):
            x, _ = next(batches)
            model(x.flatten(1)).sum().backward()

    learn()
    assert not _get_current_dispatch_mode_stack()  # the last step is never FLOP-sampled
    instrument.end_of_learn(data)
    assert not _get_current_dispatch_mode_stack()
    assert [step for step, _ in instrument.rows] == [1, 2, 3, 4]
    assert instrument.batches_time_s is None  # where the last batch ended is unknown
    assert instrument.estimated_flops == pytest.approx(100 * 4 * 784 * 10)


def test_a_loop_that_stops_early_is_charged_for_the_batches_it_took():
    """A `for` loop that breaks at a FLOP-sampled step closes that step at once (the counter
    must not run on through the rest of `learn`). Every batch handed out counts, as in
    samples_seen, the one it broke at too; that step's FLOP sample (nothing computed) does
    not, or it would drag the per-sample estimate down."""
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    model = nn.Linear(784, 10)
    instrument = StepInstrument(8, evaluate=None, every_steps=0, learner=object(),
                                clock=lambda: 0.0)
    data = _task_data(256, 32, instrument)
    assert 3 in instrument.sampled
    for step, (x, _) in enumerate(data):
        if step == 3:
            break
        model(x.flatten(1)).sum().backward()
    assert not _get_current_dispatch_mode_stack()
    instrument.end_of_learn(data)
    assert instrument.samples == data.samples_yielded == 4 * 32
    assert instrument.estimated_flops == pytest.approx(4 * 32 * 4 * 784 * 10)


@pytest.mark.parametrize(("num_samples", "taken"), [(32, 1), (256, 1), (256, 3)])
def test_a_next_style_learner_that_stops_early_is_charged_for_what_it_trained_on(
        num_samples, taken):
    """The batch a learner held when its pass ended was never charged: a one-step task taken
    with next() (its only, FLOP-sampled step) counted 0 FLOPs, and so did a learner that
    trained on one batch and returned."""
    model = nn.Linear(784, 10)
    num_steps = num_samples // 32
    instrument = StepInstrument(num_steps, evaluate=None, every_steps=0, learner=object(),
                                clock=lambda: 0.0)
    data = _task_data(num_samples, 32, instrument)

    def learn():
        batches = iter(data)
        for _ in range(taken):
            x, _ = next(batches)
            model(x.flatten(1)).sum().backward()

    learn()
    instrument.end_of_learn(data)
    assert instrument.estimated_flops == pytest.approx(taken * 32 * 4 * 784 * 10)


def test_min_acc_and_wc_acc_by_hand():
    # Evaluations: during task 0 (rows 0-1), during task 1 (rows 2-3), during task 2 (row 4).
    trace = np.array([[0.5, 0.0, 0.0], [0.9, 0.0, 0.0], [0.4, 0.6, 0.0], [0.7, 0.8, 0.1],
                      [0.6, 0.3, 0.9]])
    task = np.array([0, 0, 1, 1, 2])
    # task 0: min over rows with task > 0 = min(0.4, 0.7, 0.6) = 0.4; task 1: rows 4 → 0.3
    assert minimum_accuracy(trace, task) == pytest.approx((0.4 + 0.3) / 2)
    final = np.array([0.6, 0.3, 0.9])
    assert worst_case_accuracy(trace, task, final) == pytest.approx(0.9 / 3 + (2 / 3) * 0.35)


def run(tmp_path, cache, method):
    suite = load_suite(write_tiny_suite(tmp_path))
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, [load_submission(method)], store,
                          EvaluateOptions(num_trials=1, num_seeds=1), cache=cache)
    return report


def test_hoarding_learner_fails_the_audit_with_the_figure(tmp_path, tiny_cache):
    report = run(tmp_path, tiny_cache, make_method(tmp_path, "hoarder", HOARDER))
    [trial] = report.results
    assert not trial.ok
    assert "after task 0 the learner holds" in trial.reason and "the suite allows" in trial.reason


def test_replay_passes_the_audit_and_runs_record_flops_and_traces(tmp_path, tiny_cache):
    report = run(tmp_path, tiny_cache, make_method(tmp_path, "replay-copy", base="replay"))
    [ev] = [r for r in report.results if r.spec.phase is Phase.EVALUATE]
    assert ev.ok, ev.reason
    assert ev.metrics["train_flops"] > 0 and len(ev.curves["train_flops_per_task"]) == 2
    # At least its 8 buffered float32 images; at most the allowance (8 samples + 8 copies of
    # the parameters, which Adam's moments use part of).
    width4_cnn_parameters = sum(p.numel() for p in small_cnn((3, 32, 32), 4, width=4).parameters())
    allowance = allowed_state_bytes(8, (3, 32, 32), 4, width4_cnn_parameters, 8)
    assert 8 * 4 * 3 * 32 * 32 <= ev.metrics["state_bytes"] <= allowance
    trace = ev.curves["continual_eval"]
    # every_steps = 1: 3 steps per task (24 images × ... / batch 16 → 2 batches × 1 epoch)
    assert trace["task"][:2] == [0, 0] and -1 in trace["step"]
    assert len(trace["acc"][0]) == 2
    assert 0.0 <= ev.metrics["min_acc"] <= 1.0 and "wc_acc" in ev.metrics


def test_mid_task_evaluation_restores_training_mode(tmp_path, tiny_cache):
    report = run(tmp_path, tiny_cache, make_method(tmp_path, "mode", MODE_CHECK))
    assert all(r.ok for r in report.results), [r.reason for r in report.results]


def test_continual_evaluation_restores_mixed_train_and_eval_modes():
    """A learner that trains with some modules in eval mode (a frozen BatchNorm, a teacher copy)
    gets exactly those modes back after a mid-task evaluation that switched everything."""
    class Learner:
        def __init__(self):
            self.model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Sequential(
                nn.Linear(4, 4), nn.Dropout()))
            self.teacher = nn.Linear(4, 2)

    learner = Learner()
    learner.model.train()
    learner.model[1].eval()  # frozen statistics inside a training network
    learner.model[2][1].eval()
    learner.teacher.eval()
    before = [m.training for m in (*learner.model.modules(), learner.teacher)]

    def predict_in_eval_mode():
        learner.model.eval()
        learner.teacher.train()
        return np.zeros(1, dtype=np.int16)

    instrument = StepInstrument(2, evaluate=predict_in_eval_mode, every_steps=1,
                                learner=learner, clock=lambda: 0.0)
    with instrument(0, 1):
        pass
    assert [m.training for m in (*learner.model.modules(), learner.teacher)] == before
    assert len(instrument.rows) == 1


def test_modes_are_restored_for_networks_kept_in_dicts_and_helper_objects():
    """Only attributes and top-level lists were restored: a network in a dict or a helper
    object stayed in eval mode after the first mid-task evaluation, and trained so."""
    class Helper:
        def __init__(self):
            self.net = nn.Sequential(nn.Linear(4, 4), nn.Dropout())

    class Learner:
        def __init__(self):
            self.nets = {"main": nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))}
            self.helper = Helper()

    learner = Learner()
    shared = learner.helper.net[0]
    learner.nets["main"].append(shared)  # one module reachable twice: still restored once
    modules = [*learner.nets["main"].modules(), *learner.helper.net.modules()]

    def predict():
        for module in modules:
            module.eval()
        return np.zeros(1, dtype=np.int16)

    instrument = StepInstrument(2, evaluate=predict, every_steps=1, learner=learner,
                                clock=lambda: 0.0)
    with instrument(0, 1):
        pass
    assert all(m.training for m in modules)


def test_the_audit_finds_state_in_deques_numpy_bytes_slots_and_deep_nesting():
    """Common replay-buffer idioms; each holds 40,000 bytes that the audit must count once."""
    import collections

    class Slotted:
        __slots__ = ("buffer",)

        def __init__(self, buffer):
            self.buffer = buffer

    class Node:  # a linked list deeper than any fixed depth limit
        def __init__(self, value, next_node):
            self.value, self.next = value, next_node

    chain = None
    for _ in range(100):
        chain = Node(torch.zeros(100), chain)  # 100 × 400 bytes
    nested = torch.zeros(10_000)
    for _ in range(20):
        nested = {"deeper": nested}
    array = np.zeros(10_000, dtype=np.float32)
    holders = {
        "deque": collections.deque(torch.zeros(100) for _ in range(100)),
        "numpy": array,
        "numpy views": [array[:5000], array[5000:], array],  # one buffer
        "bytes": bytes(40_000),
        "slots": Slotted(torch.zeros(10_000)),
        "linked list": chain,
        "nested": nested,
        "numpy sharing a tensor's memory": [torch.from_numpy(array), array],
    }
    for name, holder in holders.items():
        learner = type("Learner", (), {})()
        learner.held = holder
        assert measure_state_bytes(learner) == 40_000, name
    learner = type("Learner", (), {})()
    learner.indices = range(10**12)  # a range holds no memory, and must not be walked
    assert measure_state_bytes(learner) == 0


def test_training_outside_the_harness_batches_is_measured_and_named_on_the_site(
        tmp_path, tiny_cache):
    """FLOPs are counted on the harness's batches; GDumb retrains from its memory after them,
    so its FLOPs are a lower bound and the compute table says so; naive's are not."""
    from leaderboard.view import build_site_view

    methods = [make_method(tmp_path / "m", "naive-copy"),
               make_method(tmp_path / "m", "gdumb-copy", base="gdumb")]
    suite = load_suite(write_tiny_suite(tmp_path))
    with Store(tmp_path / "r.db") as store:
        report = evaluate(suite, [load_submission(m) for m in methods], store,
                          EvaluateOptions(num_trials=1, num_seeds=1, sandbox=False),
                          cache=tiny_cache)
        site = build_site_view(store, built_at="now")
    assert all(r.ok for r in report.results), [r.reason for r in report.results]
    share = {r.spec.submission: r.metrics["uncounted_train_time_s"] / r.metrics["train_time_s"]
             for r in report.results if r.spec.phase is Phase.EVALUATE}
    assert share["gdumb-copy"] > 0.5 > 0.2 > share["naive-copy"], share
    [bench] = site.suites[0].benchmarks
    note = bench.compute.flops_note
    assert "gdumb-copy (" in note and "naive-copy" not in note and "lower bound" in note
    # the cell and the downloads say so too: GDumb's counted FLOPs alone read as cheapest
    from leaderboard.tables import compute_records

    rows = {r.method: r for r in bench.compute.rows}
    flops = [c.key for c in bench.compute.columns].index("train_flops")
    assert rows["gdumb-copy"].cells[flops].text.startswith("≥ ")
    assert not rows["naive-copy"].cells[flops].text.startswith("≥")
    records = {r["method"]: r for r in compute_records(bench.compute)}
    assert records["gdumb-copy"]["train_flops_lower_bound"] is True
    assert records["naive-copy"]["train_flops_lower_bound"] is False


def test_the_audit_counts_a_torch_dataset_and_samples_registered_on_the_network():
    """A replay buffer in a TensorDataset, or registered as buffers on the model, counted 0:
    torch objects were not opened, and the whole largest module was taken for the network."""
    from torch.utils.data import TensorDataset

    from harness.runner.audit import network_bytes

    def learner_with(**attributes):
        learner = type("Learner", (), {})()
        learner.model = nn.Linear(10, 10)  # 440 bytes of parameters
        for name, value in attributes.items():
            setattr(learner, name, value)
        return learner

    fresh = network_bytes(nn.Linear(10, 10))
    assert fresh == 440
    kept = learner_with(buffer=TensorDataset(torch.zeros(1000, 10), torch.zeros(1000)))
    assert measure_state_bytes(kept, fresh) == 40_000 + 4_000
    hoarder = learner_with()
    hoarder.model.register_buffer("samples", torch.zeros(1000, 10))
    assert measure_state_bytes(hoarder, fresh) == 40_000
    assert measure_state_bytes(learner_with(), fresh) == 0


def test_the_audit_walks_a_container_class_by_its_attributes_not_its_iteration():
    """A user class with __iter__/__len__ (a Collection) holding its samples in attributes:
    iterating it yields ids or fresh copies, which must not stand for (or hide) the data."""
    import array
    from collections.abc import Sequence

    class Reservoir:
        def __init__(self):
            self.samples = torch.zeros(1000, 10)  # 40,000 bytes
            self.ids = list(range(1000))

        def __iter__(self):
            return iter(self.ids)

        def __len__(self):
            return len(self.ids)

        def __contains__(self, item):
            return item in self.ids

    class AsFloat(Sequence):
        def __init__(self):
            self.stored = torch.zeros(1000, 10, dtype=torch.uint8)  # 10,000 bytes

        def __getitem__(self, i):
            return self.stored[i].float()  # a fresh 40-byte copy each time

        def __len__(self):
            return len(self.stored)

    for holder, expected in ((Reservoir(), 40_000), (AsFloat(), 10_000),
                             (array.array("f", bytes(40_000)), 40_000)):
        learner = type("Learner", (), {})()
        learner.held = holder
        assert measure_state_bytes(learner) == expected, type(holder).__name__


def test_augmentation_streams_are_apart_from_batch_order_streams():
    """Task t's augmentation generator was seeded as task t + 7's batch order."""
    from harness.runner.worker import augment_seed

    order = {seed * 1_000_003 + t for seed in range(3) for t in range(30)}
    augment = {augment_seed(seed, t) for seed in range(3) for t in range(30)}
    assert len(augment) == 90 and not order & augment
    assert augment_seed(1, 2) == augment_seed(1, 2)  # fixed: runs repeat
