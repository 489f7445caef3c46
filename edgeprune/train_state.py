"""Training state saved after every epoch, so an interrupted ``fit`` resumes at the next epoch.

Two files beside the checkpoint: ``resume.safetensors`` (model, best weights, optimizer tensors, RNG
states) and ``resume.json`` (epoch, history, scheduler, optimizer scalars and the fingerprint of the
work). A state whose fingerprint differs (other config, other model shape, other data) is ignored.
No pickles: tensors go through safetensors, everything else through JSON. A fit resumes with the torch
CPU RNG and the loader's; the CUDA RNG and an fp16 loss scaler start afresh (so bit-equal only on CPU).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from edgeprune.fileio import atomic_path, read_json, write_json

TENSORS, META = "resume.safetensors", "resume.json"


@dataclass
class TrainState:
    """Where ``fit`` stood after ``epoch``: everything needed to go on as if never stopped."""

    epoch: int
    model: dict[str, torch.Tensor]
    best: dict[str, torch.Tensor] | None
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    rng: dict[str, torch.Tensor]
    extra: dict[str, Any] = field(default_factory=dict)  # history, best key, epochs without improvement


def fingerprint(config: dict[str, Any], model: torch.nn.Module, data_sizes: dict[str, int], extra: Any = None) -> str:
    """What makes two fits the same work: the config, the parameter shapes, the split sizes and ``extra``
    (where the initial weights came from, the regularizer)."""
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    blob = json.dumps({"config": config, "shapes": shapes, "data": data_sizes, "extra": extra}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _split_optimizer(sd: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, scalars = {}, {}
    for idx, slots in sd["state"].items():
        for name, v in slots.items():
            if isinstance(v, torch.Tensor):
                tensors[f"opt/{idx}/{name}"] = v
            else:
                scalars[f"{idx}/{name}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith("opt/"):
            _, idx, name = key.split("/", 2)
            state.setdefault(int(idx), {})[name] = v
    for key, v in meta["scalars"].items():
        idx, name = key.split("/", 1)
        state.setdefault(int(idx), {})[name] = v
    return {"state": state, "param_groups": meta["param_groups"]}


def save_state(folder: Path, state: TrainState, fp: str) -> None:
    """Write both files atomically (tensors first: a JSON without its tensors is never left behind)."""
    from safetensors.torch import save_file

    opt_tensors, opt_meta = _split_optimizer(state.optimizer)
    tensors = {f"model/{k}": v for k, v in state.model.items()}
    tensors |= {f"best/{k}": v for k, v in (state.best or {}).items()}
    tensors |= opt_tensors | {f"rng/{k}": v for k, v in state.rng.items()}
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with atomic_path(folder / TENSORS) as tmp:  # the header names the epoch: a crash between the files shows
        save_file(tensors, str(tmp), metadata={"fingerprint": fp, "epoch": str(state.epoch)})
    sched = {k: v for k, v in state.scheduler.items() if k != "lr_lambdas"}
    write_json(folder / META, {"fingerprint": fp, "epoch": state.epoch, "optimizer": opt_meta, "scheduler": sched,
                               "has_best": state.best is not None, "extra": state.extra})


def load_state(folder: Path, fp: str) -> TrainState | None:
    """The saved state of this very work, or None (no state, another work's, or unreadable)."""
    meta_path, tensor_path = folder / META, folder / TENSORS
    if not meta_path.is_file() or not tensor_path.is_file():
        return None
    try:
        from safetensors import safe_open
        from safetensors.torch import load_file

        meta = read_json(meta_path)
        with safe_open(str(tensor_path), framework="pt") as f:
            header = f.metadata() or {}
        if meta.get("fingerprint") != fp or header != {"fingerprint": fp, "epoch": str(meta["epoch"])}:
            return None  # another work's state, or the two files are of different epochs
        tensors = load_file(str(tensor_path))
        part = lambda prefix: {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}  # noqa: E731
        return TrainState(epoch=int(meta["epoch"]), model=part("model/"),
                          best=part("best/") if meta["has_best"] else None,
                          optimizer=_join_optimizer(tensors, meta["optimizer"]),
                          scheduler={**meta["scheduler"], "lr_lambdas": [None] * len(meta["optimizer"]["param_groups"])},
                          rng=part("rng/"), extra=meta["extra"])
    except Exception:  # a damaged state is no state: training starts over
        return None


def clear_state(folder: Path) -> None:
    """Remove the state once training finished."""
    for name in (TENSORS, META):
        (folder / name).unlink(missing_ok=True)
