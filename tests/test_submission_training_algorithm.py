"""Method folders with `api = "training-algorithm"`: the static check (a class `Algorithm` with
`batch_size`, `init` and `step`) and the import check (it subclasses
`harness.api.TrainingAlgorithm` and its methods take the arguments the harness passes)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from harness.submission import (
    ApiKind,
    import_problems,
    load_submission,
    static_problems,
    validate_submission,
)

TOML = """\
name = "my_optimizer"
description = "A test optimizer."
authors = ["A. Author"]
api = "training-algorithm"
suites = ["*"]
ruleset = "external-tuning"
"""

CODE = """\
import torch

from harness.api import TrainingAlgorithm


class Algorithm(TrainingAlgorithm):
    def batch_size(self, workload):
        return 8

    def init(self, workload, model):
        self.workload, self.model = workload, model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(self, batch, step_index):
        self.optimizer.zero_grad()
        self.workload.loss(self.model, batch).backward()
        self.optimizer.step()
"""

SPACE = '{"lr": {"min": 1e-3, "max": 1.0, "scaling": "log"}}\n'


def make_folder(root: Path, code: str = CODE, toml: str = TOML,
                name: str = "my_optimizer") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "submission.toml").write_text(toml)
    (folder / "search_space.json").write_text(SPACE)
    if code is not None:
        (folder / "submission.py").write_text(textwrap.dedent(code))
    return folder


def test_a_conforming_training_algorithm_validates_and_targets_its_api(tmp_path):
    folder = make_folder(tmp_path)
    assert validate_submission(folder) == []
    submission = load_submission(folder)
    assert submission.meta.api is ApiKind.TRAINING_ALGORITHM
    assert submission.targets("any-suite", ApiKind.TRAINING_ALGORITHM)
    assert not submission.targets("any-suite", ApiKind.CONTINUAL)


def test_static_check_wants_a_class_named_algorithm(tmp_path):
    # A continual `Learner` in a training-algorithm folder is the wrong contract.
    code = CODE.replace("class Algorithm(TrainingAlgorithm)", "class Learner(TrainingAlgorithm)")
    folder = make_folder(tmp_path, code=code)
    assert static_problems(folder) == [
        f"{folder / 'submission.py'}: no class `Algorithm` found; define "
        "`class Algorithm(TrainingAlgorithm)` at module level (see "
        "submissions/_template_optimizer/submission.py)"]


def test_static_check_reports_every_missing_method_with_the_class_line(tmp_path):
    code = CODE.split("    def init")[0]  # only batch_size is left
    folder = make_folder(tmp_path, code=code)
    path = folder / "submission.py"
    assert static_problems(folder) == [
        f"{path}:6: class `Algorithm` has no method `init`; implement `init` "
        "(see harness.api.TrainingAlgorithm.init)",
        f"{path}:6: class `Algorithm` has no method `step`; implement `step` "
        "(see harness.api.TrainingAlgorithm.step)"]


def test_static_check_follows_bases_in_the_same_file_and_defers_others(tmp_path):
    code = CODE.replace("class Algorithm(TrainingAlgorithm):", "class Base(TrainingAlgorithm):")
    code += "\n\nclass Algorithm(Base):\n    pass\n"
    assert static_problems(make_folder(tmp_path, code=code)) == []
    imported = "from helpers import Algorithm\n"
    assert static_problems(make_folder(tmp_path, code=imported, name="other")) == []


def test_missing_code_points_at_the_optimizer_template(tmp_path):
    folder = make_folder(tmp_path, code=None)
    assert static_problems(folder) == [
        f"{folder / 'submission.py'}: file not found; copy "
        "submissions/_template_optimizer/submission.py"]


def test_import_check_wants_a_subclass_of_training_algorithm(tmp_path):
    code = CODE.replace("class Algorithm(TrainingAlgorithm):", "class Algorithm:")
    folder = make_folder(tmp_path, code=code)
    assert static_problems(folder) == []
    assert import_problems(folder) == [
        f"{folder / 'submission.py'}:6: `Algorithm` must subclass harness.api.TrainingAlgorithm "
        "(`from harness.api import TrainingAlgorithm`)"]


def test_import_check_reports_every_signature_the_harness_cannot_call(tmp_path):
    code = (CODE.replace("def init(self, workload, model):", "def init(self, model):")
            .replace("def step(self, batch, step_index):", "def step(self, batch):")
            + "\n    def prepare_for_eval(self, model):\n        pass\n"
            + "\n    def select_batch(self, batch, step_index, extra):\n        return batch\n")
    folder = make_folder(tmp_path, code=code)
    problems = import_problems(folder)
    path = folder / "submission.py"
    assert len(problems) == 4, problems
    init, select, step, prepare = problems  # in the order the harness calls them
    assert init.startswith(f"{path}:10: `Algorithm.init(self, model)` cannot be called as "
                           "`init(self, workload, model)`, as the harness does")
    assert step.startswith(f"{path}:14: `Algorithm.step(self, batch)` cannot be called as "
                           "`step(self, batch, step_index)`")
    assert select.startswith(f"{path}:22: `Algorithm.select_batch(self, batch, step_index, "
                             "extra)` cannot be called")
    assert prepare.startswith(f"{path}:19: `Algorithm.prepare_for_eval(self, model)`")


def test_import_check_wants_overrides_and_a_class(tmp_path):
    # Inheriting the base's stubs passes the static check only through an unknown base.
    code = ("from harness.api import TrainingAlgorithm\n\n"
            "Base = TrainingAlgorithm\n\n\nclass Algorithm(Base):\n"
            "    def batch_size(self, workload):\n        return 8\n")
    folder = make_folder(tmp_path, code=code)
    path = folder / "submission.py"
    assert static_problems(folder) == []
    assert import_problems(folder) == [
        f"{path}:6: `Algorithm` must override `init` (see harness.api.TrainingAlgorithm.init)",
        f"{path}:6: `Algorithm` must override `step` (see harness.api.TrainingAlgorithm.step)"]
    not_a_class = make_folder(tmp_path, code="Algorithm = 3\n", name="not_a_class")
    assert import_problems(not_a_class) == [
        f"{not_a_class / 'submission.py'}: `Algorithm` must be a class, got int"]
