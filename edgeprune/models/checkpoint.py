"""Safe checkpoints: one .safetensors file, the ModelSpec as JSON in its header, never a pickle."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from edgeprune.errors import CheckpointError, EdgepruneError, first_line
from edgeprune.fileio import atomic_path
from edgeprune.models.layers import layer_sizes, resize_layers
from edgeprune.models.spec import ModelSpec, attach_spec, spec_of
from edgeprune.models.support import build_skeleton

FORMAT = "edgeprune-checkpoint/1"


def save_checkpoint(model: nn.Module, path: str | os.PathLike[str], spec: ModelSpec | None = None,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write weights and spec (with the current layer sizes) atomically; return the path."""
    from safetensors.torch import save_file

    spec = (spec or spec_of(model)).replace(layers=layer_sizes(model))
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "spec": spec.to_json()}
    if extra:
        metadata["extra"] = json.dumps(extra, sort_keys=True)
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    attach_spec(model, spec)
    return path


def read_header(path: str | os.PathLike[str]) -> tuple[ModelSpec, dict[str, Any]]:
    """Read only the spec and extra metadata of a checkpoint (cheap: no tensors)."""
    from safetensors import safe_open

    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a directory, not a .safetensors file",
                              hint=f"pass the file inside it, e.g. {path / 'model.safetensors'}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.suffix == ".onnx":
        raise CheckpointError(f"{path} is an ONNX file, not an edgeprune checkpoint (.safetensors)",
                              hint="pass the model.safetensors it was exported from; `edgeprune info` reads ONNX files")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as e:  # safetensors raises its own error types for truncated/garbled files
        raise CheckpointError(f"{path} is not a readable safetensors file ({first_line(e)})",
                              hint="the file is truncated or corrupted; re-create it") from e
    if meta.get("format") != FORMAT or "spec" not in meta:
        raise CheckpointError(f"{path} is a safetensors file but not an edgeprune checkpoint",
                              hint="plain weight files load as pretrained weights (the weights option of train / create_model)")
    try:
        spec = ModelSpec.from_json(meta["spec"])
        extra = json.loads(meta.get("extra", "{}"))
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path} has a malformed edgeprune header ({first_line(e)})") from e
    return spec, extra


def load_checkpoint(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the model from the spec alone, load its tensors, attach the spec; eval mode."""
    from safetensors.torch import load_file


    spec, _ = read_header(path)
    try:
        state = load_file(str(path), device=str(device))
    except Exception as e:
        raise CheckpointError(f"{path}: the tensors cannot be read ({first_line(e)})",
                              hint="the file is truncated or corrupted; re-create it") from e
    try:
        model = build_skeleton(spec.name, **spec.kwargs)
        resize_layers(model, spec.layers)
    except EdgepruneError:
        raise
    except Exception as e:
        raise CheckpointError(f"{path}: the architecture cannot be rebuilt ({first_line(e)})") from e
    state = OrderedDict(state)
    state._metadata = model.state_dict()._metadata  # module versions (MNASNet's loader checks its own)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the recorded architecture ({first_line(e)})") from e
    leftover = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if leftover:
        raise CheckpointError(f"{path}: tensors missing from the file: {leftover[:5]}")
    check_spec(model, spec, path)
    model.eval()
    return attach_spec(model, spec)



def check_spec(model: nn.Module, spec: ModelSpec, path: str | os.PathLike[str]) -> None:
    """The header's input shape and labels agree with the first conv and the classifier's outputs."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if len(spec.input_shape) != 3 or min(spec.input_shape) < 1:
        raise CheckpointError(f"{path}: input_shape {list(spec.input_shape)} is not (channels, height, width)")
    if convs and convs[0].in_channels != spec.input_shape[0]:
        raise CheckpointError(f"{path}: the header's input_shape {list(spec.input_shape)} has {spec.input_shape[0]} "
                              f"channel(s), but the first conv takes {convs[0].in_channels}",
                              hint="the header was edited or written by another tool; re-create the checkpoint")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if spec.labels and linears and linears[-1].out_features != len(spec.labels):
        raise CheckpointError(f"{path}: the header has {len(spec.labels)} label(s), but the classifier has "
                              f"{linears[-1].out_features} outputs",
                              hint="the header was edited or written by another tool; re-create the checkpoint")
