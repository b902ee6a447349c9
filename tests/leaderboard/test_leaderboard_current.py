import pandas as pd

from leaderboard.current import is_continual, select_current, version_key


def test_versions_compare_numerically_part_by_part():
    assert version_key("1.10") > version_key("1.9")
    assert version_key("2") > version_key("1.9.9")
    assert max(["1.2", "1.10", "1.9"], key=version_key) == "1.10"


def _frame(rows):
    columns = ["suite", "suite_version", "scenario", "phase", "submission", "submission_hash",
               "finished_at", "run_key"]
    return pd.DataFrame([dict(zip(columns, row, strict=True)) for row in rows])


def test_only_newest_suite_version_and_newest_hash_are_current():
    runs = _frame([
        ("s", "1.9", "class", "evaluate", "ewc", "new", "2025-02-01", "a"),
        ("s", "1.10", "class", "evaluate", "ewc", "new", "2025-02-01", "b"),
        ("s", "1.10", "class", "evaluate", "ewc", "old", "2025-01-01", "c"),
    ])
    submissions = {"new": ("ewc", {"continual": True}), "old": ("ewc", {})}
    current = select_current(runs, submissions)
    assert current.suite_versions == {"s": "1.10"}
    assert current.hashes == {"ewc": "new"}
    assert list(current.runs["run_key"]) == ["b"]
    assert [s.submission_hash for s in current.stale["ewc"]] == ["old"]
    assert list(current.all_runs["current"]) == [False, True, False]


def test_continual_defaults_to_true_and_joint_is_a_reference():
    assert is_continual({})
    assert not is_continual({"continual": False})
