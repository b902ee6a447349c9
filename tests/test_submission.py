"""Method folders: metadata schema, static checks, the import check, content hash, discovery."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.errors import ConfigError, UserError
from harness.search_space import SearchSpace
from harness.submission import (
    ApiKind,
    Ruleset,
    content_hash,
    discover_submissions,
    import_problems,
    load_submission,
    static_problems,
    validate_submission,
)

TOML = """\
name = "my_method"
description = "A test method."
authors = ["A. Author", "B. Author"]
url = "https://example.org/paper"
license = "MIT"
api = "continual"
suites = ["quickstart", "split-cifar"]
ruleset = "external-tuning"
"""

CODE = """\
import torch

from harness.api import ContinualLearner


class Learner(ContinualLearner):
    def __init__(self, ctx, hparams):
        super().__init__(ctx, hparams)

    def learn(self, task, data):
        for _ in data:
            pass

    def predict(self, x, task=None):
        return torch.zeros(len(x), self.ctx.num_outputs)
"""

SPACE = '{\n  "lr": {"min": 1e-4, "max": 1e-2, "scaling": "log"}\n}\n'


def make_folder(root: Path, toml: str | None = TOML, code: str | None = CODE,
                space: str | None = SPACE, name: str = "my_method") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for filename, text in (("submission.toml", toml), ("submission.py", code),
                           ("search_space.json", space)):
        if text is not None:
            (folder / filename).write_text(textwrap.dedent(text))
    return folder


def test_valid_folder_loads(tmp_path):
    folder = make_folder(tmp_path)
    assert validate_submission(folder) == []
    submission = load_submission(folder)
    meta = submission.meta
    assert (meta.name, meta.api, meta.ruleset) == ("my_method", ApiKind.CONTINUAL,
                                                   Ruleset.EXTERNAL_TUNING)
    assert meta.authors == ("A. Author", "B. Author") and meta.continual is True
    assert isinstance(submission.search_space, SearchSpace)
    assert submission.search_space.names == ("lr",)
    assert submission.content_hash == content_hash(folder) and len(submission.content_hash) == 64
    assert submission.targets("quickstart") and not submission.targets("nevis")
    assert not submission.targets("quickstart", api=ApiKind.TRAINING_ALGORITHM)
    assert json.loads(json.dumps(meta.to_json()))["api"] == "continual"


def test_star_targets_every_suite_of_the_api_kind(tmp_path):
    folder = make_folder(tmp_path, toml=TOML.replace('["quickstart", "split-cifar"]', '["*"]'))
    submission = load_submission(folder)
    assert submission.targets("anything") and submission.targets("x", api=ApiKind.CONTINUAL)
    assert not submission.targets("x", api=ApiKind.TRAINING_ALGORITHM)


def test_missing_files_are_all_reported(tmp_path):
    folder = make_folder(tmp_path, toml=None, code=None)
    problems = static_problems(folder)
    assert len(problems) == 2
    assert problems[0].startswith(f"{folder / 'submission.toml'}: file not found")
    assert problems[1].startswith(f"{folder / 'submission.py'}: file not found")
    assert static_problems(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: no such folder"]


def test_every_schema_and_code_problem_is_reported_at_once(tmp_path):
    toml = (TOML.replace('license = "MIT"', 'licence = "MIT"')
            .replace('api = "continual"', 'api = "continous"')
            .replace('name = "my_method"', 'name = "My Method"'))
    code = CODE.replace("def predict(self, x, task=None):", "def predict(self, x, task=None)")
    space = '{\n  "lr": {"min": 1e-2, "max": 1e-4, "scaling": "log"}\n}\n'
    folder = make_folder(tmp_path, toml=toml, code=code, space=space)
    problems = static_problems(folder)
    toml_path, code_path = folder / "submission.toml", folder / "submission.py"
    assert len(problems) == 5, problems
    assert problems[0].startswith(f"{toml_path}:5: unknown key \"licence\"")
    assert '(did you mean "license"?)' in problems[0]
    assert problems[1].startswith(f"{toml_path}:1: \"name\" must match")
    assert problems[2].startswith(f"{toml_path}:6: \"api\" must be one of")
    assert '(did you mean "continual"?)' in problems[2]
    assert problems[3].startswith(f"{folder / 'search_space.json'}:2: ")
    assert "min < max" in problems[3]
    assert problems[4].startswith(f"{code_path}:14: SyntaxError")
    with pytest.raises(ConfigError) as info:
        load_submission(folder)
    assert info.value.problems == problems


def test_missing_required_keys_and_wrong_types(tmp_path):
    toml = 'name = "x"\nauthors = []\nsuites = "quickstart"\ncontinual = "no"\n'
    problems = static_problems(make_folder(tmp_path, toml=toml))
    text = "\n".join(problems)
    for expected in ('missing required key "description"', '"authors" must be a non-empty list',
                     '"suites" in submission.toml must be list', 'missing required key "api"',
                     'missing required key "ruleset"', '"continual" in submission.toml must be '
                     'bool'):
        assert expected in text, text


def test_toml_syntax_error_has_its_line_and_code_is_still_checked(tmp_path):
    toml = TOML.replace('license = "MIT"', "license = MIT")
    code = "import torch\n\nclass NotALearner:\n    pass\n"
    folder = make_folder(tmp_path, toml=toml, code=code)
    problems = static_problems(folder)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{folder / 'submission.toml'}:5: invalid TOML")
    assert "no class `Learner` found" in problems[1]


def test_learner_without_predict_is_reported_with_its_line(tmp_path):
    code = CODE.split("    def predict")[0]
    problems = static_problems(make_folder(tmp_path, code=code))
    assert problems == [f"{tmp_path / 'my_method' / 'submission.py'}:6: class `Learner` has no "
                        "method `predict`; implement `predict` (see "
                        "harness.api.ContinualLearner.predict)"]


def test_methods_inherited_from_a_base_in_the_same_file_count(tmp_path):
    code = CODE.replace("class Learner(ContinualLearner):", "class Base(ContinualLearner):")
    code += "\n\nclass Learner(Base):\n    pass\n"
    assert static_problems(make_folder(tmp_path, code=code)) == []
    # A base from elsewhere cannot be checked statically; the import check decides.
    code = "from somewhere import Base\n" + code.split("class Base")[0] + "class Learner(Base):\n"
    assert static_problems(make_folder(tmp_path, code=code + "    pass\n", name="other")) == []


def test_ruleset_and_search_space_must_agree(tmp_path):
    external = make_folder(tmp_path, space=None, name="external")
    problems = static_problems(external)
    assert len(problems) == 1
    assert problems[0].startswith(f"{external / 'submission.toml'}:8: ruleset = "
                                  '"external-tuning" needs')
    self_tuning = make_folder(tmp_path, name="self_tuning", toml=TOML.replace(
        "external-tuning", "self-tuning"))
    problems = static_problems(self_tuning)
    assert len(problems) == 1 and 'ruleset = "self-tuning" must have no' in problems[0]
    (self_tuning / "search_space.json").unlink()
    assert load_submission(self_tuning).search_space is None


def test_learner_not_subclassing_the_api_fails_the_import_check(tmp_path):
    code = CODE.replace("class Learner(ContinualLearner):", "class Learner:")
    folder = make_folder(tmp_path, code=code)
    assert static_problems(folder) == []
    problems = validate_submission(folder)
    assert problems == [f"{folder / 'submission.py'}:6: `Learner` must subclass "
                        "harness.api.ContinualLearner (`from harness.api import "
                        "ContinualLearner`)"]


def test_import_error_is_reported_at_the_line_in_submission_py(tmp_path):
    code = CODE.replace("import torch\n", "import torch\nprint('hello')\nSCALE = 1 / 0\n")
    folder = make_folder(tmp_path, code=code)
    problems = import_problems(folder)
    assert len(problems) == 1
    assert problems[0].startswith(f"{folder / 'submission.py'}:3: ImportError: ")
    assert "ZeroDivisionError: division by zero" in problems[0]


def test_missing_module_is_reported(tmp_path):
    folder = make_folder(tmp_path, code="import not_a_real_module_xyz\n" + CODE)
    problems = import_problems(folder)
    assert len(problems) == 1 and ":1: ImportError:" in problems[0]
    assert "not_a_real_module_xyz" in problems[0]



def test_importing_harness_internals_is_a_problem(tmp_path):
    """README and api.py say harness.api is the only harness module a submission may import;
    validate said "ok" to one importing the state audit."""
    code = CODE.replace("import torch\n", "import torch\nimport harness.runner.audit\n")
    problems = import_problems(make_folder(tmp_path, code=code))
    assert len(problems) == 1 and "imports harness.runner.audit" in problems[0]
    assert "only harness.api" in problems[0]
    assert import_problems(make_folder(tmp_path / "clean")) == []

def test_signatures_that_cannot_take_the_documented_arguments(tmp_path):
    code = CODE.replace("def predict(self, x, task=None):", "def predict(self, x):").replace(
        "def learn(self, task, data):", "def learn(self, task, data, extra):")
    problems = import_problems(make_folder(tmp_path, code=code))
    assert len(problems) == 2, problems
    assert ":10: `Learner.learn" in problems[0] and "learn(self, task, data)" in problems[0]
    assert ":14: `Learner.predict" in problems[1] and "predict(self, x, task)" in problems[1]


def test_import_that_hangs_times_out(tmp_path):
    folder = make_folder(tmp_path, code="import time\ntime.sleep(600)\n" + CODE)
    problems = import_problems(folder, timeout_s=4)
    assert problems == [f"{folder / 'submission.py'}: importing submission.py took longer than "
                        "4 s; do no work at import time (build models in Learner.__init__)"]


def test_validate_skips_the_import_when_static_checks_fail(tmp_path):
    folder = make_folder(tmp_path, space=None, code="raise SystemExit(3)\n" + CODE)
    problems = validate_submission(folder)
    assert len(problems) == 1 and "needs" in problems[0]


def test_content_hash_is_stable_and_tracks_content(tmp_path):
    folder = make_folder(tmp_path)
    first = content_hash(folder)
    assert content_hash(folder) == first
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "submission.cpython-311.pyc").write_bytes(b"\0junk")
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / "stray.pyc").write_bytes(b"junk")
    assert content_hash(folder) == first
    (folder / "submission.py").write_text(CODE + "\n# edited\n")
    edited = content_hash(folder)
    assert edited != first
    (folder / "helpers").mkdir()
    (folder / "helpers" / "util.py").write_text("X = 1\n")
    assert content_hash(folder) != edited
    (folder / "helpers" / "util.py").rename(folder / "helpers" / "other.py")
    assert content_hash(folder) not in (first, edited)


def test_discovery_is_sorted_and_skips_private_and_non_method_folders(tmp_path):
    for name in ("zeta", "alpha", "_template", ".hidden"):
        make_folder(tmp_path, name=name)
    (tmp_path / "notes").mkdir()
    (tmp_path / "file.txt").write_text("x")
    assert discover_submissions(tmp_path) == [tmp_path / "alpha", tmp_path / "zeta"]
    with pytest.raises(UserError, match="no such folder"):
        discover_submissions(tmp_path / "missing")


def test_a_training_algorithm_that_refuses_its_search_space_fails_validate(tmp_path):
    """An optimizer template copy whose search space names `lr` (its code knows
    `learning_rate`) passed validate, then failed all ten ttr-quick runs."""
    import shutil

    folder = tmp_path / "opt"
    shutil.copytree(Path(__file__).resolve().parent.parent / "submissions" / "_template_optimizer",
                    folder)
    assert import_problems(folder) == []
    (folder / "search_space.json").write_text('{"lr": {"min": 1e-4, "max": 1e-2, '
                                              '"scaling": "log"}}')
    (problem,) = import_problems(folder)
    assert "Algorithm(hparams) with search_space.json's centre" in problem
    assert "unknown hyperparameters ['lr']" in problem
