"""Deploy: a static web bundle (onnxruntime-web) or a device bundle (needs only onnxruntime + numpy)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError, ModelError, first_line

MODEL_SUFFIXES = (".safetensors", ".onnx")

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


def check_model_file(model_path: Path) -> None:
    """Refuse a missing MODEL, another format, or an ONNX file that does not parse, before anything is written."""
    if not model_path.is_file():
        raise ConfigError(f"model {model_path} does not exist", hint="pass a .safetensors checkpoint or an .onnx file")
    if model_path.suffix not in MODEL_SUFFIXES:
        raise ConfigError(f"cannot deploy {model_path.name}: expected a .safetensors checkpoint or an .onnx file")
    if model_path.suffix == ".onnx":
        import onnx

        try:
            proto = onnx.load(str(model_path), load_external_data=False)
        except Exception as e:
            raise ModelError(f"model {model_path} is not a readable ONNX file ({first_line(e)})",
                             hint="is it truncated? export it again with `edgeprune export`") from None
        if not proto.graph.input or not proto.graph.output:
            raise ModelError(f"model {model_path} is not an ONNX model (no graph inputs or outputs)",
                             hint="export it again with `edgeprune export`")


def check_options(options: dict[str, Any], allowed: tuple[str, ...], kind: str) -> None:
    """Refuse keyword options ``deploy(kind, ...)`` does not take (a typo must not be ignored)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown {kind} deploy option {unknown[0]!r}",
                          hint=f"{kind} takes: {', '.join(allowed) or 'no options'}")
