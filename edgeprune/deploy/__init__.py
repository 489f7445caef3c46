"""Deploy: a static web bundle (onnxruntime-web) or a device bundle (needs only onnxruntime + numpy)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError

# kind -> (module, function(model_path, out, **options) -> Path)
TARGETS = {
    "web": ("edgeprune.deploy.web", "deploy_web"),
    "device": ("edgeprune.deploy.device", "deploy_device"),
}


def deploy(kind: str, model: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Path:
    """Package ``model`` (checkpoint or ONNX) for ``kind`` (web or device) under ``out``."""
    if kind not in TARGETS:
        raise ConfigError(f"deploy target {kind!r} is not one of {sorted(TARGETS)}")
    module, func = TARGETS[kind]
    return getattr(importlib.import_module(module), func)(Path(model), Path(out), **options)
