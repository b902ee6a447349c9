import pytest

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


def test_a_suite_that_tunes_on_its_evaluation_data_is_refused_before_any_run(tmp_path,
                                                                             tiny_cache):
    import pytest

    from harness.errors import ConfigError
    from harness.evaluation import evaluate
    from harness.store import Store
    from harness.submission import load_submission
    from harness.suite import load_suite
    from tests.conftest import make_method, write_tiny_suite

    path = write_tiny_suite(tmp_path)
    leaky = path.read_text().replace('classes = [4, 5, 6, 7]\nnum_tasks = 2\neval_split = "val"',
                                     'classes = [0, 1, 2, 3]\nnum_tasks = 2\neval_split = "test"')
    assert leaky != path.read_text()
    path.write_text(leaky)
    with Store(tmp_path / "r.db") as store:
        with pytest.raises(ConfigError, match="tuning scenario reads 32 samples that the "
                                              "evaluation is scored on"):
            evaluate(load_suite(path), [load_submission(make_method(tmp_path, "m"))], store,
                     cache=tiny_cache)
        assert store.statuses() == {}


def test_disjoint_classes_of_one_dataset_pass_the_separation_check(tiny_cache, tmp_path):
    from harness.api import Scenario
    from harness.data.scenario import build_plan
    from harness.protocol import check_separation
    from harness.suite import load_suite
    from tests.conftest import write_tiny_suite

    suite = load_suite(write_tiny_suite(tmp_path))  # textures 4-7 for tuning, 0-3 evaluated
    data = tiny_cache.get("textures")
    check_separation("tiny", build_plan(suite.tuning, Scenario.CLASS, data),
                     build_plan(suite.evaluation, Scenario.CLASS, data))


def test_tuning_and_evaluation_of_different_shapes_are_refused(tmp_path, tiny_cache):
    """Tuned with 2 classes per task (4 outputs), judged on 3 per task (6 outputs): refused."""
    from harness.errors import ConfigError
    from harness.evaluation import EvaluateOptions, evaluate
    from harness.store import Store
    from harness.submission import load_submission
    from harness.suite import load_suite
    from tests.conftest import REPO, write_tiny_suite

    path = write_tiny_suite(tmp_path)
    path.write_text(path.read_text().replace("classes = [0, 1, 2, 3]",
                                             "classes = [0, 1, 2, 3, 8, 9]"))
    with Store(tmp_path / "r.db") as store, pytest.raises(
            ConfigError, match=r"2 tasks of \[2, 2\] classes \(4 outputs\), the evaluation "
                               r"scenario 2 tasks of \[3, 3\] \(6 outputs\)"):
        evaluate(load_suite(path), [load_submission(REPO / "submissions" / "naive")], store,
                 EvaluateOptions(num_trials=1, num_seeds=1), cache=tiny_cache)


def test_a_side_that_trains_and_scores_on_one_split_is_refused(tmp_path):
    from harness.errors import ConfigError
    from harness.suite import load_suite
    from tests.conftest import write_tiny_suite

    path = write_tiny_suite(tmp_path)
    path.write_text(path.read_text().replace('eval_split = "test"',
                                             'eval_split = "test"\ntrain_split = "test"'))
    with pytest.raises(ConfigError, match='trains and scores on the same split "test"'):
        load_suite(path)
