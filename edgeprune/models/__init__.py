"""Models: a configurable VGG, torchvision models by name, safe checkpoints, complexity counts."""

from edgeprune.models.checkpoint import load_checkpoint, read_header, save_checkpoint
from edgeprune.models.complexity import count_macs, count_params, layer_widths, near_zero_ratio
from edgeprune.models.registry import build, create_model, list_models
from edgeprune.models.spec import ModelSpec, attach_spec, spec_of

__all__ = [
    "ModelSpec",
    "attach_spec",
    "build",
    "count_macs",
    "count_params",
    "create_model",
    "layer_widths",
    "list_models",
    "load_checkpoint",
    "near_zero_ratio",
    "read_header",
    "save_checkpoint",
    "spec_of",
]
