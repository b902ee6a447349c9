from harness.protocol import TUNING_SEED_OFFSET, select_best
from harness.runner.result import RunResult, RunStatus
from harness.runner.spec import Phase, RunSpec


def trial(i, acc=None, status=RunStatus.OK):
    spec = RunSpec("s", "v", "class", Phase.TUNE, "m", "h", {"lr": i / 10},
                   TUNING_SEED_OFFSET + i, trial=i)
    metrics = {} if acc is None else {"final_avg_acc": acc, "forgetting": 1 - acc}
    return RunResult(spec=spec, status=status, metrics=metrics)


def test_select_best_takes_highest_accuracy_and_ignores_failures():
    results = [trial(0, 0.4), trial(1, 0.9, RunStatus.FAILED), trial(2, 0.6), trial(3, 0.5)]
    assert select_best(results, "final_avg_acc").spec.trial == 2


def test_select_best_respects_lower_is_better_metrics():
    results = [trial(0, 0.4), trial(1, 0.7), trial(2, 0.6)]
    assert select_best(results, "forgetting").spec.trial == 1  # forgetting 0.3 is lowest


def test_select_best_breaks_ties_by_lowest_trial_and_returns_none_when_all_failed():
    assert select_best([trial(3, 0.5), trial(1, 0.5)], "final_avg_acc").spec.trial == 1
    assert select_best([trial(0, status=RunStatus.FAILED)], "final_avg_acc") is None
