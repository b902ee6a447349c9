"""The speed options a suite may turn on: its `[performance]` table.

```toml
[performance]
channels_last = false        # convolution weights in NHWC (tensor cores, oneDNN)
compile = false              # torch.compile the fixed network; compile time reported apart
compile_backend = "inductor" # or "aot_eager": traces without generating code (no C compiler)
autocast = "float32"         # or "bfloat16": the learner's / algorithm's calls in bf16 autocast
pin_memory = false           # continual and stream suites: host→device copies, page-locked
```

All off by default, so a suite without the table runs as it always has. `harness.runner.
performance` says what each buys and how the workers apply it. The options change a run's
numbers (its times, and with bf16 its accuracy too), so they belong to what a run key hashes:
they do, because the key contains the suite version, which is the hash of the whole suite file
(`harness.suite`), table included — turning an option on gives every run a new key, and stored
results of the other setting are never mixed in or skipped as done.

Who accepts which keys: continual suites (`harness.suite`) and NEVIS-like stream suites
(`harness.nevis.stream`) take all five; time-to-result suites (`harness.ttr_suite`) all but
`pin_memory`. `pin_memory` matters where a worker copies data to the device inside the run: a
continual worker copies each task's images when the task starts, and a stream worker does the
same per task (its training and dev splits when the task starts, its scored inputs right after
learning it; a stream is far too large to put on the device at once). A time-to-result worker
copies its data once before the submission clock starts, where pinning buys nothing, so its
suites reject the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from harness.configfile import Problems

AUTOCAST_CHOICES = ("float32", "bfloat16")
COMPILE_BACKENDS = ("inductor", "aot_eager")
CONTINUAL_KEYS = ("channels_last", "compile", "compile_backend", "autocast", "pin_memory")
STREAM_KEYS = CONTINUAL_KEYS  # per-task copies inside the run, as a continual worker's
TTR_KEYS = ("channels_last", "compile", "compile_backend", "autocast")


@dataclass(frozen=True)
class PerformanceOptions:
    """One suite's speed options (see the module docstring); the defaults change nothing."""

    channels_last: bool = False
    compile: bool = False
    compile_backend: Literal["inductor", "aot_eager"] = "inductor"
    autocast: Literal["float32", "bfloat16"] = "float32"
    pin_memory: bool = False

    @property
    def prepares_model(self) -> bool:
        """Whether the model needs `harness.runner.performance.prepare_model` at all."""
        return self.channels_last or self.compile

    def to_payload(self) -> dict[str, Any]:
        """The options as the worker's job file carries them."""
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any] | None) -> PerformanceOptions:
        """The options from a job file; a job without them (older callers) gets the defaults."""
        return cls(**payload) if payload else cls()


def parse_performance(data: dict[str, Any], problems: Problems,
                      allowed: tuple[str, ...]) -> PerformanceOptions:
    """The `[performance]` table of a suite file (defaults when absent); problems recorded."""
    if "performance" not in data:
        return PerformanceOptions()
    table = problems.check_type(data, "performance", dict, "the suite")
    if table is None:
        return PerformanceOptions()
    where = "[performance]"
    problems.unknown_keys(table, allowed, where)
    values: dict[str, Any] = {}
    for key in ("channels_last", "compile", "pin_memory"):
        if key in table and key in allowed and problems.check_type(table, key, bool, where) \
                is not None:
            values[key] = table[key]
    for key, choices in (("autocast", AUTOCAST_CHOICES), ("compile_backend", COMPILE_BACKENDS)):
        if key not in table:
            continue
        value = table[key]
        if value in choices:
            values[key] = value
        else:
            quoted = " or ".join(f'"{c}"' for c in choices)
            problems.add(f'"{key}" in {where} must be {quoted}, got {value!r}', key=key)
    if "compile_backend" in table and table.get("compile") is not True:
        problems.add(f'"compile_backend" in {where} has no effect without compile = true',
                     key="compile_backend")
    return PerformanceOptions(**values)
