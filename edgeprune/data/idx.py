"""MNIST-style idx files (plain or gzip), found on their own: the data root, $EDGEPRUNE_DATA, ./data, the system."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from edgeprune.errors import DataNotFoundError

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# Sub-folders searched below each root: the root itself, torchvision's layout, Debian's folder name.
LAYOUTS = {"mnist": ("", "MNIST/raw", "mnist"), "fashionmnist": ("", "FashionMNIST/raw", "fashion-mnist")}
# Debian's dataset packages install here (apt-get install dataset-fashion-mnist).
SYSTEM_PACKAGES = {"fashionmnist": ("fashion-mnist", "dataset-fashion-mnist")}
SYSTEM_ENV = "EDGEPRUNE_SYSTEM_DATASETS"  # where system datasets live (default /usr/share/datasets)
_MAGIC = {2051: 3, 2049: 1}  # unsigned-byte images (3 dims) and labels (1 dim)


def system_root() -> Path:
    """Where Debian's dataset packages put their files (overridable for tests)."""
    return Path(os.environ.get(SYSTEM_ENV, "/usr/share/datasets"))


def search_roots(name: str, root: str | Path | None) -> list[Path]:
    """Folders searched for ``name``'s idx files, in order: root, $EDGEPRUNE_DATA, ./data, the system's."""
    roots = [Path(root)] if root else []
    if os.environ.get("EDGEPRUNE_DATA"):
        roots.append(Path(os.environ["EDGEPRUNE_DATA"]))
    roots.append(Path("data"))
    if name in SYSTEM_PACKAGES:
        roots.append(system_root() / SYSTEM_PACKAGES[name][0])
    return list(dict.fromkeys(roots))


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def find_idx_files(name: str, root: str | Path | None = None) -> dict[str, tuple[Path, Path]]:
    """The (images, labels) files of the train and test splits, from the first folder that has all four."""
    roots = search_roots(name, root)
    for base in roots:
        for sub in LAYOUTS[name]:
            folder = base / sub if sub else base
            found = {split: (_find(folder, img), _find(folder, lab)) for split, (img, lab) in SPLIT_FILES.items()}
            if all(p is not None for pair in found.values() for p in pair):
                return found  # type: ignore[return-value]
    where = f"{', '.join(map(str, roots))} (and their {'/, '.join(s for s in LAYOUTS[name] if s)}/)"
    files = ", ".join(f for pair in SPLIT_FILES.values() for f in pair)
    hint = f"copy the four idx files ({files}, .gz or not) into DIR/{LAYOUTS[name][1]}/ and pass root DIR"
    if name in SYSTEM_PACKAGES:
        package = SYSTEM_PACKAGES[name][1]
        raise DataNotFoundError(f"{name} is not installed: run apt-get install {package} (with sudo), which puts it in "
                                f"{system_root() / SYSTEM_PACKAGES[name][0]}; searched {where}; edgeprune never "
                                "downloads unless asked", hint=f"apt-get install {package}, or {hint}",
                                params=("root",))
    raise DataNotFoundError(f"{name} idx files not found in {where}; edgeprune never downloads unless asked",
                            hint=hint, params=("root",))


def read_idx(path: str | Path) -> np.ndarray:
    """An idx array of unsigned bytes (images N x H x W, or labels N), gzip or plain, checked for size."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DataNotFoundError(f"{path} is a damaged gzip file ({e})", hint="replace it with a fresh copy") from None
    if len(raw) < 8:
        raise DataNotFoundError(f"{path} is not an idx file (only {len(raw)} bytes)", hint="replace it with a fresh copy")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic not in _MAGIC:
        raise DataNotFoundError(f"{path} is not an unsigned-byte idx file (magic {magic}, expected 2051 or 2049)",
                                hint="replace it with a fresh copy")
    ndim = _MAGIC[magic]
    header = 4 + 4 * ndim
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DataNotFoundError(f"{path} holds {len(raw)} bytes, but its header announces {expected}",
                                hint="the file is truncated or damaged: replace it with a fresh copy")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_idx(name: str, root: str | Path | None = None) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], Path]:
    """Train and test (images N x 28 x 28 uint8, labels N int64) of an idx dataset, and the folder read."""
    files = find_idx_files(name, root)
    out = {}
    for split, (img_path, lab_path) in files.items():
        images, labels = read_idx(img_path), read_idx(lab_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataNotFoundError(f"{img_path} and {lab_path} do not match ({images.shape} images, {labels.shape} labels)",
                                    hint="the images file must be idx3 and the labels idx1 of the same split")
        out[split] = (images, labels.astype(np.int64))
    return out, files["train"][0].parent
