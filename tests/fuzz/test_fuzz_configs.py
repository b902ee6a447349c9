"""Fuzzed method folders, search spaces and suites: each loads or fails with a ConfigError.

No other exception may escape a loader, and the CLI turns every failure into `harness: error`
lines with exit code 2, no traceback, and nothing written.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.errors import ConfigError, UserError
from harness.search_space import load_search_space
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import REPO, TINY_SUITE
from tests.fuzz.strategies import VALUES, damaged_text, mutated, toml_text

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

SUBMISSION_META = {
    "name": "naive", "description": "fine-tuning", "authors": ["a"], "api": "continual",
    "suites": ["*"], "ruleset": "external-tuning", "continual": True, "url": "https://x.org",
    "license": "MIT",
}
SEARCH_SPACE = {"lr": {"min": 1e-4, "max": 1e-2, "scaling": "log"},
                "wd": {"feasible_points": [0.0, 5e-4]}}
SUITE_TEXT = TINY_SUITE.format(scenarios=["class"], time_limit_s=60)


def cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def assert_clean_failure(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    first, *rest = err.strip().splitlines()
    assert first.startswith("harness: error: "), err
    # A ConfigError lists each problem on its own line under a one-line summary.
    assert all(line.startswith("  - ") for line in rest), err


def load_or_config_error(load, path):
    try:
        return load(path)
    except ConfigError:
        return None


class Folder:
    """A fresh method folder (copied from the naive baseline) per example."""

    def __enter__(self) -> Path:
        self.root = Path(tempfile.mkdtemp(prefix="fuzz-"))
        folder = self.root / "method"
        shutil.copytree(REPO / "submissions" / "naive", folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
        return folder

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)


@FUZZ
@given(st.one_of(mutated(SUBMISSION_META).map(toml_text),
                 damaged_text(toml_text(SUBMISSION_META))))
def test_fuzzed_submission_toml_loads_or_is_a_config_error(text):
    with Folder() as folder:
        (folder / "submission.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
        if load_or_config_error(load_submission, folder) is None:
            assert_validate_reports(folder)


def assert_validate_reports(folder: Path) -> None:
    """`harness submissions validate` prints each problem as "FILE[:LINE]: message" on stdout
    and exits 2, with no traceback."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(["submissions", "validate", "--no-import", str(folder)])
    assert "Traceback" not in out.getvalue() + err.getvalue()
    lines = out.getvalue().strip().splitlines()
    assert code == 2 and lines, out.getvalue()
    assert all(line.startswith(str(folder)) for line in lines), out.getvalue()


@FUZZ
@given(st.one_of(mutated(SEARCH_SPACE).map(json.dumps), VALUES.map(json.dumps),
                 damaged_text(json.dumps(SEARCH_SPACE, indent=1))))
def test_fuzzed_search_space_loads_or_is_a_config_error(text):
    with Folder() as folder:
        path = folder / "search_space.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        space = load_or_config_error(load_search_space, path)
        if space is not None:  # a loadable space can be sampled
            assert len(space.sample(3, seed=0)) == 3
        if load_or_config_error(load_submission, folder) is None:
            assert_validate_reports(folder)


@FUZZ
@given(st.one_of(mutated(tomllib.loads(SUITE_TEXT)).map(toml_text),
                 damaged_text(SUITE_TEXT)))
def test_fuzzed_suite_loads_or_is_a_config_error_and_the_cli_writes_nothing(text):
    root = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        path = root / "fuzzed.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        load_or_config_error(load_suite, path)
        (root / "methods").mkdir()  # empty: a valid suite stops at "no method folder"
        code, err = cli(["evaluate", "--suite", str(path), "--submissions",
                         str(root / "methods"), "--store", str(root / "r.db")])
        assert_clean_failure(code, err)
        assert not (root / "r.db").exists()  # no partial write
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_fuzz_bases_are_valid():
    """The strategies start from valid inputs, so 'loads' is reachable."""
    with Folder() as folder:
        (folder / "submission.toml").write_text(toml_text(SUBMISSION_META))
        (folder / "search_space.json").write_text(json.dumps(SEARCH_SPACE))
        assert load_submission(folder).meta.name == "naive"
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "s.toml"
        path.write_text(toml_text(tomllib.loads(SUITE_TEXT)))
        assert load_suite(path).name == "tiny"


def test_user_error_is_the_root_of_config_errors():
    assert issubclass(ConfigError, UserError)
