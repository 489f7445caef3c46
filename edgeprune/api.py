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
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from edgeprune.data import DataBundle, load_data
from edgeprune.models import (
    attach_spec,
    count_macs,
    count_params,
    layer_widths,
    list_models,
    load_checkpoint,
    save_checkpoint,
    spec_of,
)
from edgeprune.models import create_model as _create_model
from edgeprune.train import EvalResult, TrainConfig
from edgeprune.train import evaluate as _evaluate
from edgeprune.train import fit as _fit

if TYPE_CHECKING:
    from edgeprune.bench.rows import BenchReport

# Verbs whose natural name is a stage package (export, bench, deploy, train) carry a suffix so that
# importing that package can never shadow the function on ``edgeprune``.
__all__ = ["TrainConfig", "benchmark", "create_model", "deploy_model", "evaluate", "export_model", "fit", "list_models", "load",
           "load_data", "model_info", "prune", "save"]


def create_model(name: str, data: DataBundle | None = None, **kwargs: Any) -> nn.Module:
    """Build a model by name; with ``data`` its classes, input shape and normalization come from the data."""
    if data is not None:
        kwargs = {"num_classes": len(data.labels), "in_channels": data.input_shape[0],
                  "input_size": data.input_shape[1], "labels": data.labels, "mean": data.mean, "std": data.std,
                  **kwargs}
    return _create_model(name, **kwargs)


def load(path: str | os.PathLike[str], device: str = "cpu") -> nn.Module:
    """Load an edgeprune checkpoint (safetensors + JSON spec; nothing is unpickled)."""
    return load_checkpoint(path, device=device)


def save(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Save a model built or loaded by edgeprune as a safe checkpoint."""
    return save_checkpoint(model, path)


def evaluate(model: nn.Module, data: DataBundle, split: str = "test", device: str = "auto", batch_size: int = 256) -> EvalResult:
    """Loss, accuracy and confusion matrix on one split."""
    return _evaluate(model, data.loader(split, batch_size, shuffle=False), device, num_classes=len(data.labels))


def fit(model: nn.Module, data: DataBundle, config: TrainConfig | None = None, out: str | os.PathLike[str] | None = None,
          regularizer=None, **overrides: Any) -> dict[str, Any]:
    """Fit ``model`` in place (best validation epoch kept) and return history and test metrics.

    With ``out``, writes ``model.safetensors`` (rewritten at every improvement, atomically),
    ``history.json``, ``train.json`` and ``train.md`` there.
    """
    from edgeprune.fileio import write_json, write_text
    from edgeprune.train import is_main_process

    config = dataclasses.replace(config or TrainConfig(), **overrides) if overrides else (config or TrainConfig())
    spec = spec_of(model)
    attach_spec(model, spec.replace(labels=list(data.labels), mean=list(data.mean), std=list(data.std),
                                    input_shape=tuple(data.input_shape)))
    out_path = Path(out) if out is not None else None
    ckpt = out_path / "model.safetensors" if out_path else None
    saved: list[bool] = []

    def on_improve(m: nn.Module) -> None:
        save_checkpoint(m, ckpt)
        saved.append(True)

    t0 = time.perf_counter()
    history = _fit(model, data, config, regularizer=regularizer, out=out_path,
                   on_improve=on_improve if ckpt else None)
    seconds = time.perf_counter() - t0
    test = evaluate(model, data, "test", device=config.device)
    summary = {
        "model": spec_of(model).name,
        "data": data.name,
        "config": dataclasses.asdict(config),
        "history": dataclasses.asdict(history),
        "best_epoch": history.best_epoch,
        "seconds": round(seconds, 2),
        "params": count_params(model),
        "macs": count_macs(model, spec_of(model).input_shape),
        "test": {**dataclasses.asdict(test), **test.rates()},
    }
    if out_path and is_main_process():
        if not saved:  # zero epochs: this model replaces whatever checkpoint the folder held
            save_checkpoint(model, ckpt)
        write_json(out_path / "train.json", summary)
        write_text(out_path / "train.md", _train_markdown(summary))
    return summary


def _train_markdown(s: dict[str, Any]) -> str:
    from edgeprune.accuracy import interval_text

    t = s["test"]
    lines = [f"# Training: {s['model']} on {s['data']}", "",
             f"- best epoch: {s['best_epoch']} of {len(s['history']['epochs'])} ({s['seconds']} s)",
             f"- params: {s['params']:,}; MACs per sample: {s['macs']:,}",
             f"- test accuracy: {interval_text(t['accuracy'], t['n'])} (95% Wilson) on {t['n']} images "
             f"(TPR {t['tpr']:.3f}, TNR {t['tnr']:.3f})", "",
             "| epoch | train loss | train acc | val loss | val acc | s |", "|---:|---:|---:|---:|---:|---:|"]
    for e in s["history"]["epochs"]:
        lines.append(f"| {e['epoch']} | {e['train_loss']:.4f} | {e['train_acc']:.3f} | {e['val_loss']:.4f} | "
                     f"{e['val_acc']:.3f} | {e['seconds']:.1f} |")
    return "\n".join(lines) + "\n"


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


def export_model(model: nn.Module | str | os.PathLike[str], out: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
    """Export to ONNX (simplified), OpenVINO IR and optionally INT8, with parity checks."""
    from edgeprune.export import export as _export

    return _export(model, out, **kwargs)


def benchmark(models: list[str | os.PathLike[str]], **kwargs: Any) -> BenchReport:
    """Benchmark models on CPU backends (and browsers/devices), with speedups against a baseline."""
    from edgeprune.bench import bench as _bench

    return _bench(models, **kwargs)


def deploy_model(kind: str, model: str | os.PathLike[str], out: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Package a model for the web (static site) or a device (tar bundle needing only onnxruntime)."""
    from edgeprune.deploy import deploy as _deploy

    return _deploy(kind, model, out, **kwargs)

