"""ModelSpec: everything needed to rebuild a model and to feed it, carried from checkpoint to device."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from torch import nn

SPEC_ATTR = "edgeprune_spec"


@dataclass
class ModelSpec:
    """Architecture (builder name and arguments, pruned layer sizes) plus deploy metadata."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, int, int] = (3, 32, 32)
    labels: list[str] = field(default_factory=list)
    mean: list[float] = field(default_factory=lambda: [0.0])
    std: list[float] = field(default_factory=lambda: [1.0])
    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialize to JSON (the checkpoint header and ONNX metadata carry this)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        """Parse a spec written by :meth:`to_json`; unknown keys are an error."""
        raw = json.loads(text)
        if not isinstance(raw, dict) or "name" not in raw:
            raise ValueError("the spec is not a JSON object with a name")
        unknown = sorted(set(raw) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown spec key(s) {', '.join(unknown)}")
        if "input_shape" in raw:
            raw["input_shape"] = tuple(raw["input_shape"])
        return cls(**raw)

    def replace(self, **changes: Any) -> ModelSpec:
        """A copy with some fields changed (the spec is shared by value, never mutated in place)."""
        return dataclasses.replace(self, **changes)


def spec_of(model: nn.Module) -> ModelSpec:
    """The spec attached to a model built or loaded by edgeprune."""
    spec = getattr(model, SPEC_ATTR, None)
    if spec is None:
        from edgeprune.errors import ModelError

        raise ModelError(
            f"{type(model).__name__} carries no edgeprune spec",
            hint="build it with edgeprune.create_model(...) or load it with edgeprune.load(...)",
        )
    return spec


def attach_spec(model: nn.Module, spec: ModelSpec) -> nn.Module:
    """Attach ``spec`` to ``model`` (a plain attribute, not a submodule) and return the model."""
    object.__setattr__(model, SPEC_ATTR, spec)
    return model
