"""Train a model into a folder: the best epoch's checkpoint, history.json, train.json and train.md.

The one implementation behind ``edgeprune train``, the pipeline's training stages and ``ep.fit``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.data import DataBundle
from edgeprune.models import attach_spec, count_macs, count_params, save_checkpoint, spec_of
from edgeprune.models import create_model as _create_model
from edgeprune.train import EvalResult, TrainConfig
from edgeprune.train import evaluate as _evaluate
from edgeprune.train import fit as _fit


def create_model(name: str, data: DataBundle | None = None, **kwargs: Any) -> nn.Module:
    """Build a model by name; with ``data`` its classes, input shape and normalization come from the data."""
    if data is not None:
        kwargs = {"num_classes": len(data.labels), "in_channels": data.input_shape[0],
                  "input_size": data.input_shape[1], "labels": data.labels, "mean": data.mean, "std": data.std,
                  **kwargs}
    return _create_model(name, **kwargs)


def evaluate(model: nn.Module, data: DataBundle, split: str = "test", device: str = "auto", batch_size: int = 256) -> EvalResult:
    """Loss, accuracy and confusion matrix on one split."""
    return _evaluate(model, data.loader(split, batch_size, shuffle=False), device, num_classes=len(data.labels))


@dataclass
class FitResult:
    """What a fit returns: the fitted ``model`` (None when read back) and train.json's content."""

    model: nn.Module | None
    name: str  # the model's builder name (train.json's "model")
    data: str
    config: TrainConfig
    history: dict[str, Any]  # per-epoch rows and the best epoch
    best_epoch: int | None
    seconds: float
    params: int
    macs: int
    test: dict[str, Any]  # test metrics of the best epoch: accuracy, n, confusion, rates, ...
    checkpoint: str | None = None  # out/model.safetensors when ``out`` was given

    def to_dict(self) -> dict[str, Any]:
        """train.json's content (the model's name under "model"), plus the checkpoint path."""
        return {"model": self.name, "data": self.data, "config": self.config.to_dict(), "history": self.history,
                "best_epoch": self.best_epoch, "seconds": self.seconds, "params": self.params, "macs": self.macs,
                "test": self.test, "checkpoint": self.checkpoint}

    @classmethod
    def from_dict(cls, data: dict[str, Any], load: bool = False) -> FitResult:
        """A result from :meth:`to_dict` (or a train.json); ``load=True`` loads the model from ``checkpoint``."""
        model = None
        if load and data.get("checkpoint"):
            from edgeprune.models import load_checkpoint

            model = load_checkpoint(data["checkpoint"])
        return cls(model=model, name=data["model"], data=data["data"], config=TrainConfig.from_dict(data["config"]),
                   history=data["history"], best_epoch=data["best_epoch"], seconds=data["seconds"],
                   params=data["params"], macs=data["macs"], test=data["test"], checkpoint=data.get("checkpoint"))


def fit(model: nn.Module, data: DataBundle, config: TrainConfig | None = None, *,
        out: str | os.PathLike[str] | None = None, regularizer=None, **overrides: Any) -> FitResult:
    """Fit ``model`` in place (best validation epoch kept); return a :class:`FitResult` with history and test metrics.

    With ``out``, writes ``model.safetensors`` (rewritten at every improvement, atomically),
    ``history.json``, ``train.json`` (the result's ``to_dict()``) and ``train.md`` there. ``overrides``
    replace fields of ``config`` (``fit(model, data, epochs=2)``).
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
    result = FitResult(model=model, name=spec_of(model).name, data=data.name, config=config,
                       history=dataclasses.asdict(history), best_epoch=history.best_epoch,
                       seconds=round(seconds, 2), params=count_params(model),
                       macs=count_macs(model, spec_of(model).input_shape),
                       test={**dataclasses.asdict(test), **test.rates()},
                       checkpoint=str(ckpt) if ckpt is not None else None)
    if out_path and is_main_process():
        if not saved:  # zero epochs: this model replaces whatever checkpoint the folder held
            save_checkpoint(model, ckpt)
        summary = result.to_dict()
        write_json(out_path / "train.json", summary)
        write_text(out_path / "train.md", _train_markdown(summary))
    return result


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
