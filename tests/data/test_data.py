"""Data loaders: disjoint deterministic splits, one normalization, offline errors, on-disk fixtures."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from edgeprune.data import load_data, stratified_split
from edgeprune.errors import ConfigError, DataNotFoundError


def test_stratified_split_is_disjoint_complete_and_balanced():
    targets = np.repeat(np.arange(4), 50)
    parts = stratified_split(targets, (0.7, 0.15, 0.15), seed=3)
    joined = np.concatenate(parts)
    assert len(joined) == len(set(joined.tolist())) == 200
    for p in parts:
        counts = np.bincount(targets[p], minlength=4)
        assert counts.max() - counts.min() <= 1
    again = stratified_split(targets, (0.7, 0.15, 0.15), seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


def test_digits_splits_are_disjoint_and_use_train_statistics(digits):
    idx = [set(digits.split(s).indices.tolist()) for s in ("train", "val", "test")]
    assert not (idx[0] & idx[1]) and not (idx[0] & idx[2]) and not (idx[1] & idx[2])
    assert sum(map(len, idx)) == 1797
    x_train = digits.train.tensors[0]
    # normalized with the train split's own statistics: mean 0, std 1 there
    assert abs(x_train.mean().item()) < 1e-4 and abs(x_train.std().item() - 1) < 1e-3
    # and the test split went through the very same affine map (raw pixels are in [0, 1])
    raw_test = digits.test.tensors[0] * digits.std[0] + digits.mean[0]
    assert raw_test.min() >= -1e-5 and raw_test.max() <= 1 + 1e-5
    assert digits.input_shape == (1, 32, 32)


def test_digits_three_channels_and_size():
    b = load_data("digits", input_size=40, channels=3)
    x, y = b.sample("test", 5)
    assert x.shape == (5, 3, 40, 40) and y.shape == (5,)
    assert torch.equal(x[:, 0], x[:, 1])


def _write_idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    with open(path, "wb") as f:
        f.write(struct.pack(">II", magic, array.shape[0]))
        if array.ndim == 3:
            f.write(struct.pack(">II", *array.shape[1:]))
        f.write(array.astype(np.uint8).tobytes())


def test_mnist_from_a_raw_folder_on_disk(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 100), ("t10k", 20)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 255, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    b = load_data("mnist", root=tmp_path, input_size=32)
    assert b.info["sizes"] == [90, 10, 20]
    assert set(b.train.indices).isdisjoint(b.val.indices)
    x, _ = b.train[0]
    assert x.shape == (1, 32, 32)
    assert b.mean == [0.1307] and b.std == [0.3081]
    assert b.test.dataset.transform is b.train.dataset.transform or repr(b.test.dataset.transform) == repr(b.train.dataset.transform)


def test_missing_mnist_says_how_to_provide_it(tmp_path):
    with pytest.raises(DataNotFoundError) as e:
        load_data("mnist", root=tmp_path / "nowhere")
    text = str(e.value)
    assert "MNIST/raw" in text and "--data-root" in text and "never downloads" in text


def test_imagefolder_tree(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 10), ("test", 3)):
        for cls in ("covid", "normal"):
            d = tmp_path / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(d / f"{i}.png")
    b = load_data(f"imagefolder:{tmp_path}", input_size=32)
    assert b.labels == ["covid", "normal"]
    assert b.info["sizes"] == [18, 2, 6]
    assert set(b.train.indices).isdisjoint(b.val.indices)
    x, _ = b.test[0]
    assert x.shape == (3, 32, 32)


def test_imagefolder_without_test_split_is_a_clear_error(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match="train/ and test/"):
        load_data(f"imagefolder:{tmp_path}")


def test_unknown_dataset():
    with pytest.raises(ConfigError, match="unknown dataset"):
        load_data("imagenet22k")
