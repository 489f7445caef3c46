"""Data: the embedded digits set, torchvision datasets and ImageFolder trees, as DataBundles."""

from __future__ import annotations

from pathlib import Path

from edgeprune.data.bundle import DataBundle, stratified_split
from edgeprune.errors import ConfigError

DATASETS = ("digits", "mnist", "fashionmnist", "cifar10", "stl10", "imagefolder:PATH")


def load_data(name: str = "digits", root: str | Path | None = None, input_size: int | None = None,
              channels: int | None = None, seed: int = 0, fraction: float = 1.0, download: bool = False,
              sizes: tuple[int, int, int] | None = None) -> DataBundle:
    """Load a dataset by name (see ``DATASETS``) into train/val/test splits with one normalization.

    ``sizes`` = (train, val, test) draws stratified, disjoint subsets of exactly those sizes from a
    torchvision dataset (the Reg+OBD paper's protocol: 6000, 1000, 1000).
    """
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels must be 1 or 3, got {channels}", params=("channels",))
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"fraction must be in (0, 1], got {fraction}", params=("fraction",))
    if input_size is not None and input_size < 1:
        raise ConfigError(f"input size (input_size) must be >= 1 pixel, got {input_size}", params=("input_size",))
    key = name.lower()
    if key == "digits" or key.startswith("imagefolder:"):
        _refuse_unused(name, root, fraction, download)
    if sizes is not None:
        sizes = tuple(sizes)  # type: ignore[assignment]
        if len(sizes) != 3 or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes):
            raise ConfigError(f"sizes must be three positive integers (train, val, test), got {list(sizes)}",
                              params=("sizes",))
        if fraction != 1.0:
            raise ConfigError("sizes and fraction both choose a subset: set one of them", params=("sizes", "fraction"))
        if key == "digits" or key.startswith("imagefolder:"):
            raise ConfigError(f"sizes applies to mnist, fashionmnist, cifar10 and stl10, not {name}", params=("sizes",))
    if key == "digits":
        from edgeprune.data.digits import load_digits_bundle

        return load_digits_bundle(input_size=input_size or 32, channels=channels or 1, seed=seed)
    if key.startswith("imagefolder:"):
        from edgeprune.data.vision import load_imagefolder_bundle

        if not name.split(":", 1)[1]:
            raise ConfigError("imagefolder: needs a path, e.g. imagefolder:data/covid")
        return load_imagefolder_bundle(name.split(":", 1)[1], input_size=input_size or 224, channels=channels or 3, seed=seed)
    from edgeprune.data.vision import NATIVE_CHANNELS, load_torchvision_bundle

    if key in NATIVE_CHANNELS:
        return load_torchvision_bundle(key, root=root, input_size=input_size or 32, channels=channels,
                                       fraction=fraction, seed=seed, download=download, sizes=sizes)
    raise ConfigError(f"unknown dataset {name!r}", hint=f"one of {', '.join(DATASETS)}")


def _refuse_unused(name: str, root: str | Path | None, fraction: float, download: bool) -> None:
    """Options that digits (embedded) and imagefolder (the path is in the name) would silently ignore."""
    kind = "digits" if name.lower() == "digits" else "imagefolder"
    why = "it is embedded" if kind == "digits" else "its folder is the path after imagefolder:"
    unused = [opt for opt, given in (("root", root is not None), ("fraction", fraction != 1.0),
                                     ("download", bool(download))) if given]
    if unused:
        raise ConfigError(f"{' and '.join(unused)} do{'es' if len(unused) == 1 else ''} not apply to {kind} data: {why}",
                          hint="drop the option, or use mnist, fashionmnist, cifar10 or stl10", params=tuple(unused))


__all__ = ["DATASETS", "DataBundle", "load_data", "stratified_split"]
