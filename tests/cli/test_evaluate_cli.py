"""`harness evaluate` refuses values the workers would fail on, before any run is stored."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

import harness.cli as cli
from harness.errors import UserError
from harness.store import Store
from tests.conftest import make_method, write_tiny_suite


def _evaluate(tmp_path, *args: str) -> list[str]:
    return ["evaluate", "--suite", str(write_tiny_suite(tmp_path)),
            "--store", str(tmp_path / "r.db"), *args]


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--trials", "0", "must be at least 1, got 0"),
    ("--seeds", "-2", "must be at least 1, got -2"),
    ("--jobs", "two", "'two' is not a whole number"),
])
def test_counts_below_one_are_refused_by_the_parser(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(_evaluate(tmp_path, flag, value))
    assert exit_.value.code == 2
    assert f"argument {flag}: {message}" in capsys.readouterr().err


@pytest.mark.parametrize(("device", "message"), [
    ("gpu", "'gpu' is not a torch device; use cpu, cuda or cuda:N"),
    ("meta", "the harness runs on cpu or cuda devices"),
])
def test_a_device_the_workers_cannot_use_fails_before_any_run(tmp_path, capsys, device,
                                                               message):
    method = make_method(tmp_path / "methods", "steady")
    assert cli.main(_evaluate(tmp_path, str(method), "--device", device)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.db").exists() or _runs(tmp_path / "r.db") == 0


@pytest.mark.skipif(subprocess.run([sys.executable, "-c", "import torch, sys; "
                                    "sys.exit(torch.cuda.is_available())"]).returncode != 0,
                    reason="this machine has a CUDA device")
def test_cuda_on_a_machine_without_one_is_refused_unless_ray_places_the_runs(tmp_path, capsys):
    from harness.cli.arguments import check_device

    method = make_method(tmp_path / "methods", "steady")
    assert cli.main(_evaluate(tmp_path, str(method), "--device", "cuda")) == 2
    assert "no CUDA device is visible on this machine" in capsys.readouterr().err
    check_device("cuda:1", local=False)  # a Ray cluster's workers may have GPUs: not refused


def test_two_folders_with_one_name_are_refused(tmp_path, capsys):
    """A copied baseline not renamed yet: both would share run keys and tuning decisions."""
    first = make_method(tmp_path / "a", "steady")
    second = make_method(tmp_path / "b", "steady")
    assert cli.main(_evaluate(tmp_path, str(first), str(second))) == 2
    err = capsys.readouterr().err
    assert "are both named 'steady'; give each its own name" in err
    assert str(first) in err and str(second) in err
    from harness.evaluation import evaluate
    from harness.submission import load_submission
    from harness.suite import load_suite

    with Store(tmp_path / "api.db") as store, pytest.raises(UserError, match="both named"):
        evaluate(load_suite(write_tiny_suite(tmp_path)),
                 [load_submission(first), load_submission(second)], store)


def _runs(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def test_scenario_on_a_time_to_result_suite_is_refused(tmp_path, capsys):
    """`--scenario glyph-mlp` on ttr-quick was ignored: all ten workloads ran."""
    code = cli.main(["evaluate", "--suite", "ttr-quick", "--scenario", "glyph-mlp",
                     "--store", str(tmp_path / "r.db"), "nadamw"])
    assert code == 2
    assert "ttr-quick is a time-to-result suite" in capsys.readouterr().err
    assert not (tmp_path / "r.db").exists() or _runs(tmp_path / "r.db") == 0
