import pytest

from harness.api import Scenario
from harness.cli import main
from harness.errors import ConfigError
from harness.suite import load_suite
from tests.conftest import write_tiny_suite


def test_quickstart_tunes_and_evaluates_on_different_data():
    suite = load_suite("quickstart")
    assert suite.scenarios == (Scenario.CLASS,)
    assert suite.tuning.dataset != suite.evaluation.dataset
    assert suite.tuning.eval_split == "val" and suite.evaluation.eval_split == "test"
    assert suite.tuning.num_tasks == suite.evaluation.num_tasks == 5
    assert suite.protocol.num_seeds >= 5


def test_version_is_the_file_hash(tmp_path):
    path = write_tiny_suite(tmp_path)
    first = load_suite(path).version
    path.write_text(path.read_text().replace("epochs_per_task = 1", "epochs_per_task = 2"))
    assert load_suite(path).version != first


def test_every_problem_is_reported_at_once_with_lines_and_suggestions(tmp_path):
    path = write_tiny_suite(tmp_path)
    text = path.read_text()
    text = text.replace("scenarios = ['class']", "scenarios = ['clas']")
    text = text.replace("epochs_per_task = 1", "epoch_per_task = 1")
    text = text.replace('backbone = "small_cnn"', 'backbone = "small_cn"')
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    problems = "\n".join(info.value.problems)
    assert 'unknown scenario "clas" (did you mean "class"?)' in problems
    assert 'unknown key "epoch_per_task" in [budget] (did you mean "epochs_per_task"?)' in problems
    assert 'unknown backbone "small_cn" (did you mean "small_cnn"?)' in problems
    scenarios_line = text.splitlines().index("scenarios = ['clas']") + 1
    assert f"{path}:{scenarios_line}: unknown scenario" in problems
    assert len(info.value.problems) >= 4  # also: missing epochs_per_task


def test_unknown_suite_name_suggests_the_close_one():
    with pytest.raises(ConfigError, match='did you mean "quickstart"'):
        load_suite("quickstar")


def test_mismatched_scenario_shapes_are_refused(tmp_path):
    path = write_tiny_suite(tmp_path)
    text = path.read_text().replace("classes = [4, 5, 6, 7]\nnum_tasks = 2",
                                    "classes = [4, 5, 6, 7]\nnum_tasks = 4")
    path.write_text(text)
    with pytest.raises(ConfigError, match="same number of tasks"):
        load_suite(path)


def test_missing_dataset_fails_before_any_run_with_one_line(tmp_path, capsys):
    path = write_tiny_suite(tmp_path)
    path.write_text(path.read_text().replace('dataset = "textures"\nclasses = [0',
                                             'dataset = "cifar100"\nclasses = [0'))
    code = main(["evaluate", "--suite", str(path), "--store", str(tmp_path / "r.db"), "naive"])
    err = capsys.readouterr().err
    assert code == 2
    assert "harness data import cifar100" in err
    assert "Traceback" not in err
    assert not (tmp_path / "r.db").exists() or "runs" not in err


def test_malformed_toml_is_one_line_with_exit_code_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("name = 'x'\nscenarios = [\n")
    assert main(["evaluate", "--suite", str(path)]) == 2
    err = capsys.readouterr().err
    assert "invalid TOML" in err and "Traceback" not in err


def test_restricting_to_one_scenario_and_rejecting_an_unknown_one():
    from harness.suite import restrict_scenarios

    suite = load_suite("split-mnist")
    assert restrict_scenarios(suite, ["class"]).scenarios == (Scenario.CLASS,)
    assert restrict_scenarios(suite, None) is suite
    with pytest.raises(ConfigError, match='no scenario "clas" \\(did you mean "class"\\?\\)'):
        restrict_scenarios(suite, ["clas"])
