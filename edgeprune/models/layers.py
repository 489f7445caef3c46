"""Record and restore the sizes of the layers pruning changes (Conv2d, BatchNorm2d, Linear)."""

from __future__ import annotations

from torch import nn

from edgeprune.errors import CheckpointError


def layer_sizes(model: nn.Module) -> dict[str, dict[str, int]]:
    """Sizes of every Conv2d, BatchNorm2d and Linear, by module name."""
    sizes: dict[str, dict[str, int]] = {}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            sizes[name] = {"in_channels": m.in_channels, "out_channels": m.out_channels, "groups": m.groups}
        elif isinstance(m, nn.BatchNorm2d):
            sizes[name] = {"num_features": m.num_features}
        elif isinstance(m, nn.Linear):
            sizes[name] = {"in_features": m.in_features, "out_features": m.out_features}
    return sizes


def resize_layers(model: nn.Module, sizes: dict[str, dict[str, int]]) -> None:
    """Replace each layer whose recorded sizes differ from the built one by a layer of those sizes."""
    for name, want in sizes.items():
        try:
            m = model.get_submodule(name)
        except AttributeError as e:
            raise CheckpointError(f"checkpoint names layer {name!r}, which the architecture lacks") from e
        if all(getattr(m, k, None) == v for k, v in want.items()):
            continue
        device = next(m.parameters(), None)
        factory = {"device": device.device if device is not None else None}
        if isinstance(m, nn.Conv2d):
            new: nn.Module = nn.Conv2d(
                want["in_channels"], want["out_channels"], m.kernel_size, m.stride, m.padding, m.dilation,
                want["groups"], m.bias is not None, m.padding_mode, **factory,
            )
        elif isinstance(m, nn.BatchNorm2d):
            new = nn.BatchNorm2d(want["num_features"], m.eps, m.momentum, m.affine, m.track_running_stats, **factory)
        elif isinstance(m, nn.Linear):
            new = nn.Linear(want["in_features"], want["out_features"], m.bias is not None, **factory)
        else:
            raise CheckpointError(f"layer {name!r} is a {type(m).__name__}; the checkpoint expects other sizes")
        parent, _, leaf = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, leaf, new)
