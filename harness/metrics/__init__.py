"""Metrics computed from recorded results.

One module per family, each a set of small documented functions over one stated data convention:

- `continual`: continual-learning metrics over the canonical accuracy matrix of shape
  `(num_tasks + 1, num_tasks)` (row 0 is the untrained model).

Import the module you need (`from harness.metrics import continual`); this package imports
nothing at import time.
"""
