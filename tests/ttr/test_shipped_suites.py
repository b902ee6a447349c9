"""The shipped time-to-result suites load, cover every workload kind, and give each base workload
a held-out variant of the same kind and data."""

from __future__ import annotations

import pytest
import torch

from harness.suite import load_suite
from harness.ttr_data import source_of
from harness.ttr_kinds import WorkloadKind
from harness.ttr_models import build_model
from harness.ttr_suite import TTRSuite


@pytest.mark.parametrize("name", ["ttr-quick", "ttr-cpu", "ttr-gpu"])
def test_shipped_suite_loads_with_every_kind_and_variants(name):
    suite = load_suite(name)
    assert isinstance(suite, TTRSuite)
    assert {w.kind for w in suite.base_workloads} == set(WorkloadKind)
    for base in suite.base_workloads:
        variants = [w for w in suite.workloads if w.variant_of == base.name]
        assert variants, f"{base.name} has no held-out variant"
        for v in variants:
            assert (v.kind, v.dataset, v.metric) == (base.kind, base.dataset, base.metric)
            assert v.model_options != base.model_options


def test_quick_reads_project_data_and_real_tiers_read_real_data():
    quick = load_suite("ttr-quick")
    assert {source_of(w.kind, w.dataset) for w in quick.workloads} <= {"cache", "procedural"}
    for name in ("ttr-cpu", "ttr-gpu"):
        real = load_suite(name)
        hub = {w.kind for w in real.workloads if source_of(w.kind, w.dataset) == "hub"}
        assert hub == {WorkloadKind.LANGUAGE_MODEL, WorkloadKind.CLICK_THROUGH}
        assert {w.dataset for w in real.workloads if w.kind is WorkloadKind.CLASSIFICATION} <= \
            {"mnist", "cifar10"}


SHAPES = {"mnist": ((1, 28, 28), 10), "cifar10": ((3, 32, 32), 10)}


def _description(workload) -> dict:
    """What `harness.ttr_data` would describe for the workload's data, without the data (the
    Hub workloads cannot be fetched here): byte-level text, 13 dense and 26 hashed fields."""
    options = workload.dataset_options
    if workload.kind is WorkloadKind.LANGUAGE_MODEL:
        return {"vocab_size": 256, "sequence_length": int(options["sequence_length"])}
    if workload.kind is WorkloadKind.CLICK_THROUGH:
        return {"num_dense": 13, "cardinalities": [int(options["hash_buckets"])] * 26}
    shape, classes = SHAPES[workload.dataset]
    return {"input_shape": list(shape), "num_outputs": classes}


def _batch(workload, data: dict, size: int = 2) -> tuple:
    if workload.kind is WorkloadKind.LANGUAGE_MODEL:
        return (torch.zeros(size, data["sequence_length"], dtype=torch.long),)
    if workload.kind is WorkloadKind.CLICK_THROUGH:
        return (torch.zeros(size, data["num_dense"]),
                torch.zeros(size, len(data["cardinalities"]), dtype=torch.long))
    return (torch.zeros(size, *data["input_shape"]),)


@pytest.mark.parametrize("name", ["ttr-cpu", "ttr-gpu"])
def test_every_real_tier_model_builds_and_runs_forward(name):
    """ttr-gpu cannot be run on this project's machines (no GPU, no Hub): each of its models
    (and ttr-cpu's) is built from its options and run forward on the meta device, which checks
    every shape without allocating the GPU tier's memory (its DLRM embeddings alone are
    0.7 GB)."""
    for workload in load_suite(name).workloads:
        data = _description(workload)
        with torch.device("meta"):
            model = build_model(workload.kind, workload.model, data, dict(workload.model_options))
            out = model(*_batch(workload, data))
        parameters = sum(p.numel() for p in model.parameters())
        assert parameters > 1000, workload.name
        assert out.shape[0] == 2, (workload.name, tuple(out.shape))
