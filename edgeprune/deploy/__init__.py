"""Deploy: a static web bundle (onnxruntime-web) or a device bundle (needs only onnxruntime + numpy).

    from edgeprune.deploy import deploy
    result = deploy("runs/a/export/model.sim.onnx", "bundle.tar.gz", "device", target="linux-aarch64")
    result.model_sha256  # the sha256 of the model file the bundle ships, as its manifest records it
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from edgeprune.deploy.config import CONFIGS, DeployConfig, DeployResult, DeviceDeployConfig, WebDeployConfig
from edgeprune.errors import ConfigError, ModelError, first_line

__all__ = ["CONFIGS", "DeployConfig", "DeployResult", "DeviceDeployConfig", "WebDeployConfig", "deploy"]

MODEL_SUFFIXES = (".safetensors", ".onnx")


def deploy(model: str | os.PathLike[str], out: str | os.PathLike[str], kind_or_config: str | DeployConfig,
           **options: Any) -> DeployResult:
    """Package ``model`` (checkpoint or ONNX) under ``out`` for a target: its name (``web``, ``device``) with
    keyword ``options``, or a :class:`DeployConfig` (``options`` then override its fields).

    The order is export's: the model, where the result goes, then the config.
    """
    config = DeployConfig.of(kind_or_config, **options)
    module, func = config.handler
    return getattr(importlib.import_module(module), func)(Path(model), Path(out), config)


def config_of(cls: type[DeployConfig], config: DeployConfig | None, options: dict[str, Any]) -> DeployConfig:
    """The ``cls`` config a target function was called with: ``config``, keyword ``options``, or both."""
    if config is not None and not isinstance(config, cls):
        raise ConfigError(f"config must be a {cls.__name__}, got {type(config).__name__}", params=("config",))
    return DeployConfig.of(config if config is not None else cls.kind, **options)


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
