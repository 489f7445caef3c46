"""The Python API: the whole pipeline in a few lines (this example is run by tests/test_api.py).

    import edgeprune as ep
    data = ep.load_data("digits")
    model = ep.create_model("vgg11_bn", data=data, width=0.25)
    ep.fit(model, data, epochs=2, out="runs/api/base")  # the best epoch: runs/api/base/model.safetensors
    ep.prune(model, "obd", data, target_macs=0.25, finetune_epochs=1, out="runs/api/obd")  # a new, smaller model
    ep.export_model("runs/api/obd/model.safetensors", "runs/api/obd/export", data=data)  # ONNX + IR, parity-checked
    report = ep.benchmark(["runs/api/obd/model.safetensors"], baseline="runs/api/base/model.safetensors",
                          exports={"runs/api/obd/model.safetensors": "runs/api/obd/export"}, backends=["ort"])
    print(report.rows[-1].speedup_vs_baseline)  # measured on the exported, parity-checked ONNX file
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from edgeprune.data import DataBundle, load_data
from edgeprune.models import (
    count_macs,
    count_params,
    layer_widths,
    list_models,
    load_checkpoint,
    save_checkpoint,
    spec_of,
)
from edgeprune.train import TrainConfig
from edgeprune.train_run import create_model, evaluate, fit

if TYPE_CHECKING:
    from edgeprune.bench.rows import BenchReport
    from edgeprune.deploy.config import DeployConfig, DeployResult
    from edgeprune.export.config import ExportConfig
    from edgeprune.export.result import ExportResult

# Verbs whose natural name is a stage package (export, bench, deploy, train) carry a suffix so that
# importing that package can never shadow the function on ``edgeprune``.
__all__ = ["TrainConfig", "benchmark", "create_model", "deploy_model", "evaluate", "export_model", "fit", "list_models", "load",
           "load_data", "model_info", "prune", "save"]


def load(path: str | os.PathLike[str], device: str = "cpu") -> nn.Module:
    """Load an edgeprune checkpoint (safetensors + JSON spec; nothing is unpickled)."""
    return load_checkpoint(path, device=device)


def save(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Save a model built or loaded by edgeprune as a safe checkpoint."""
    return save_checkpoint(model, path)


def model_info(model_or_path: nn.Module | str | os.PathLike[str]) -> dict[str, Any]:
    """Params, MACs, per-layer widths (and file size for a path) of a checkpoint or model."""
    size = None
    if not isinstance(model_or_path, nn.Module):
        size = Path(model_or_path).stat().st_size if Path(model_or_path).exists() else None
        model = load(model_or_path)
    else:
        model = model_or_path
    spec = spec_of(model)
    return {
        "name": spec.name,
        "input_shape": list(spec.input_shape),
        "classes": len(spec.labels),
        "params": count_params(model),
        "macs": count_macs(model, spec.input_shape),
        "file_bytes": size,
        "layers": [dataclasses.asdict(w) for w in layer_widths(model)],
        "provenance": spec.provenance,
    }


def prune(model: nn.Module, method: str, data: DataBundle, **kwargs: Any) -> nn.Module:
    """Prune structurally with a named method (see ``edgeprune list methods``); returns a smaller model."""
    from edgeprune.pruning import prune as _prune

    return _prune(model, method=method, data=data, **kwargs)


def export_model(model: nn.Module | str | os.PathLike[str], out: str | os.PathLike[str],
                 config: ExportConfig | None = None, **kwargs: Any) -> ExportResult:
    """Export to ONNX (simplified), OpenVINO IR and optionally INT8, with parity checks; export.json as a result."""
    from edgeprune.export import export as _export

    return _export(model, out, config, **kwargs)


def benchmark(models: list[str | os.PathLike[str]], **kwargs: Any) -> BenchReport:
    """Benchmark models on CPU backends (and browsers/devices), with speedups against a baseline."""
    from edgeprune.bench import bench as _bench

    return _bench(models, **kwargs)


def deploy_model(kind_or_config: str | DeployConfig, model: str | os.PathLike[str], out: str | os.PathLike[str],
                 **kwargs: Any) -> DeployResult:
    """Package a model for the web (static site) or a device (tar bundle needing only onnxruntime)."""
    from edgeprune.deploy import deploy as _deploy

    return _deploy(kind_or_config, model, out, **kwargs)

