import pandas as pd

from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec
from harness.store import Decision, Store
from leaderboard.current import is_continual, newest_suite_versions, select_current
from leaderboard.view import build_site_view


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


def _run(method, phase, seed, trial, hparams, score, when):
    spec = RunSpec(suite="s", suite_version="v", scenario="class", phase=phase,
                   submission=method, submission_hash=f"{method}-h", hparams=hparams,
                   seed=seed, trial=trial)
    return RunResult(spec=spec, status=RunStatus.OK, metrics={"final_avg_acc": score},
                     wall_time_s=1.0, finished_at=when)


def _decide(store, trial_run, trials):
    store.write_decision(Decision(
        suite="s", suite_version="v", scenario="class", submission="a", submission_hash="a-h",
        chosen_hparams=trial_run.spec.hparams, chosen_run_key=trial_run.spec.key,
        metric_name="final_avg_acc", metric_value=trial_run.metrics["final_avg_acc"],
        trial_keys=tuple(t.spec.key for t in trials)))


def test_seeds_of_a_configuration_no_longer_chosen_are_left_out(tmp_path):
    """`--trials N` or `--retry-failed` can change a tuning decision; the seeds evaluated
    with the configuration chosen before keep their run keys, and must not be pooled."""
    with Store(tmp_path / "r.db") as store:
        store.write_submission("a", "a-h", {"name": "a"})
        old = _run("a", Phase.TUNE, 0, 0, {"lr": 0.01}, 0.5, "2025-01-01T00:00:00+00:00")
        store.write_run(old)
        _decide(store, old, [old])
        for seed in range(3):
            store.write_run(_run("a", Phase.EVALUATE, seed, -1, {"lr": 0.01}, 0.40,
                                 "2025-01-01T00:00:00+00:00"))
        new = _run("a", Phase.TUNE, 0, 1, {"lr": 0.1}, 0.7, "2025-02-01T00:00:00+00:00")
        store.write_run(new)
        _decide(store, new, [old, new])
        for seed in range(3):
            store.write_run(_run("a", Phase.EVALUATE, seed, -1, {"lr": 0.1}, 0.80,
                                 "2025-02-01T00:00:00+00:00"))
        current = select_current(store.runs_frame(), store.submissions(), store.decisions())
        site = build_site_view(store, built_at="now")
    evaluated = current.runs[current.runs["phase"] == "evaluate"]
    assert list(evaluated["hparams"]) == ['{"lr":0.1}'] * 3
    assert int((~current.all_runs["current"]).sum()) == 3  # kept in the store and the download
    [row] = site.suites[0].benchmarks[0].rows
    assert "n=3" in row.primary.text and row.primary.text.startswith("0.800")
