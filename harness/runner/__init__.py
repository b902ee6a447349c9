"""Runs: specs and keys, the isolated worker, budgets and clocks, executors."""
