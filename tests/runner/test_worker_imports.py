"""A sandboxed run starts a fresh interpreter, so everything its worker imports is paid again by
every run: the worker must not pull in the parent's analysis libraries (scipy.stats alone is
about a second of start-up on the 2-core machine)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PARENT_ONLY = {"scipy", "pandas", "matplotlib", "jinja2", "datasets", "rich", "ray"}


@pytest.mark.parametrize("worker", ["harness.runner.worker", "harness.runner.ttr_worker",
                                    "harness.nevis.worker"])
def test_a_worker_imports_none_of_the_parents_libraries(worker):
    code = (f"import json, sys, harness.runner.sandbox, {worker}\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[2])
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "torch" in loaded
    assert not loaded & PARENT_ONLY, f"{worker} imports {sorted(loaded & PARENT_ONLY)}"
