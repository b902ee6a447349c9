"""Peak resident memory of the parent process (`harness evaluate`) on a Split-CIFAR-100 shape.

The parent plans the scenarios, writes each worker's input files, scores predictions and
writes the store; workers train. This measures the parent alone: a fresh interpreter runs the
CLI in-process and reads its own `ru_maxrss` (RUSAGE_SELF: children not included), once after
the imports (the baseline) and once when `evaluate` returns. The peak is the kernel's VmHWM of
the probe's process image; `getrusage(RUSAGE_SELF).ru_maxrss` is recorded beside it but is not
usable here, since Linux carries it over fork and exec from the launching process.

The suite has Split-CIFAR-100's shape without its download: 100 classes of 3×32×32 uint8
images, 500 training, 50 validation and 100 test images per class (65,000 images, 200 MB),
tuned on classes 0–49 and evaluated on 50–99, 10 tasks × 5 classes each. Class c shows a
procedural shape of class c // 10 on its left half and a procedural texture of class c % 10 on
its right half (the `shapes` and `textures` procedural datasets), drawn from small per-class
pools so the dataset is built in seconds. One tuning trial and one seed (two runs) with a
width-4 CNN, training on 100 of the 500 images per class: the parent never reads training
images (workers memory-map them), so this shortens the workers' part only; the parent plans
over the full splits and scores the full 5,000-image validation and test sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.helpers import write_suite
from harness.data.cache import write_dataset
from harness.data.procedural import PROCEDURAL_DATASETS
from tests.conftest import make_method

REPO = Path(__file__).resolve().parent.parent
PER_CLASS = {"train": 500, "val": 50, "test": 100}
POOL_PER_CLASS = 40

# Split-CIFAR-100's shape and budget (as in suites/split-cifar100.toml, at width 4).
SUITE = {"name": "cifar100-shaped", "augment": ["random_crop", "horizontal_flip"],
         "batch_size": 256, "replay_samples": 2000, "time_limit_s": 1200, "every_steps": 20,
         "ce_samples": 50, "trials": 1, "seeds": 1, "num_tasks": 10, "train_per_class": 100,
         "tuning_dataset": "procedural100", "tuning_classes": list(range(50)),
         "evaluation_dataset": "procedural100", "evaluation_classes": list(range(50, 100))}

# Runs in the fresh interpreter: the CLI in-process, so the peak measured is the parent's own.
PROBE = """
import json, resource, sys, time


def peak_mb():
    # VmHWM: the peak of this process image. ru_maxrss is not: on Linux it survives fork and
    # exec, so a child of a large process (pytest holding the dataset) reports the parent's.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM"))


import harness.cli.evaluate  # everything `harness evaluate` imports (torch included)
from harness.cli import main

baseline_mb = peak_mb()
start = time.perf_counter()
code = main(sys.argv[1:])
print(json.dumps({"code": code, "baseline_mb": baseline_mb, "peak_mb": peak_mb(),
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "evaluate_s": time.perf_counter() - start,
                  "torch_in_parent": "torch" in sys.modules}))
"""

def write_procedural100(root: Path) -> int:
    """The 100-class dataset above in the cache at `root`; returns its number of images."""
    rng = np.random.default_rng(0)
    pool_labels = np.repeat(np.arange(10), POOL_PER_CLASS)
    shape_pool, texture_pool = (spec.generator(rng, pool_labels, spec.params) for spec in
                                (PROCEDURAL_DATASETS["shapes"], PROCEDURAL_DATASETS["textures"]))
    splits = {}
    for split, per_class in PER_CLASS.items():
        labels = rng.permutation(np.repeat(np.arange(100), per_class))
        pick = rng.integers(0, POOL_PER_CLASS, (2, len(labels)))
        left = shape_pool[(labels // 10) * POOL_PER_CLASS + pick[0]]
        right = texture_pool[(labels % 10) * POOL_PER_CLASS + pick[1]]
        splits[split] = (np.concatenate([left[..., :16], right[..., 16:]], axis=3), labels)
    write_dataset(root, "procedural100", "bench1", splits,
                  [f"shape{c // 10}-texture{c % 10}" for c in range(100)],
                  {"generator": "benchmarks/test_parent_memory.py"})
    return sum(len(labels) for _, labels in splits.values())


def test_parent_peak_memory_during_evaluate(benchmark, tmp_path):
    cache = tmp_path / "cache"
    num_images = write_procedural100(cache)
    suite = write_suite(tmp_path, **SUITE)
    make_method(tmp_path / "subs", "naive-copy")
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", PROBE, "evaluate", "--suite", str(suite),
               "--submissions", str(tmp_path / "subs"), "--store", str(tmp_path / "r.db"),
               "--jobs", "2", "naive-copy"]

    def run():
        done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    probe = benchmark.pedantic(run, rounds=1, iterations=1)
    assert probe["code"] == 0
    benchmark.extra_info.update({
        "parent_peak_rss_mb": probe["peak_mb"],
        "parent_rss_after_imports_mb": probe["baseline_mb"],
        "parent_rss_for_data_mb": probe["peak_mb"] - probe["baseline_mb"],
        "ru_maxrss_mb_inherited_from_launcher": probe["ru_maxrss_mb"],
        "torch_imported_by_parent": probe["torch_in_parent"], "evaluate_s": probe["evaluate_s"],
        "dataset_images": num_images, "dataset_mb": num_images * 3 * 32 * 32 / 2**20,
    })
    print(f"\nparent peak RSS {probe['peak_mb']:.0f} MB ({probe['baseline_mb']:.0f} MB after "
          f"imports, torch imported: {probe['torch_in_parent']}); dataset "
          f"{num_images * 3 * 32 * 32 / 2**20:.0f} MB; evaluate {probe['evaluate_s']:.0f} s")
