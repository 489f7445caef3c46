"""``model_info``: what a checkpoint or module is (name, input, classes, params, MACs, widths), as a result type."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from torch import nn

from edgeprune.models.checkpoint import load_checkpoint
from edgeprune.models.complexity import count_macs, count_params, layer_widths
from edgeprune.models.spec import spec_of


@dataclasses.dataclass
class ModelInfo:
    """Params, MACs and per-layer widths of a model; ``file_bytes`` is the file's size when read from one.

    The keys of ``to_dict()`` are those of ``edgeprune.export.info.onnx_info``, so `edgeprune info` prints
    a checkpoint and an ONNX file alike.
    """

    name: str
    input_shape: list[int]
    classes: int | None
    params: int
    macs: int
    file_bytes: int | None = None
    layers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (what `edgeprune info --json` prints)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelInfo:
        """The inverse of :meth:`to_dict` (also reads ``onnx_info``'s dict)."""
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})


def model_info(model_or_path: nn.Module | str | os.PathLike[str]) -> ModelInfo:
    """What a checkpoint (or an in-memory model built by edgeprune) is, without running it."""
    size = None
    if isinstance(model_or_path, nn.Module):
        model = model_or_path
    else:
        size = Path(model_or_path).stat().st_size if Path(model_or_path).exists() else None
        model = load_checkpoint(model_or_path)
    spec = spec_of(model)
    return ModelInfo(name=spec.name, input_shape=list(spec.input_shape), classes=len(spec.labels),
                     params=count_params(model), macs=count_macs(model, spec.input_shape), file_bytes=size,
                     layers=[dataclasses.asdict(w) for w in layer_widths(model)], provenance=spec.provenance)
