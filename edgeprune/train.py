"""Fit and evaluate: best-validation checkpoint, early stopping, loss history; CUDA+AMP and torchrun DDP."""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from edgeprune.accuracy import Accuracy, wilson
from edgeprune.data.bundle import DataBundle
from edgeprune.devices import resolve_device
from edgeprune.errors import ConfigError
from edgeprune.fileio import write_json
from edgeprune.models.spec import SPEC_ATTR
from edgeprune.train_config import OPTIMIZERS, TrainConfig
from edgeprune.train_state import META, TrainState, clear_state, fingerprint, load_state, save_state
from edgeprune.ui import log, track

Regularizer = Callable[[nn.Module], torch.Tensor]
__all__ = ["OPTIMIZERS", "EvalResult", "History", "TrainConfig", "evaluate", "fit", "is_main_process", "seed_everything"]


@dataclass
class EvalResult:
    """Loss, accuracy and confusion matrix (rows: true class, columns: predicted)."""

    loss: float
    accuracy: float
    n: int
    confusion: list[list[int]]
    predictions: list[int] = field(default_factory=list)  # per image, in loader order (paired comparisons)
    labels: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values (predictions and labels included, for paired comparisons)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        """The result ``to_dict`` wrote."""
        return cls(**data)

    def interval(self) -> Accuracy:
        """The accuracy with its 95% Wilson interval."""
        return wilson(round(self.accuracy * self.n), self.n)

    def rates(self) -> dict[str, float]:
        """Macro-averaged TPR, TNR, FPR, FNR over classes (one-vs-rest), as the seed papers tabulate."""
        cm = np.asarray(self.confusion, dtype=np.float64)
        tp = np.diag(cm)
        fn = cm.sum(1) - tp
        fp = cm.sum(0) - tp
        tn = cm.sum() - tp - fn - fp
        with np.errstate(invalid="ignore", divide="ignore"):
            tpr = np.nanmean(tp / (tp + fn))
            tnr = np.nanmean(tn / (tn + fp))
        return {"tpr": float(tpr), "tnr": float(tnr), "fpr": float(1 - tnr), "fnr": float(1 - tpr)}


@dataclass
class History:
    """Per-epoch metrics and the selected (best) epoch."""

    epochs: list[dict] = field(default_factory=list)
    best_epoch: int | None = None

    def best(self) -> dict | None:
        """Metrics of the best epoch."""
        return next((e for e in self.epochs if e["epoch"] == self.best_epoch), None)


def _dist() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


def is_main_process() -> bool:
    """True on rank 0 (or without torchrun)."""
    return _dist()[0] == 0


def seed_everything(seed: int) -> None:
    """Seed torch and numpy so CPU runs repeat exactly."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def amp_dtype(device: torch.device) -> torch.dtype:
    """The autocast precision on ``device``: bf16 on GPUs that have it (no loss scaling needed), else fp16."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: str | torch.device = "auto", num_classes: int | None = None) -> EvalResult:
    """Mean cross-entropy, accuracy and confusion matrix of ``model`` over ``loader``."""
    device = resolve_device(device) if isinstance(device, str) else device
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    preds, trues = [], []
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        out = model(x).float()
        total_loss += F.cross_entropy(out, y, reduction="sum").item()
        p = out.argmax(1)
        correct += int((p == y).sum())
        n += y.numel()
        preds.append(p.cpu())
        trues.append(y.cpu())
    model.train(was_training)
    k = num_classes or (out.shape[1] if n else 0)
    cm = torch.zeros(k, k, dtype=torch.int64)
    pred = torch.cat(preds) if n else torch.zeros(0, dtype=torch.int64)
    true = torch.cat(trues) if n else torch.zeros(0, dtype=torch.int64)
    if n:
        cm = torch.bincount(true * k + pred, minlength=k * k).reshape(k, k)
    return EvalResult(loss=total_loss / max(n, 1), accuracy=correct / max(n, 1), n=n, confusion=cm.tolist(),
                      predictions=pred.tolist(), labels=true.tolist())


