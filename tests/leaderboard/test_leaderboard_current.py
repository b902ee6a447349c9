import pandas as pd

from leaderboard.current import is_continual, newest_suite_versions, select_current


def _frame(rows):
    columns = ["suite", "suite_version", "scenario", "phase", "submission", "submission_hash",
               "finished_at", "run_key"]
    return pd.DataFrame([dict(zip(columns, row, strict=True)) for row in rows])


def test_the_suite_version_run_last_is_current_whatever_its_hash():
    # Versions are file hashes: the edited file's ("0a…") sorts before the old one's ("f3…").
    runs = _frame([
        ("s", "f39c0e11aa02", "class", "evaluate", "ewc", "h", "2025-01-01T10:00:00", "a"),
        ("s", "f39c0e11aa02", "class", "evaluate", "si", "h", "2025-01-03T10:00:00", "b"),
        ("s", "0a7d51e2c6b4", "class", "evaluate", "ewc", "h", "2025-01-03T10:00:01", "c"),
        ("t", "999999999999", "class", "evaluate", "ewc", "h", "2025-01-01T10:00:00", "d"),
        ("t", "0b0000000000", "class", "evaluate", "ewc", "h", "2025-01-02T10:00:00", "e"),
    ])
    assert newest_suite_versions(runs) == {"s": "0a7d51e2c6b4", "t": "0b0000000000"}
    current = select_current(runs, {"h": ("ewc", {})})
    assert list(current.runs["run_key"]) == ["c", "e"]


def test_only_newest_suite_version_and_newest_hash_are_current():
    runs = _frame([
        ("s", "old-file", "class", "evaluate", "ewc", "new", "2025-02-01", "a"),
        ("s", "new-file", "class", "evaluate", "ewc", "new", "2025-02-02", "b"),
        ("s", "new-file", "class", "evaluate", "ewc", "old", "2025-01-01", "c"),
    ])
    submissions = {"new": ("ewc", {"continual": True}), "old": ("ewc", {})}
    current = select_current(runs, submissions)
    assert current.suite_versions == {"s": "new-file"}
    assert current.hashes == {"ewc": "new"}
    assert list(current.runs["run_key"]) == ["b"]
    assert [s.submission_hash for s in current.stale["ewc"]] == ["old"]
    assert list(current.all_runs["current"]) == [False, True, False]


def test_continual_defaults_to_true_and_joint_is_a_reference():
    assert is_continual({})
    assert not is_continual({"continual": False})
