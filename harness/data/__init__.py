"""Datasets: procedural generators, the on-disk uint8 cache, and device-resident batches."""
