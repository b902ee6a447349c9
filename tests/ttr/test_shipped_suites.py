"""The shipped time-to-result suites load, cover every workload kind, and give each base workload
a held-out variant of the same kind and data."""

from __future__ import annotations

import pytest

from harness.suite import load_suite
from harness.ttr_data import source_of
from harness.ttr_kinds import WorkloadKind
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
