"""Benchmarks are not part of the default test run: `pytest benchmarks` runs them.

`pytest benchmarks --benchmark-json=results/benchmarks.json` writes every figure to one JSON
report: each benchmark puts its numbers in `extra_info`, and this file adds the machine's load
(timings on a shared machine mean little without it).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _record_machine_load(request):
    # Requested here, so `benchmark` is torn down after this fixture has written into it.
    benchmark = request.getfixturevalue("benchmark") if "benchmark" in request.fixturenames \
        else None
    before = os.getloadavg()[0]
    yield
    if benchmark is not None:
        benchmark.extra_info.update({
            "load_avg_1m_before": before, "load_avg_1m_after": os.getloadavg()[0],
            "cpu_count": os.cpu_count(),
        })
