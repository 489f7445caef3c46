"""DataBundle: train/val/test splits with their labels, input shape and one normalization."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from edgeprune.errors import ConfigError

SPLITS = ("train", "val", "test")


@dataclass
class DataBundle:
    """Three disjoint splits that share one preprocessing (same mean/std for train and test)."""

    name: str
    train: Dataset
    val: Dataset
    test: Dataset
    labels: list[str]
    input_shape: tuple[int, int, int]
    mean: list[float]
    std: list[float]
    info: dict = field(default_factory=dict)

    def split(self, name: str) -> Dataset:
        """The dataset of one split by name."""
        if name not in SPLITS:
            raise ConfigError(f"split {name!r} is not one of {SPLITS}")
        return getattr(self, name)

    def loader(self, split: str, batch_size: int = 64, shuffle: bool | None = None, num_workers: int = 0,
               sampler: torch.utils.data.Sampler | None = None, seed: int = 0) -> DataLoader:
        """A DataLoader over one split; shuffled for train unless told otherwise, seeded."""
        shuffle = (split == "train") if shuffle is None else shuffle
        gen = torch.Generator().manual_seed(seed)
        return DataLoader(self.split(split), batch_size=batch_size, shuffle=shuffle and sampler is None,
                          sampler=sampler, num_workers=num_workers, generator=gen,
                          persistent_workers=num_workers > 0)

    def sample(self, split: str, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` (input, label) pairs from a split as two stacked tensors (calibration, parity)."""
        ds = self.split(split)
        n = min(n, len(ds))
        idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n].tolist()
        xs, ys = zip(*(ds[i] for i in idx), strict=True)
        return torch.stack(xs), torch.as_tensor(ys)


def stratified_split(targets: np.ndarray, fractions: tuple[float, ...], seed: int = 0) -> list[np.ndarray]:
    """Split indices into disjoint parts with the given fractions, class by class, deterministically."""
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in fractions]
    for cls in np.unique(targets):
        idx = np.flatnonzero(targets == cls)
        rng.shuffle(idx)
        bounds = np.floor(np.cumsum((0.0, *fractions)) * len(idx) + 0.5).astype(int)
        for i in range(len(fractions)):
            parts[i].extend(idx[bounds[i]:bounds[i + 1]].tolist())
    return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]


def subset(dataset: Dataset, indices: np.ndarray) -> Subset:
    """A Subset that remembers its indices (tests check disjointness through them)."""
    return Subset(dataset, indices.tolist())


def stratified_sample(targets: np.ndarray, sizes: tuple[int, ...], seed: int = 0) -> list[np.ndarray]:
    """Disjoint index sets of exactly ``sizes`` items, each with the class mix of ``targets``, deterministically."""
    targets = np.asarray(targets)
    if sum(sizes) > len(targets):
        raise ConfigError(f"sizes {list(sizes)} ask for {sum(sizes)} items but the split holds {len(targets)}")
    classes, counts = np.unique(targets, return_counts=True)
    quotas = np.zeros((len(sizes), len(classes)), dtype=np.int64)
    for s, n in enumerate(sizes):  # largest remainder: per-class shares that add up to n exactly
        share = counts * n / len(targets)
        quotas[s] = np.floor(share).astype(np.int64)
        for c in np.argsort(-(share - quotas[s]), kind="stable")[: n - quotas[s].sum()]:
            quotas[s, c] += 1
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in sizes]
    for c, cls in enumerate(classes):
        idx = np.flatnonzero(targets == cls)
        rng.shuffle(idx)
        bounds = np.cumsum((0, *quotas[:, c]))
        if bounds[-1] > len(idx):
            raise ConfigError(f"class {cls} has {len(idx)} items, too few for sizes {list(sizes)}")
        for s in range(len(sizes)):
            parts[s].extend(idx[bounds[s]:bounds[s + 1]].tolist())
    return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]
