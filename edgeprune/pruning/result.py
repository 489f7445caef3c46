"""What a prune returns: the smaller model and prune.json's content, as one typed, JSON-round-tripping result."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.pruning.config import PruneConfig


@dataclass
class PruneResult:
    """The pruned ``model`` (None when read back without loading it) and what prune.json records."""

    model: nn.Module | None
    method: str
    criterion: str
    config: PruneConfig | None  # None in a prune.json written before configs were typed
    target: dict[str, Any]  # the Target the steps aimed at: kind and value
    steps: int
    finetune_epochs: int
    before: dict[str, Any]  # params, MACs, near-zero ratio, widths of the model given
    after: dict[str, Any]  # the same of the pruned model
    accuracy_before: float | None = None
    accuracy_final: float | None = None
    test_n: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per step
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per phase
    parent_sha256: str | None = None  # of the checkpoint pruned, when a path was given
    checkpoint: str | None = None  # out/model.safetensors when ``out`` was given
    latency: dict[str, Any] | None = None  # a speedup target: what the latency table predicted
    options: dict[str, Any] = field(default_factory=dict)  # the config's family options, flat (older readers)

    @property
    def macs(self) -> int:
        """MACs per sample of the pruned model."""
        return int(self.after["macs"])

    @property
    def params(self) -> int:
        """Parameters of the pruned model."""
        return int(self.after["params"])

    @property
    def macs_kept(self) -> float:
        """Fraction of the MACs kept."""
        return self.after["macs"] / self.before["macs"]

    @property
    def params_kept(self) -> float:
        """Fraction of the parameters kept."""
        return self.after["params"] / self.before["params"]

    def to_dict(self) -> dict[str, Any]:
        """prune.json's content: every field but the model, the config as its own dict."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}
        out["config"] = self.config.to_dict() if self.config is not None else None
        if self.latency is None:
            del out["latency"]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], load: bool = False) -> PruneResult:
        """A result from :meth:`to_dict` (or a prune.json); ``load=True`` loads the model from ``checkpoint``."""
        known = {f.name for f in dataclasses.fields(cls)} - {"model"}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["config"] = PruneConfig.from_dict(data["config"]) if data.get("config") else None
        model = None
        if load and data.get("checkpoint"):
            from edgeprune.models import load_checkpoint

            model = load_checkpoint(data["checkpoint"])
        return cls(model=model, **kwargs)

    @classmethod
    def read(cls, folder: str | os.PathLike[str], load: bool = False) -> PruneResult:
        """The result a prune with ``out=folder`` wrote to ``folder/prune.json`` (its checkpoint: the one in ``folder``,
        wherever the folder has moved since)."""
        from edgeprune.fileio import read_json

        data = read_json(Path(folder) / "prune.json")
        ckpt = Path(folder) / "model.safetensors"
        return cls.from_dict({**data, "checkpoint": str(ckpt) if ckpt.is_file() else None}, load=load)
