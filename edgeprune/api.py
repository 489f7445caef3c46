"""The Python API: the whole pipeline in a few lines (this example is run by tests/test_api.py).

    import edgeprune as ep
    data = ep.load_data("digits")
    base = ep.fit(ep.create_model("vgg11_bn", data=data, width=0.25), data, ep.TrainConfig(epochs=2), out="runs/api/base")
    small = ep.prune(base.checkpoint, ep.PruneConfig(method="obd", target_macs=0.25, finetune_epochs=1), data, out="runs/api/obd")
    shipped = ep.export_model(small.checkpoint, "runs/api/obd/export", ep.ExportConfig(formats=["onnx"]), data=data)
    report = ep.benchmark([small.checkpoint], ep.BenchConfig(backends=["ort"]), baseline=base.checkpoint)
    print(report.rows[-1].speedup_vs_baseline)  # measured on shipped.verified()["onnx"], the parity-checked file

Every verb takes the model (a module or a checkpoint path) first and a typed config that checks itself
when built (prune also takes a method name with keyword options, deploy a target name); ``out`` and
every other option after them are keywords, except where the verb's job is to write there (export,
deploy: ``(model, out, config)``). Each returns a result type with ``to_dict()`` / ``from_dict()``:
FitResult, PruneResult, ExportResult, BenchReport, DeployResult, ModelInfo, EvalResult.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.bench.config import BenchConfig
from edgeprune.bench.rows import BenchReport
from edgeprune.data import DataBundle, load_data
from edgeprune.deploy.config import DeployConfig, DeployResult
from edgeprune.export.config import ExportConfig
from edgeprune.export.result import ExportResult
from edgeprune.models import list_models, load_checkpoint, save_checkpoint, spec_of
from edgeprune.models.info import ModelInfo, model_info
from edgeprune.pruning.config import PruneConfig
from edgeprune.pruning.result import PruneResult
from edgeprune.train import TrainConfig
from edgeprune.train_run import EvalResult, FitResult, create_model, evaluate
from edgeprune.train_run import fit as _fit

# Verbs whose natural name is a stage package (export, bench, deploy, train) carry a suffix so that
# importing that package can never shadow the function on ``edgeprune``.
__all__ = ["BenchConfig", "BenchReport", "DeployConfig", "DeployResult", "EvalResult", "ExportConfig", "ExportResult",
           "FitResult", "ModelInfo", "PruneConfig", "PruneResult", "TrainConfig", "benchmark", "create_model",
           "deploy_model", "evaluate", "export_model", "fit", "list_models", "load", "load_data", "model_info",
           "prune", "save"]


def load(path: str | os.PathLike[str], device: str = "cpu") -> nn.Module:
    """Load an edgeprune checkpoint (safetensors + JSON spec; nothing is unpickled)."""
    return load_checkpoint(path, device=device)


def save(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Save a model built or loaded by edgeprune as a safe checkpoint."""
    return save_checkpoint(model, path)


def fit(model_or_path: nn.Module | str | os.PathLike[str], data: DataBundle, config: TrainConfig | None = None, *,
        out: str | os.PathLike[str] | None = None, regularizer=None, **overrides: Any) -> FitResult:
    """Train a model (or a checkpoint's) in place, best validation epoch kept; a :class:`FitResult` (``.model``)."""
    model = model_or_path if isinstance(model_or_path, nn.Module) else load(model_or_path)
    return _fit(model, data, config, out=out, regularizer=regularizer, **overrides)


def prune(model_or_path: nn.Module | str | os.PathLike[str], config: PruneConfig | str, data: DataBundle | None = None,
          *, out: str | os.PathLike[str] | None = None, **kwargs: Any) -> PruneResult:
    """Prune structurally with a :class:`PruneConfig` or a method name and its options (``edgeprune list methods``);
    a :class:`PruneResult` whose ``.model`` is the smaller network."""
    from edgeprune.pruning import prune as _prune

    return _prune(model_or_path, config, data, out=out, **kwargs)


def export_model(model: nn.Module | str | os.PathLike[str], out: str | os.PathLike[str],
                 config: ExportConfig | None = None, **kwargs: Any) -> ExportResult:
    """Export to ONNX (simplified), OpenVINO IR and optionally INT8, with parity checks; export.json as a result."""
    from edgeprune.export import export as _export

    return _export(model, out, config, **kwargs)


def benchmark(models: nn.Module | str | os.PathLike[str] | list[nn.Module | str | os.PathLike[str]],
              config: BenchConfig | None = None, **kwargs: Any) -> BenchReport:
    """Benchmark models (modules or files) on CPU backends (and browsers/devices), with speedups against a baseline.

    ``config`` is a :class:`edgeprune.bench.config.BenchConfig`; keyword arguments are its fields and those of
    :func:`edgeprune.bench.bench` (``baseline``, ``exports``, ``data``, ``out``). A module, as a model or as
    ``baseline``, is saved to a temporary checkpoint first (rows then name that file).
    """
    import tempfile

    from edgeprune.bench import bench as _bench

    items = list(models) if isinstance(models, (list, tuple)) else [models]
    with tempfile.TemporaryDirectory(prefix="edgeprune-benchmark-") as tmp:
        def path_of(m: Any, tag: str) -> Any:
            if not isinstance(m, nn.Module):
                return m
            folder = Path(tmp) / f"{spec_of(m).name}-{tag}"  # the rows' variant: "vgg11_bn-0/model"
            folder.mkdir()
            return save_checkpoint(m, folder / "model.safetensors")

        if isinstance(kwargs.get("baseline"), nn.Module):
            kwargs["baseline"] = path_of(kwargs["baseline"], "base")
        return _bench([path_of(m, str(i)) for i, m in enumerate(items)], config, **kwargs)


def deploy_model(model: str | os.PathLike[str], out: str | os.PathLike[str], config: str | DeployConfig,
                 **kwargs: Any) -> DeployResult:
    """Package a model for the web (static site) or a device (tar bundle needing only onnxruntime)."""
    from edgeprune.deploy import deploy as _deploy

    return _deploy(model, out, config, **kwargs)

