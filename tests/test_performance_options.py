"""The `[performance]` table of suite files: defaults, validation, and its place in run keys."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.performance_options import PerformanceOptions
from harness.runner.performance import AUTOCAST_DTYPES
from harness.suite import load_suite
from tests.conftest import write_tiny_suite
from tests.test_ttr_pipeline import TINY_TTR


def with_table(path, table: str):
    path.write_text(path.read_text() + "\n[performance]\n" + table)
    return path


def test_a_suite_without_the_table_turns_everything_off(tmp_path):
    options = load_suite(write_tiny_suite(tmp_path)).performance
    assert options == PerformanceOptions()
    assert not (options.channels_last or options.compile or options.pin_memory)
    assert options.autocast == "float32" and not options.prepares_model
    assert load_suite("quickstart").performance == PerformanceOptions()


def test_options_are_read_and_travel_to_the_worker_as_a_dict(tmp_path):
    path = with_table(write_tiny_suite(tmp_path), 'channels_last = true\ncompile = true\n'
                      'compile_backend = "aot_eager"\nautocast = "bfloat16"\npin_memory = true\n')
    options = load_suite(path).performance
    assert options == PerformanceOptions(channels_last=True, compile=True,
                                         compile_backend="aot_eager", autocast="bfloat16",
                                         pin_memory=True)
    assert PerformanceOptions.from_payload(options.to_payload()) == options
    assert PerformanceOptions.from_payload(None) == PerformanceOptions()
    assert set(AUTOCAST_DTYPES) == {"float32", "bfloat16"}  # what the worker can apply


def test_bad_values_are_one_line_each_and_reported_together(tmp_path):
    path = with_table(write_tiny_suite(tmp_path), 'channels_last = "yes"\nautocast = "float16"\n'
                      'compile_backend = "aot_eager"\ncompiled = true\n')
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    problems = info.value.problems
    assert len(problems) == 4 and all("\n" not in p for p in problems)
    text = "\n".join(problems)
    assert "\"channels_last\" in [performance] must be bool, got 'yes'" in text
    assert '"autocast" in [performance] must be "float32" or "bfloat16", got \'float16\'' in text
    assert '"compile_backend" in [performance] has no effect without compile = true' in text
    assert 'unknown key "compiled" in [performance] (did you mean "compile"?)' in text
    line = path.read_text().splitlines().index('autocast = "float16"') + 1
    assert f"{path}:{line}: " in text


def test_time_to_result_suites_take_the_options_but_not_pin_memory(tmp_path):
    path = tmp_path / "tiny-ttr.toml"
    path.write_text(TINY_TTR.replace(
        "[protocol]", '[performance]\nautocast = "bfloat16"\nchannels_last = true\n\n[protocol]'))
    assert load_suite(path).performance == PerformanceOptions(channels_last=True,
                                                              autocast="bfloat16")
    path.write_text(path.read_text().replace("channels_last = true", "pin_memory = true"))
    with pytest.raises(ConfigError, match='unknown key "pin_memory" in \\[performance\\]'):
        load_suite(path)


def test_turning_an_option_on_gives_every_run_a_new_key(tmp_path):
    # Run keys hash the suite version, which hashes the whole file, table included.
    path = write_tiny_suite(tmp_path)
    off = load_suite(path).version
    assert load_suite(with_table(path, 'autocast = "bfloat16"\n')).version != off
