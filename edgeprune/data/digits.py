"""scikit-learn's handwritten digits (1,797 real 8x8 scans), the embedded default dataset."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from edgeprune.data.bundle import DataBundle, stratified_split


def load_digits_bundle(input_size: int = 32, channels: int = 1, val: float = 0.15, test: float = 0.15,
                       seed: int = 0) -> DataBundle:
    """Digits resized to ``input_size``, 1 or 3 channels, stratified disjoint splits, train statistics."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = torch.as_tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(input_size, input_size), mode="bilinear", align_corners=False)
    images = images.clamp_(0.0, 1.0).repeat(1, channels, 1, 1)
    targets = torch.as_tensor(raw.target, dtype=torch.int64)
    tr, va, te = stratified_split(raw.target, (1.0 - val - test, val, test), seed=seed)
    mean = images[tr].mean().item()
    std = images[tr].std().item()
    images = (images - mean) / std

    def part(idx):
        ds = TensorDataset(images[idx], targets[idx])
        ds.indices = idx  # the source rows, for disjointness checks
        return ds

    return DataBundle(
        name="digits", train=part(tr), val=part(va), test=part(te),
        labels=[str(i) for i in range(10)], input_shape=(channels, input_size, input_size),
        mean=[mean] * channels, std=[std] * channels,
        info={"source": "sklearn.datasets.load_digits", "sizes": [len(tr), len(va), len(te)], "seed": seed},
    )
