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
