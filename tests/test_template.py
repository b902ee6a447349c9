"""Every method folder shipped in submissions/ (the template included) conforms to harness.api."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.submission import load_submission, validate_submission

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"
FOLDERS = sorted(p.parent for p in SUBMISSIONS.glob("*/submission.toml"))


def test_the_template_and_the_baselines_are_shipped():
    assert {p.name for p in FOLDERS} >= {"_template", "naive", "replay", "joint"}


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_folder_passes_static_and_import_checks(folder):
    assert validate_submission(folder) == []
    assert load_submission(folder).meta.name == folder.name.lstrip("_")


def test_joint_is_flagged_as_not_continual_and_the_others_are_not():
    flags = {p.name: load_submission(p).meta.continual for p in FOLDERS}
    assert flags["joint"] is False
    assert flags["naive"] and flags["replay"] and flags["_template"]


def test_the_continual_template_refuses_a_misspelt_search_space_key():
    """With `learning_rate` in search_space.json and `hparams.get("lr", default)` in the code,
    tuning chose among seeds at one learning rate and reported a setting never used."""
    from harness.submission_check import import_submission_module

    module = import_submission_module(SUBMISSIONS / "_template")
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['learning_rate'\]"):
        module.Learner(None, {"learning_rate": 1e-3})
