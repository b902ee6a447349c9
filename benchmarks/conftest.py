"""Benchmarks are not part of the default test run: `pytest benchmarks` runs them."""
