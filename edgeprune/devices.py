"""Pick the compute device: CUDA when present and asked for (or on auto), the CPU otherwise."""

from __future__ import annotations

import torch

from edgeprune.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Map ``auto|cpu|cuda|cuda:N`` to a torch.device, with a clear error when CUDA is absent."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name}: no CUDA GPU is visible", hint="use device cpu or auto", params=("device",))
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"device {name!r} is not a device", hint="use auto, cpu or cuda", params=("device",)) from e
