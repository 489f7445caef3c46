"""MNIST, FashionMNIST (idx files), CIFAR10, STL10 (torchvision's formats) and ImageFolder trees, from disk only."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from edgeprune.data.bundle import DataBundle, stratified_sample, stratified_split, subset
from edgeprune.data.idx import LAYOUTS, load_idx
from edgeprune.data.tensors import ImageTensors, resize_uint8
from edgeprune.errors import ConfigError, DataNotFoundError, first_line

# One set of statistics per dataset, applied to train, val and test alike (per source channel).
STATS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashionmnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "stl10": ((0.4467, 0.4398, 0.4066), (0.2603, 0.2566, 0.2713)),
}
NATIVE_CHANNELS = {"mnist": 1, "fashionmnist": 1, "cifar10": 3, "stl10": 3}
CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashionmnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                     "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "stl10": ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"],
}
HOW_TO_PROVIDE = {  # mnist and fashionmnist: edgeprune.data.idx says where it looked
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


def _limit(targets: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    if fraction >= 1.0:
        return np.arange(len(targets))
    return stratified_split(targets, (fraction,), seed=seed)[0]


def _read_torchvision(name: str, root: Path, download: bool) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], Path]:
    """Train and test as (uint8 N x C x H x W or N x H x W, int64 labels), read once from disk."""
    if name in LAYOUTS:
        try:
            return load_idx(name, root)
        except DataNotFoundError:
            if not download:
                raise
        import torchvision.datasets as tvd

        cls = {"mnist": tvd.MNIST, "fashionmnist": tvd.FashionMNIST}[name]
        cls(str(root), train=True, download=True)
        cls(str(root), train=False, download=True)
        return load_idx(name, root)
    import torchvision.datasets as tvd

    try:
        if name == "stl10":
            parts = {s: tvd.STL10(str(root), split=s, download=download) for s in ("train", "test")}
            return {s: (d.data, np.asarray(d.labels, dtype=np.int64)) for s, d in parts.items()}, root
        parts = {s: tvd.CIFAR10(str(root), train=s == "train", download=download) for s in ("train", "test")}
        return {s: (d.data.transpose(0, 3, 1, 2), np.asarray(d.targets, dtype=np.int64)) for s, d in parts.items()}, root
    except (RuntimeError, FileNotFoundError, OSError) as e:
        raise DataNotFoundError(
            f"{name} is not on disk under {root} and edgeprune never downloads unless asked",
            hint=HOW_TO_PROVIDE[name].format(root=root) + ", pass root DIR, or set download on a connected machine",
            params=("root", "download"),
        ) from e


def load_torchvision_bundle(name: str, root: str | Path | None = None, input_size: int = 32,
                            channels: int | None = None, val: float = 0.1, fraction: float = 1.0,
                            seed: int = 0, download: bool = False,
                            sizes: tuple[int, int, int] | None = None) -> DataBundle:
    """A torchvision dataset from disk, decoded once into tensors at ``input_size``.

    Validation is carved from train (disjoint), test comes from the test split; ``sizes`` = (train, val,
    test) draws stratified subsets of exactly those sizes (the Reg+OBD paper: 6000, 1000, 1000),
    otherwise ``fraction`` of each split with ``val`` of the training part held out.
    """
    root = Path(root) if root else default_root()
    channels = channels or NATIVE_CHANNELS[name]
    mean, std = channel_stats(STATS[name], channels)
    splits, found = _read_torchvision(name, root, download)
    t_train, t_test = splits["train"][1], splits["test"][1]
    if sizes is not None:
        tr, va = stratified_sample(t_train, sizes[:2], seed=seed)
        (te,) = stratified_sample(t_test, sizes[2:], seed=seed)
    else:
        pool = _limit(t_train, fraction, seed)
        tr, va = (pool[p] for p in stratified_split(t_train[pool], (1.0 - val, val), seed=seed))
        te = _limit(t_test, fraction, seed)

    def part(split: str, idx: np.ndarray) -> ImageTensors:
        images, targets = splits[split]
        x = torch.from_numpy(np.ascontiguousarray(images[idx]))
        x = x.unsqueeze(1) if x.ndim == 3 else x
        return ImageTensors(resize_uint8(x, input_size), torch.from_numpy(targets[idx]), channels, mean, std, idx)

    return DataBundle(
        name=name, train=part("train", tr), val=part("train", va), test=part("test", te),
        labels=list(CLASSES.get(name, [str(i) for i in range(int(t_train.max()) + 1)])),
        input_shape=(channels, input_size, input_size), mean=mean, std=std,
        info={"root": str(found), "sizes": [len(tr), len(va), len(te)], "fraction": fraction, "seed": seed,
              "protocol": f"stratified subsets {list(sizes)}" if sizes else f"fraction {fraction}, val {val}"},
    )


def read_image(path: str):
    """ImageFolder's loader with the file named when it cannot be decoded (instead of PIL's bare OSError)."""
    from PIL import Image

    try:
        with open(path, "rb") as f:
            img = Image.open(f)
            return img.convert("RGB")
    except OSError as e:  # PIL.UnidentifiedImageError, truncated files, unreadable files
        raise DataNotFoundError(f"imagefolder image {path} cannot be read ({first_line(e).split(' <')[0]})",
                                hint="replace or delete the damaged file") from None


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
    plain = ImageFolder(str(path / "train"), transform=image_transform(input_size, channels, [0.0] * channels, [1.0] * channels),
                        loader=read_image)
    if len(plain) == 0:
        raise DataNotFoundError(f"imagefolder {path}/train holds no images")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(plain), size=min(stats_samples, len(plain)), replace=False)
    stack = torch.stack([plain[int(i)][0] for i in pick])
    mean = stack.mean(dim=(0, 2, 3)).tolist()
    std = stack.std(dim=(0, 2, 3)).clamp_min(1e-6).tolist()
    tf = image_transform(input_size, channels, mean, std)
    train_full = ImageFolder(str(path / "train"), transform=tf, loader=read_image)
    test_ds = ImageFolder(str(path / "test"), transform=tf, loader=read_image)
    if test_ds.classes != train_full.classes:
        raise ConfigError(f"imagefolder {path}: test classes {test_ds.classes} differ from train classes {train_full.classes}")
    if (path / "val").is_dir():
        val_ds = ImageFolder(str(path / "val"), transform=tf, loader=read_image)
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
