"""Checks of command-line values that argparse's types cannot make, before any run starts.

A mistake found only inside the workers fails every run of a campaign, and the failures are
stored: the corrected command would then skip them as "already stored, failed" unless the user
knows `--retry-failed`. So values the workers act on are checked here, in one line each.
"""

from __future__ import annotations

import argparse

from harness.errors import UserError


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (a count of trials, seeds, jobs...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def check_device(name: str, *, local: bool = True) -> None:
    """`--device` names a torch device the workers can use: "cpu", "cuda" or "cuda:N", and a
    CUDA device must exist here when the runs execute here (`local`; Ray workers may have GPUs
    the driver lacks)."""
    import torch  # the workers' own parsing; the command has imported torch already

    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"--device {name!r} is not a torch device; use cpu, cuda or "
                        "cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise UserError(f"--device {name!r}: the harness runs on cpu or cuda devices")
    if device.type == "cuda" and local:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise UserError(f"--device {name}: no CUDA device is visible on this machine; use "
                            "--device cpu, or run where a GPU is")
        if device.index is not None and device.index >= count:
            raise UserError(f"--device {name}: this machine has {count} CUDA device"
                            f"{'s' * (count != 1)} (cuda:0…cuda:{count - 1})")
