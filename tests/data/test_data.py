"""Data loaders: disjoint deterministic splits, one normalization, offline errors, on-disk fixtures."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from edgeprune.data import load_data, stratified_split
from edgeprune.data.bundle import stratified_sample
from edgeprune.data.idx import read_idx
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


@pytest.fixture
def no_system_data(tmp_path, monkeypatch):
    """Hide /usr/share/datasets, $EDGEPRUNE_DATA and ./data so only what a test writes is found."""
    monkeypatch.setenv("EDGEPRUNE_SYSTEM_DATASETS", str(tmp_path / "no-system"))
    monkeypatch.delenv("EDGEPRUNE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)


def test_mnist_from_a_raw_folder_on_disk(tmp_path, no_system_data, idx_files):
    idx_files(tmp_path / "MNIST" / "raw", gz=False)
    b = load_data("mnist", root=tmp_path, input_size=32)
    assert b.info["sizes"] == [90, 10, 20]
    assert set(b.train.indices).isdisjoint(b.val.indices)
    x, _ = b.train[0]
    assert x.shape == (1, 32, 32)
    assert b.mean == [0.1307] and b.std == [0.3081]


def test_gz_and_plain_idx_files_read_identically(tmp_path, no_system_data, idx_files):
    idx_files(tmp_path / "plain" / "FashionMNIST" / "raw", gz=False)
    idx_files(tmp_path / "gz", gz=True)  # Debian's layout: the .gz files right in the folder
    a = load_data("fashionmnist", root=tmp_path / "plain", input_size=32)
    b = load_data("fashionmnist", root=tmp_path / "gz", input_size=32)
    for split in ("train", "val", "test"):
        assert torch.equal(a.split(split).images, b.split(split).images)
        assert torch.equal(a.split(split).targets, b.split(split).targets)
    assert b.info["root"] == str(tmp_path / "gz")


def test_idx_pixels_survive_decoding(tmp_path, no_system_data, idx_files):
    """28 px in, 28 px out: the tensor is the file's bytes, normalized with the dataset's one mean/std."""
    idx_files(tmp_path, gz=True)
    raw = read_idx(tmp_path / "t10k-images-idx3-ubyte.gz")
    b = load_data("fashionmnist", root=tmp_path, input_size=28)
    x, _ = b.test[0]
    i = int(b.test.indices[0])
    expected = (torch.from_numpy(raw[i].astype(np.float32)) / 255 - 0.2860) / 0.3530
    torch.testing.assert_close(x[0], expected)
    three = load_data("fashionmnist", root=tmp_path, input_size=28, channels=3)
    assert torch.equal(three.test[0][0][0], three.test[0][0][2])


def test_search_order_root_then_env_then_data_then_system(tmp_path, no_system_data, monkeypatch, idx_files):
    system = tmp_path / "no-system" / "fashion-mnist"
    idx_files(system, gz=True, seed=1)
    assert load_data("fashionmnist").info["root"] == str(system)
    idx_files(tmp_path / "data" / "FashionMNIST" / "raw", gz=True, seed=2)
    assert load_data("fashionmnist").info["root"] == "data/FashionMNIST/raw"
    monkeypatch.setenv("EDGEPRUNE_DATA", str(tmp_path / "env"))
    idx_files(tmp_path / "env", gz=False, seed=3)
    assert load_data("fashionmnist").info["root"] == str(tmp_path / "env")
    idx_files(tmp_path / "mine", gz=True, seed=4)
    assert load_data("fashionmnist", root=tmp_path / "mine").info["root"] == str(tmp_path / "mine")


def test_missing_fashionmnist_names_the_apt_package(tmp_path, no_system_data):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError) as e:
        load_data("fashionmnist", root=tmp_path / "empty")
    text = str(e.value)
    assert "\n" not in text and "apt-get install dataset-fashion-mnist" in text
    assert "FashionMNIST/raw" in text and "never downloads" in text and str(tmp_path / "empty") in text


def test_missing_mnist_says_how_to_provide_it(tmp_path, no_system_data):
    with pytest.raises(DataNotFoundError) as e:
        load_data("mnist", root=tmp_path / "nowhere")
    text = str(e.value)
    assert "MNIST/raw" in text and "pass root DIR" in text and "never downloads" in text
    assert e.value.params == ("root",)  # the CLI shows it as --data-root
    assert "apt-get" not in text  # Debian packages no MNIST


@pytest.mark.parametrize("damage", ["truncated", "magic", "gzip", "tiny"])
def test_damaged_idx_files_are_one_clear_error(tmp_path, no_system_data, damage, idx_files):
    idx_files(tmp_path, gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    bad = {"truncated": gzip.compress(raw[:-100]), "magic": gzip.compress(b"\0\0\0\0" + raw[4:]),
           "gzip": path.read_bytes()[:50], "tiny": b"abc"}[damage]
    path.write_bytes(bad)
    with pytest.raises(DataNotFoundError, match=r"train-images-idx3-ubyte\.gz"):
        load_data("fashionmnist", root=tmp_path)


def test_paper_protocol_sizes_are_exact_stratified_and_disjoint(tmp_path, no_system_data, idx_files):
    idx_files(tmp_path, gz=True, n_train=900, n_test=300)
    b = load_data("fashionmnist", root=tmp_path, sizes=(600, 100, 200), input_size=32)
    assert b.info["sizes"] == [600, 100, 200]
    assert set(b.train.indices).isdisjoint(b.val.indices)  # val carved from train, no overlap
    for split, n in (("train", 600), ("val", 100), ("test", 200)):
        counts = np.bincount(b.split(split).targets.numpy(), minlength=10)
        assert counts.tolist() == [n // 10] * 10
    again = load_data("fashionmnist", root=tmp_path, sizes=(600, 100, 200), input_size=32)
    assert np.array_equal(again.train.indices, b.train.indices)
    other = load_data("fashionmnist", root=tmp_path, sizes=(600, 100, 200), input_size=32, seed=1)
    assert not np.array_equal(other.train.indices, b.train.indices)


def test_stratified_sample_keeps_the_class_mix_with_exact_totals():
    targets = np.array([0] * 50 + [1] * 30 + [2] * 20)
    a, b = stratified_sample(targets, (10, 7), seed=0)
    assert len(a) == 10 and len(b) == 7 and set(a).isdisjoint(b)
    assert np.bincount(targets[a]).tolist() == [5, 3, 2]
    assert np.bincount(targets[b], minlength=3).tolist() == [4, 2, 1]  # 3.5/2.1/1.4: largest remainders
    with pytest.raises(ConfigError, match="ask for 101"):
        stratified_sample(targets, (100, 1))


@pytest.mark.parametrize("kwargs, match", [
    ({"sizes": (10, 10)}, "three positive integers"),
    ({"sizes": (10, 0, 10)}, "three positive integers"),
    ({"sizes": (10, 10, 10), "fraction": 0.5}, "set one of them"),
])
def test_bad_sizes_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        load_data("fashionmnist", **kwargs)


def test_sizes_do_not_apply_to_digits():
    with pytest.raises(ConfigError, match="not digits"):
        load_data("digits", sizes=(10, 10, 10))


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


def test_options_digits_and_imagefolder_do_not_use_are_refused_by_parameter(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_data("digits", fraction=0.5, download=True)
    assert e.value.message == "fraction and download do not apply to digits data: it is embedded"
    assert e.value.params == ("fraction", "download")
    with pytest.raises(ConfigError) as e:
        load_data(f"imagefolder:{tmp_path}", root=tmp_path)
    assert e.value.message.startswith("root does not apply to imagefolder data") and e.value.params == ("root",)
