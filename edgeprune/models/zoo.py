"""torchvision classification models by name, and pretrained weights from local files only."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from edgeprune.errors import ConfigError, ModelError, WeightsNotFoundError, first_line

TV_PREFIX = "tv:"


def list_tv_models() -> list[str]:
    """Names of torchvision classification models, prefixed ``tv:``."""
    import torchvision

    return [TV_PREFIX + n for n in torchvision.models.list_models(module=torchvision.models)]


def build_tv_model(arch: str, num_classes: int, in_channels: int) -> nn.Module:
    """A torchvision classifier with random weights, ``num_classes`` outputs and ``in_channels`` inputs."""
    import torchvision

    if arch not in torchvision.models.list_models(module=torchvision.models):
        raise ModelError(f"torchvision has no classification model {arch!r}", hint="edgeprune list models")
    kwargs: dict = {"num_classes": num_classes}
    if arch.startswith(("googlenet", "inception")):
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = True
    model = torchvision.models.get_model(arch, weights=None, **kwargs)
    if in_channels != 3:
        _replace_first_conv(model, in_channels)
    return model


def _replace_first_conv(model: nn.Module, in_channels: int) -> None:
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            new = nn.Conv2d(
                in_channels, module.out_channels, module.kernel_size, module.stride, module.padding,
                module.dilation, 1, module.bias is not None, module.padding_mode,
            )
            parent, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, leaf, new)
            return
    raise ModelError("model has no Conv2d to adapt to the input channels")


def imagenet_weights_path(arch: str) -> tuple[Path, str]:
    """Where torch's hub cache keeps the ImageNet weights of ``arch``, and their public URL."""
    import torchvision

    weights = torchvision.models.get_model_weights(arch).DEFAULT
    url = weights.url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1], url


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a weights file without running code: safetensors, or torch's weights-only loader (hub cache)."""
    if not path.is_file():
        raise WeightsNotFoundError(f"weights file {path} does not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # safetensors and torch raise their own types for damaged files
        raise WeightsNotFoundError(f"weights file {path} cannot be read ({first_line(e)})",
                                   hint="the file is truncated, corrupted or not a weights file; replace it") from e
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsNotFoundError(f"{path} holds no state dict")
    return state


def resolve_weights(arch: str, source: str) -> Path:
    """``imagenet`` -> the hub-cache file (which must exist); anything else is the path of a .safetensors file."""
    if source != "imagenet":
        path = Path(source)
        if path.suffix != ".safetensors":
            raise ConfigError(f"weights file {path}: only .safetensors weight files are read ({path.suffix or 'no suffix'} "
                              "files may be pickles, which can run code when loaded)",
                              hint="convert it once where you trust it: save_file(torch.load(PTH), 'w.safetensors') "
                                   "with safetensors.torch.save_file")
        return path
    path, url = imagenet_weights_path(arch)
    if not path.is_file():
        raise WeightsNotFoundError(
            f"ImageNet weights for {arch} are not on disk (expected {path})",
            hint=f"download {url} on a connected machine and copy it to {path.parent}/, or pass a .safetensors weights file",
        )
    return path


def load_matching(model: nn.Module, state: dict[str, torch.Tensor], key_map: dict[str, str] | None = None) -> list[str]:
    """Copy every tensor whose (mapped) name and shape match; return the target keys left untouched."""
    own = model.state_dict()
    loaded = {}
    for key, value in state.items():
        target = (key_map or {}).get(key, key)
        if target in own and own[target].shape == value.shape:
            loaded[target] = value
    if not loaded:
        raise WeightsNotFoundError("no tensor of the weights file matches the model", hint="is it the right architecture?")
    model.load_state_dict(loaded, strict=False)
    return sorted(set(own) - set(loaded))
