"""Images decoded once into a uint8 tensor, resized as whole batches, normalized once: data never bounds an epoch."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, what PIL's convert("L") uses
MATERIALIZE_BYTES = 512 * 2**20  # normalized float copies up to this size are kept; larger sets normalize per item


def resize_uint8(images: torch.Tensor, size: int, chunk: int = 1024) -> torch.Tensor:
    """N x C x H x W uint8 -> N x C x size x size uint8 (bilinear, antialiased when shrinking), in chunks."""
    if images.shape[-2:] == (size, size):
        return images.contiguous()
    out = torch.empty((images.shape[0], images.shape[1], size, size), dtype=torch.uint8)
    shrink = size < max(images.shape[-2:])
    for i in range(0, len(images), chunk):
        x = images[i:i + chunk].float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink)
        out[i:i + chunk] = x.round_().clamp_(0, 255).to(torch.uint8)
    return out


def convert_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Float N x C x H x W to ``channels``: gray replicated to RGB, RGB to gray by luma."""
    if x.shape[1] == channels:
        return x
    if channels == 3:
        return x.expand(-1, 3, -1, -1)
    w = torch.tensor(LUMA, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


class ImageTensors(Dataset):
    """(image, label) pairs from uint8 images already at the model's size; one normalization for every split.

    ``indices`` are the rows of the source split the images came from (tests check disjointness).
    """

    def __init__(self, images: torch.Tensor, targets: torch.Tensor, channels: int, mean: list[float],
                 std: list[float], indices: np.ndarray) -> None:
        self.images = images
        self.targets = targets
        self.indices = np.asarray(indices, dtype=np.int64)
        self.channels = channels
        self._mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        self._std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        n, _, h, w = images.shape
        self._x = self._normalize(images) if n * channels * h * w * 4 <= MATERIALIZE_BYTES else None

    def _normalize(self, images: torch.Tensor) -> torch.Tensor:
        x = convert_channels(images.float().div_(255.0), self.channels)
        return ((x - self._mean) / self._std).contiguous()

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = self._x[i] if self._x is not None else self._normalize(self.images[i:i + 1])[0]
        return x, int(self.targets[i])