def classifier_head(model: nn.Module) -> nn.Module:
    """The classifier head trained alone when the features are frozen (transfer learning)."""
    for name in ("classifier", "fc", "heads", "head"):
        head = getattr(model, name, None)
        if isinstance(head, nn.Module):
            return head
    raise ConfigError(f"{type(model).__name__} has no classifier/fc head to train alone", hint="drop freeze_features",
                      params=("freeze_features",))


def trainable_parameters(model: nn.Module, freeze_features: bool) -> list[nn.Parameter]:
    """All parameters, or only the classifier head's when the features are frozen."""
    if not freeze_features:
        return list(model.parameters())
    head = classifier_head(model)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in head.parameters():
        p.requires_grad_(True)
    return list(head.parameters())


def _optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _rank0_validation(model: nn.Module, loader: DataLoader, device: torch.device) -> EvalResult:
    """Validation under DDP: every rank takes rank 0's BatchNorm statistics and rank 0's figures.

    Parameters are equal on all ranks (all-reduced gradients), but BN running statistics are updated by
    each rank from its own shard in the forward pass; left alone they differ, and so would each rank's
    validation loss, best epoch and early stop, leaving a rank that stopped alone to hang the others.
    """
    import dataclasses

    import torch.distributed as dist

    for b in model.buffers():
        dist.broadcast(b.data, src=0)
    val = evaluate(model, loader, device)
    figures = torch.tensor([val.loss, val.accuracy], dtype=torch.float64, device=device)
    dist.broadcast(figures, src=0)  # one decision for all, even if kernels differ between devices
    return dataclasses.replace(val, loss=float(figures[0]), accuracy=float(figures[1]))


