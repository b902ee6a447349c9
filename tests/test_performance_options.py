"""The `[performance]` table of suite files (continual, stream, time-to-result): defaults,
validation, and its place in run keys."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.performance_options import PerformanceOptions
from harness.protocol import evaluation_specs, tuning_specs
from harness.runner.performance import AUTOCAST_DTYPES
from harness.submission import load_submission
from harness.suite import load_suite
from tests.conftest import REPO, write_tiny_suite
from tests.nevis.conftest import write_stream
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


ALL_ON = ('channels_last = true\ncompile = true\ncompile_backend = "aot_eager"\n'
          'autocast = "bfloat16"\npin_memory = true\n')


def test_stream_suites_take_every_option_pin_memory_included(tmp_path):
    # A stream worker copies each task's splits to the device inside the run, as a continual
    # worker does: pinning applies.
    options = load_suite(write_stream(tmp_path, extra="\n[performance]\n" + ALL_ON)).performance
    assert options == PerformanceOptions(channels_last=True, compile=True,
                                         compile_backend="aot_eager", autocast="bfloat16",
                                         pin_memory=True)
    assert load_suite(write_stream(tmp_path)).performance == PerformanceOptions()
    assert load_suite("nevis-mini").performance == PerformanceOptions()


def test_a_stream_suite_reports_bad_options_as_a_continual_suite_does(tmp_path):
    table = ('channels_last = "yes"\nautocast = "float16"\ncompile_backend = "aot_eager"\n'
             'compiled = true\n')
    stream = write_stream(tmp_path, extra="\n[performance]\n" + table)
    with pytest.raises(ConfigError) as info:
        load_suite(stream)
    continual = with_table(write_tiny_suite(tmp_path), table)
    with pytest.raises(ConfigError) as expected:
        load_suite(continual)
    problems = info.value.problems
    assert len(problems) == 4 and all("\n" not in p for p in problems)
    # The same one-line problems, each at its line of the stream's file.
    assert [p.split(": ", 1)[1] for p in problems] == \
        [p.split(": ", 1)[1] for p in expected.value.problems]
    line = stream.read_text().splitlines().index('autocast = "float16"') + 1
    assert f"{stream}:{line}: " in "\n".join(problems)


def test_turning_a_stream_option_on_gives_every_stream_run_a_new_key(tmp_path):
    off = load_suite(write_stream(tmp_path))
    on = load_suite(write_stream(tmp_path, extra="\n[performance]\nchannels_last = true\n"))
    assert on.version != off.version
    sub = load_submission(REPO / "submissions" / "nevis-finetune")
    keys = [{s.key for s in evaluation_specs(suite, "test-stream", sub, {}, 2)
             + tuning_specs(suite, "dev-stream", sub, 2)} for suite in (off, on)]
    assert len(keys[0]) == len(keys[1]) == 4 and not keys[0] & keys[1]
