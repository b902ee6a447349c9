"""Which stored results are current, and so shown on the leaderboard.

Two rules, applied to the store's runs frame:

- per suite, only the newest ``suite_version``: the one whose latest run finished last. A suite's
  version is a hash of its file (`harness.suite`), so versions have no order of their own: after
  a suite file is edited, the version run most recently is the one shown, and results of the
  older file are left out (they stay in the downloadable runs table);
- per submission name, only the newest content hash, by the same rule. Older hashes of an
  edited method folder are "stale" and only listed on the method page;
- per tuning decision, only the evaluation runs of the configuration it chose. A decision is
  replaced when the chosen configuration changes (`--trials N`, or `--retry-failed` letting a
  failed trial win), and the seeds of the configuration chosen before stay in the store under
  their own run keys: pooling them with the new seeds would mix two configurations in one
  mean and one test. They are "superseded", left out like stale results.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class StaleHash:
    submission_hash: str
    num_runs: int
    last_finished_at: str


@dataclass(frozen=True)
class CurrentResults:
    """The runs the leaderboard shows, and what was left out.

    Attributes:
        runs: the current runs (newest suite version, newest hash), store columns.
        all_runs: every stored run, for the downloadable runs table.
        suite_versions: the newest version of each suite.
        hashes: the current content hash of each submission name.
        stale: older hashes of each submission name, newest first.
        metadata: submission metadata (``submission.toml``) by submission name, current hash.
    """

    runs: pd.DataFrame
    all_runs: pd.DataFrame
    suite_versions: dict[str, str]
    hashes: dict[str, str]
    stale: dict[str, tuple[StaleHash, ...]]
    metadata: dict[str, dict[str, Any]]


def newest_suite_versions(runs: pd.DataFrame) -> dict[str, str]:
    """Per suite, the version whose latest run finished last (ties: the larger version string,
    so the choice is deterministic)."""
    latest = runs.groupby(["suite", "suite_version"], sort=True)["finished_at"].max()
    versions: dict[str, str] = {}
    for suite, group in latest.reset_index().groupby("suite", sort=True):
        newest = max(zip(group["finished_at"].astype(str), group["suite_version"].astype(str),
                         strict=True))
        versions[str(suite)] = newest[1]
    return versions


def _hash_history(runs: pd.DataFrame) -> dict[str, list[StaleHash]]:
    """Every hash of each submission name with its run count, newest (latest run) first."""
    history: dict[str, list[StaleHash]] = {}
    grouped = runs.groupby(["submission", "submission_hash"], sort=True)
    for (name, digest), group in grouped:
        history.setdefault(str(name), []).append(
            StaleHash(str(digest), len(group), str(group["finished_at"].max()))
        )
    for entries in history.values():
        # Ties on time fall back to the hash so the choice is deterministic.
        entries.sort(key=lambda e: (e.last_finished_at, e.submission_hash), reverse=True)
    return history


# The phase of the runs that evaluate each phase's tuning decision (`harness.runner.spec`).
EVALUATED_BY = {"tune": "evaluate", "legacy-tune": "legacy"}


def superseded(runs: pd.DataFrame, decisions: Iterable[Any]) -> pd.Series:
    """Which runs their tuning decision no longer stands behind: evaluation runs of a
    configuration it no longer chooses, and tuning trials it did not choose among (a later
    `--trials 2` decides among the first two of three stored trials; the table counted three).

    `decisions` are `harness.store.Decision`s (one per suite version, scenario, submission
    hash and phase); runs without a decision (self-tuning methods) are never superseded.
    """
    decisions = list(decisions)
    chosen = {(d.suite, d.suite_version, d.scenario, d.submission, d.submission_hash,
               EVALUATED_BY.get(d.phase, "")): d.chosen_hparams for d in decisions}
    trials = {(d.suite, d.suite_version, d.scenario, d.submission, d.submission_hash, d.phase):
              frozenset(d.trial_keys) for d in decisions}
    if not chosen or runs.empty:
        return pd.Series(False, index=runs.index)
    keys = zip(runs["suite"], runs["suite_version"], runs["scenario"], runs["submission"],
               runs["submission_hash"], runs["phase"], strict=True)
    flags = [(key in chosen and json.loads(hparams) != chosen[key])
             or (key in trials and run_key not in trials[key])
             for key, hparams, run_key in zip(keys, runs["hparams"], runs["run_key"],
                                              strict=True)]
    return pd.Series(flags, index=runs.index)


def select_current(
    runs: pd.DataFrame, submissions: dict[str, tuple[str, dict[str, Any]]],
    decisions: Iterable[Any] = (),
) -> CurrentResults:
    """Split the store's runs frame into current results and stale hashes.

    `runs` is `Store.runs_frame()`; `submissions` is `Store.submissions()`; `decisions` is
    `Store.decisions()`.
    """
    versions = newest_suite_versions(runs)
    history = _hash_history(runs)
    hashes = {name: entries[0].submission_hash for name, entries in history.items()}
    stale = {name: tuple(entries[1:]) for name, entries in history.items()}
    is_current = (runs["suite_version"] == runs["suite"].map(versions)) & (
        runs["submission_hash"] == runs["submission"].map(hashes)
    ) & ~superseded(runs, decisions)
    metadata = {
        name: dict(submissions.get(digest, (name, {}))[1]) for name, digest in hashes.items()
    }
    return CurrentResults(
        runs=runs[is_current].reset_index(drop=True),
        all_runs=runs.assign(current=is_current).reset_index(drop=True),
        suite_versions=versions,
        hashes=hashes,
        stale=stale,
        metadata=metadata,
    )


def is_continual(metadata: dict[str, Any]) -> bool:
    """False for reference methods such as joint training (``continual = false``)."""
    return bool(metadata.get("continual", True))