def fit(model: nn.Module, data: DataBundle, config: TrainConfig | None = None, *, out: str | Path | None = None,
        regularizer: Regularizer | None = None, on_improve: Callable[[nn.Module], None] | None = None) -> History:
    """Train on ``data.train``, select on ``data.val``, leave the best weights in ``model``.

    ``regularizer(model)`` is added to the loss (e.g. HSQGL12). ``on_improve(model)`` runs on rank 0
    whenever validation improves (the CLI saves the checkpoint there). Under torchrun the model is
    wrapped in DistributedDataParallel and the training split sharded with a DistributedSampler.
    """
    cfg = config or TrainConfig()
    rank, world = _dist()
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    model.to(device)
    params = trainable_parameters(model, cfg.freeze_features)
    net: nn.Module = model
    sampler = None
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        from torch.utils.data.distributed import DistributedSampler

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        sampler = DistributedSampler(data.train, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed)
    train_loader = data.loader("train", cfg.batch_size, num_workers=cfg.num_workers, sampler=sampler, seed=cfg.seed)
    val_loader = data.loader("val", max(cfg.batch_size, 256), num_workers=cfg.num_workers)
    opt = _optimizer(params, cfg)
    steps = max(1, cfg.epochs * len(train_loader))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, (lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))) if cfg.cosine else (lambda s: 1.0))
    use_amp = cfg.amp and device.type == "cuda"
    dtype = amp_dtype(device)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and dtype == torch.float16)  # bf16 needs no scaling
    layout = torch.channels_last if device.type == "cuda" and cfg.channels_last else torch.contiguous_format
    model.to(memory_format=layout)
    history = History()
    best_key: tuple[float, float] | None = None
    best_state: dict[str, torch.Tensor] | None = None
    stale = 0
    main = rank == 0
    folder = Path(out) if out is not None else None
    provenance = getattr(getattr(model, SPEC_ATTR, None), "provenance", None)
    fp = fingerprint({k: v for k, v in asdict(cfg).items() if k not in ("device", "num_workers")}, model,
                     {s: len(data.split(s)) for s in ("train", "val")},
                     {"weights": provenance, "regularizer": getattr(regularizer, "__qualname__", repr(regularizer))}
                     ) if folder else ""
    # under DDP only rank 0 writes the state, and a rank without it would start elsewhere: start over
    state = load_state(folder, fp) if folder and world == 1 else None
    if state is not None:
        model.load_state_dict(state.model)
        opt.load_state_dict(state.optimizer)
        sched.load_state_dict(state.scheduler)
        torch.set_rng_state(state.rng["torch"])
        if train_loader.generator is not None and "loader" in state.rng:
            train_loader.generator.set_state(state.rng["loader"])
        best_state = state.best
        history = History(**state.extra["history"])
        best_key = tuple(state.extra["best_key"]) if state.extra["best_key"] is not None else None
        stale = state.extra["stale"]
        if main:
            log(f"resuming at epoch {state.epoch + 1}/{cfg.epochs} (state of epoch {state.epoch} in {folder / META})")
    for epoch in range(state.epoch + 1 if state else 1, cfg.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        if cfg.freeze_features:
            model.eval()  # frozen features keep their BatchNorm statistics
            classifier_head(model).train()
        t0 = time.perf_counter()
        loss_sum, reg_sum, correct, seen = 0.0, 0.0, 0, 0
        batches = track(train_loader, f"epoch {epoch}/{cfg.epochs}", total=len(train_loader)) if main else train_loader
        for x, y in batches:
            x, y = x.to(device, non_blocking=True, memory_format=layout), y.to(device, non_blocking=True)
            with torch.autocast(device_type=device.type, dtype=dtype, enabled=use_amp):
                logits = net(x)
                loss = F.cross_entropy(logits.float(), y)
            total = loss
            if regularizer is not None:
                reg = regularizer(model)
                total = loss + reg
                reg_sum += float(reg.detach()) * y.numel()
            opt.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            loss_sum += float(loss.detach()) * y.numel()
            correct += int((logits.detach().argmax(1) == y).sum())
            seen += y.numel()
        if world > 1:
            val = _rank0_validation(model, val_loader, device)
        else:
            val = evaluate(model, val_loader, device)
        row = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
               "reg": reg_sum / max(seen, 1), "samples": seen, "val_loss": val.loss, "val_acc": val.accuracy,
               "seconds": round(time.perf_counter() - t0, 3)}
        history.epochs.append(row)
        key = (val.loss, -val.accuracy) if cfg.select == "val_loss" else (-val.accuracy, val.loss)
        improved = best_key is None or key < best_key
        if improved:
            best_key, stale = key, 0
            history.best_epoch = epoch
            best_state = copy.deepcopy({k: v.detach().clone() for k, v in model.state_dict().items()})
            if main and on_improve is not None:
                on_improve(model)
        else:
            stale += 1
        if main:
            log(f"epoch {epoch}/{cfg.epochs}  train loss {row['train_loss']:.4f} acc {row['train_acc']:.3f}  "
                f"val loss {val.loss:.4f} acc {val.accuracy:.3f}{'  *' if improved else ''}  ({row['seconds']:.1f}s)")
            if folder is not None:
                write_json(folder / "history.json", asdict(history))
                rng = {"torch": torch.get_rng_state()}
                if train_loader.generator is not None:
                    rng["loader"] = train_loader.generator.get_state()
                save_state(folder, TrainState(epoch, model.state_dict(), best_state, opt.state_dict(), sched.state_dict(),
                                              rng, {"history": asdict(history), "best_key": best_key, "stale": stale}), fp)
        if cfg.patience is not None and stale >= cfg.patience:
            if main:
                log(f"early stop: no improvement for {cfg.patience} epochs")
            break
    if folder is not None and main:
        clear_state(folder)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.to(memory_format=torch.contiguous_format)  # what export, pruning and checkpoints expect
    for p in model.parameters():
        p.requires_grad_(True)
    model.eval()
    return history
