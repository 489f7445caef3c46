"""torchvision datasets (MNIST, FashionMNIST, CIFAR10, STL10) and ImageFolder trees, read from disk only."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from edgeprune.data.bundle import DataBundle, stratified_split, subset
from edgeprune.errors import ConfigError, DataNotFoundError

# One set of statistics per dataset, applied to train, val and test alike (per source channel).
STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashionmnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "stl10": ((0.4467, 0.4398, 0.4066), (0.2603, 0.2566, 0.2713)),
}
NATIVE_CHANNELS = {"mnist": 1, "fashionmnist": 1, "cifar10": 3, "stl10": 3}
HOW_TO_PROVIDE = {
    "mnist": "copy train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte into {root}/MNIST/raw/",
    "fashionmnist": "copy the four FashionMNIST idx files (train-images-idx3-ubyte, ...) into {root}/FashionMNIST/raw/",
    "cifar10": "extract cifar-10-python.tar.gz into {root}/ (giving {root}/cifar-10-batches-py/)",
    "stl10": "extract stl10_binary.tar.gz into {root}/ (giving {root}/stl10_binary/)",
}


def default_root() -> Path:
    """Where datasets live: $EDGEPRUNE_DATA, else ./data."""
    return Path(os.environ.get("EDGEPRUNE_DATA", "data"))


def channel_stats(stats: tuple[tuple[float, ...], tuple[float, ...]], channels: int) -> tuple[list[float], list[float]]:
    """Per-channel mean/std for the requested channel count (gray replicated, colour averaged)."""
    mean, std = stats
    if len(mean) == channels:
        return list(mean), list(std)
    if channels == 3:
        return [mean[0]] * 3, [std[0]] * 3
    return [float(np.mean(mean))], [float(np.mean(std))]


def image_transform(input_size: int, channels: int, mean: list[float], std: list[float]):
    """PIL image -> normalized tensor: resize, channel conversion, scale to [0, 1], normalize."""
    from torchvision import transforms as T

    mode = "L" if channels == 1 else "RGB"
    return T.Compose([
        T.Lambda(lambda img: img.convert(mode)),
        T.Resize((input_size, input_size)),
        T.ToTensor(),
        T.Normalize(mean, std),
    ])


def _targets(ds: Dataset) -> np.ndarray:
    for attr in ("targets", "labels"):
        if hasattr(ds, attr):
            return np.asarray(getattr(ds, attr))
    raise ConfigError(f"{type(ds).__name__} exposes no targets")


def _limit(targets: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    if fraction >= 1.0:
        return np.arange(len(targets))
    return stratified_split(targets, (fraction,), seed=seed)[0]


def load_torchvision_bundle(name: str, root: str | Path | None = None, input_size: int = 32,
                            channels: int | None = None, val: float = 0.1, fraction: float = 1.0,
                            seed: int = 0, download: bool = False) -> DataBundle:
    """A torchvision dataset from disk; val carved from train (disjoint), test from the test split."""
    import torchvision.datasets as tvd

    root = Path(root) if root else default_root()
    channels = channels or NATIVE_CHANNELS[name]
    mean, std = channel_stats(STATS[name], channels)
    tf = image_transform(input_size, channels, mean, std)
    cls = {"mnist": tvd.MNIST, "fashionmnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10, "stl10": tvd.STL10}[name]
    try:
        if name == "stl10":
            train_full = cls(str(root), split="train", transform=tf, download=download)
            test_full = cls(str(root), split="test", transform=tf, download=download)
        else:
            train_full = cls(str(root), train=True, transform=tf, download=download)
            test_full = cls(str(root), train=False, transform=tf, download=download)
    except (RuntimeError, FileNotFoundError, OSError) as e:
        raise DataNotFoundError(
            f"{name} is not on disk under {root} and edgeprune never downloads unless asked",
            hint=HOW_TO_PROVIDE[name].format(root=root) + ", pass --data-root DIR, or add --download on a connected machine",
        ) from e
    t_train = _targets(train_full)
    pool = _limit(t_train, fraction, seed)
    tr, va = stratified_split(t_train[pool], (1.0 - val, val), seed=seed)
    te = _limit(_targets(test_full), fraction, seed)
    return DataBundle(
        name=name, train=subset(train_full, pool[tr]), val=subset(train_full, pool[va]), test=subset(test_full, te),
        labels=list(getattr(train_full, "classes", [str(i) for i in range(int(t_train.max()) + 1)])),
        input_shape=(channels, input_size, input_size), mean=mean, std=std,
        info={"root": str(root), "sizes": [len(tr), len(va), len(te)], "fraction": fraction, "seed": seed},
    )


def load_imagefolder_bundle(path: str | Path, input_size: int = 224, channels: int = 3, val: float = 0.1,
                            seed: int = 0, stats_samples: int = 256) -> DataBundle:
    """``PATH/{train,val,test}/<class>/*.png``; val carved from train when absent; stats from train."""
    from torchvision.datasets import ImageFolder

    path = Path(path)
    if not (path / "train").is_dir() or not (path / "test").is_dir():
        raise DataNotFoundError(
            f"imagefolder {path} needs train/ and test/ subfolders (val/ optional) with one folder per class",
            hint="e.g. PATH/train/covid/*.png, PATH/train/normal/*.png, PATH/test/...",
        )
    plain = ImageFolder(str(path / "train"), transform=image_transform(input_size, channels, [0.0] * channels, [1.0] * channels))
    if len(plain) == 0:
        raise DataNotFoundError(f"imagefolder {path}/train holds no images")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(plain), size=min(stats_samples, len(plain)), replace=False)
    stack = torch.stack([plain[int(i)][0] for i in pick])
    mean = stack.mean(dim=(0, 2, 3)).tolist()
    std = stack.std(dim=(0, 2, 3)).clamp_min(1e-6).tolist()
    tf = image_transform(input_size, channels, mean, std)
    train_full = ImageFolder(str(path / "train"), transform=tf)
    test_ds = ImageFolder(str(path / "test"), transform=tf)
    if test_ds.classes != train_full.classes:
        raise ConfigError(f"imagefolder {path}: test classes {test_ds.classes} differ from train classes {train_full.classes}")
    if (path / "val").is_dir():
        val_ds = ImageFolder(str(path / "val"), transform=tf)
        if val_ds.classes != train_full.classes:
            raise ConfigError(f"imagefolder {path}: val classes {val_ds.classes} differ from train classes {train_full.classes}")
        train_ds: Dataset = train_full
    else:
        tr, va = stratified_split(np.asarray(train_full.targets), (1.0 - val, val), seed=seed)
        train_ds, val_ds = subset(train_full, tr), subset(train_full, va)
    return DataBundle(
        name=f"imagefolder:{path}", train=train_ds, val=val_ds, test=test_ds, labels=list(train_full.classes),
        input_shape=(channels, input_size, input_size), mean=mean, std=std,
        info={"root": str(path), "sizes": [len(train_ds), len(val_ds), len(test_ds)], "seed": seed},
    )
