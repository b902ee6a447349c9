"""The hardware fingerprint stored with every run (DESIGN §5)."""

from __future__ import annotations

import os
import platform
from functools import cache
from typing import Any

import torch


@cache
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware_fingerprint(device: torch.device) -> dict[str, Any]:
    """CPU model and count, GPU model and count, torch and CUDA versions, and the device used."""
    gpu_count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu_model": torch.cuda.get_device_name(0) if gpu_count else None,
        "gpu_count": gpu_count,
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
    }
