"""``create_model(name, ...)``: one door to every architecture edgeprune builds (timm-style)."""

from __future__ import annotations

import fnmatch
from typing import Any

import torch
from torch import nn

from edgeprune.errors import ModelError, first_line
from edgeprune.models.spec import ModelSpec, attach_spec
from edgeprune.models.vgg import CONFIGS, VGG, parse_vgg_name
from edgeprune.models.zoo import (
    TV_PREFIX,
    build_tv_model,
    list_tv_models,
    load_matching,
    read_state_dict,
    resolve_weights,
)

# torchvision's VGG classifier Linear layers sit at 0, 3, 6; ours (seed head) at 1, 4, 6.
_TV_VGG_KEYS = {f"classifier.{a}.{p}": f"classifier.{b}.{p}" for a, b in ((0, 1), (3, 4), (6, 6)) for p in ("weight", "bias")}


def list_models(pattern: str = "*") -> list[str]:
    """Model names matching a glob, e.g. ``list_models('vgg*')``."""
    ours = [f"vgg{d}{bn}" for d in sorted(CONFIGS) for bn in ("", "_bn")]
    try:
        names = ours + list_tv_models()
    except ImportError:  # pragma: no cover - torchvision is a dependency
        names = ours
    return [n for n in names if fnmatch.fnmatch(n, pattern)]


def build(name: str, num_classes: int = 10, in_channels: int = 3, input_size: int = 32, **kwargs: Any) -> nn.Module:
    """Build the bare module (random weights, no spec) for a name and its arguments."""
    vgg = parse_vgg_name(name)
    if vgg is not None:
        depth, bn = vgg
        return VGG(depth=depth, batch_norm=bn, num_classes=num_classes, in_channels=in_channels,
                   input_size=input_size, **kwargs)
    if name.startswith(TV_PREFIX):
        if kwargs:
            raise ModelError(f"{name} takes no options {sorted(kwargs)}", hint="only vgg* models take width/classifier options")
        return build_tv_model(name[len(TV_PREFIX):], num_classes, in_channels)
    raise ModelError(f"unknown model {name!r}", hint="vgg11/13/16/19[_bn] or tv:<torchvision name>; see `edgeprune list models`")


def create_model(
    name: str,
    num_classes: int = 10,
    in_channels: int = 3,
    input_size: int = 32,
    weights: str | None = None,
    labels: list[str] | None = None,
    mean: list[float] | None = None,
    std: list[float] | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build a model by name, optionally load local weights (a path or ``imagenet``), attach its spec."""
    model = build(name, num_classes=num_classes, in_channels=in_channels, input_size=input_size, **kwargs)
    if weights:
        _load_pretrained(model, name, weights)
    spec = ModelSpec(
        name=name,
        kwargs={"num_classes": num_classes, "in_channels": in_channels, "input_size": input_size, **kwargs},
        input_shape=(in_channels, input_size, input_size),
        labels=list(labels) if labels else [str(i) for i in range(num_classes)],
        mean=list(mean) if mean else [0.0] * in_channels,
        std=list(std) if std else [1.0] * in_channels,
        provenance={"weights": weights} if weights else {},
    )
    check_input(model, spec)
    return attach_spec(model, spec)


def _load_pretrained(model: nn.Module, name: str, weights: str) -> None:
    vgg = parse_vgg_name(name)
    if vgg is not None:
        arch = f"vgg{vgg[0]}{'_bn' if vgg[1] else ''}"
        state = read_state_dict(resolve_weights(arch, weights))
        load_matching(model, state, _TV_VGG_KEYS)
    else:
        arch = name[len(TV_PREFIX):]
        load_matching(model, read_state_dict(resolve_weights(arch, weights)))


@torch.no_grad()
def check_input(model: nn.Module, spec: ModelSpec) -> None:
    """Run one sample of the spec's input shape through a copy-free eval pass; a clear error if it fails."""
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        if device.type == "meta":
            return
        model(torch.zeros(1, *spec.input_shape, device=device))
    except RuntimeError as e:
        first = first_line(e, limit=10**6)
        raise ModelError(f"{spec.name} cannot take inputs of shape {spec.input_shape}: {first}") from e
    finally:
        model.train(was_training)
