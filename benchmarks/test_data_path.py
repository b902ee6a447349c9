"""Data path throughput: `DeviceTaskData` against bare `x[randperm[i:i + B]]` indexing.

The bare loop indexes a float32 tensor that was normalized once, the fastest hand-written
loader (airbench's). `DeviceTaskData` does the same for tasks whose float32 copy fits
`PRENORMALIZE_MAX_BYTES` and otherwise keeps uint8 and normalizes each batch (4× less memory);
both paths are measured, the second by lowering the threshold. Neither loop trains: this is the
cost of producing batches, which a GPU step of a small network can be as short as.

Throughput counts iteration only; the set-up of each task's `DeviceTaskData` (the one-off
normalization of the prenormalized path) is reported beside it, and the ratio with it included.

Also timed, per batch: the augmentations (random crop, random flip, alternating flip), each on
its own, so their cost can be read against the data path's.
"""

from __future__ import annotations

import statistics
import time

import pytest
import torch

from harness.data import batches
from harness.data.augment import alternating_flip, draw_flip_parity, horizontal_flip, random_crop
from harness.data.batches import DeviceTaskData, Normalizer

NUM_SAMPLES, EPOCHS, ROUNDS = 10_000, 2, 7
SHAPE = (3, 32, 32)
MEAN, STD = [0.5, 0.4, 0.3], [0.25, 0.25, 0.25]


def _data():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (NUM_SAMPLES, *SHAPE), dtype=torch.uint8, generator=gen)
    return images, torch.randint(0, 10, (NUM_SAMPLES,), generator=gen)


def _harness(images, labels, batch_size):
    """Returns run() -> (set-up seconds, iteration seconds) of one task's DeviceTaskData."""
    normalize = Normalizer(MEAN, STD, torch.device("cpu"))

    def run():
        start = time.perf_counter()
        data = DeviceTaskData(images, labels, batch_size=batch_size, num_epochs=EPOCHS,
                              normalize=normalize, generator=torch.Generator().manual_seed(1))
        built = time.perf_counter()
        for _ in data:
            pass
        return built - start, time.perf_counter() - built
    return run


def _bare(images, labels, batch_size):
    """Returns run() -> (0, iteration seconds): indexing a tensor normalized beforehand."""
    x_all = (images.float() / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / \
        torch.tensor(STD).view(1, 3, 1, 1)

    def run():
        start = time.perf_counter()
        gen = torch.Generator().manual_seed(1)
        for _ in range(EPOCHS):
            order = torch.randperm(NUM_SAMPLES, generator=gen)
            for begin in range(0, NUM_SAMPLES, batch_size):
                index = order[begin:begin + batch_size]
                x_all[index], labels[index]
        return 0.0, time.perf_counter() - start
    return run


def _interleaved(first, second):
    """Median (set-up s, iteration s) of each, timed A B A B ... after one warm-up each."""
    first(), second()
    times = ([], [])
    for _ in range(ROUNDS):
        times[0].append(first())
        times[1].append(second())
    return [tuple(statistics.median(t[k] for t in runs) for k in (0, 1)) for runs in times]


@pytest.mark.parametrize("path", ["prenormalized", "uint8"])
@pytest.mark.parametrize("batch_size", [32, 512])
def test_device_task_data_vs_bare_indexing(benchmark, monkeypatch, path, batch_size):
    torch.set_num_threads(1)  # as each worker of `--jobs 2` on this 2-core machine
    if path == "uint8":
        monkeypatch.setattr(batches, "PRENORMALIZE_MAX_BYTES", 0)
    images, labels = _data()
    harness_run, bare_run = _harness(images, labels, batch_size), _bare(images, labels, batch_size)
    (setup_s, iterate_s), (_, bare_s) = _interleaved(harness_run, bare_run)
    num_batches = EPOCHS * -(-NUM_SAMPLES // batch_size)
    benchmark.extra_info.update({
        "harness_batches_per_s": num_batches / iterate_s,
        "bare_batches_per_s": num_batches / bare_s,
        "ratio_harness_over_bare_throughput": bare_s / iterate_s,
        "harness_setup_s_per_task": setup_s,
        "ratio_with_setup": bare_s / (setup_s + iterate_s),
        "batch_size": batch_size, "num_batches": num_batches, "epochs": EPOCHS,
        "num_samples": NUM_SAMPLES,
    })
    benchmark.pedantic(harness_run, rounds=3, iterations=1)
    print(f"\n{path} B={batch_size}: harness {num_batches / iterate_s:,.0f} batches/s, bare "
          f"{num_batches / bare_s:,.0f} batches/s, ratio {bare_s / iterate_s:.3f}; set-up per "
          f"task {setup_s * 1e3:.0f} ms (ratio with it {bare_s / (setup_s + iterate_s):.3f})")


AUGMENTATIONS = {
    "random_crop": lambda x, gen, index, epoch, parity: random_crop(x, 4, gen),
    "horizontal_flip": lambda x, gen, index, epoch, parity: horizontal_flip(x, gen),
    "alternating_flip": lambda x, gen, index, epoch, parity: alternating_flip(
        x, epoch, parity[index]),
}


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_augmentation_cost_per_batch(benchmark, name):
    torch.set_num_threads(1)
    batch_size = 512
    x = torch.randn(batch_size, *SHAPE)
    gen = torch.Generator().manual_seed(0)
    parity = draw_flip_parity(NUM_SAMPLES, gen)
    index = torch.randperm(NUM_SAMPLES, generator=gen)[:batch_size]
    augment = AUGMENTATIONS[name]
    benchmark.pedantic(lambda: augment(x, gen, index, 1, parity), rounds=50, iterations=5,
                       warmup_rounds=2)
    per_batch_s = benchmark.stats.stats.median
    benchmark.extra_info.update({"batch_size": batch_size, "per_batch_ms": per_batch_s * 1e3,
                                 "batches_per_s": 1 / per_batch_s})
    print(f"\n{name}: {per_batch_s * 1e3:.2f} ms per batch of {batch_size}")
