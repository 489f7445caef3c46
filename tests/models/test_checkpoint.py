"""Checkpoints: rebuilt from the JSON spec alone (pruned sizes included), never unpickled, clear errors."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from edgeprune.errors import CheckpointError
from edgeprune.models import create_model, load_checkpoint, read_header, save_checkpoint, spec_of


def _shrink_first_block(model: nn.Module, keep: int) -> None:
    """Remove output channels of the first conv by hand (what pruning does), fixing BN and the next conv."""
    conv, bn, nxt = model.features[0], model.features[1], model.features[4]
    idx = torch.arange(keep)
    new_conv = nn.Conv2d(conv.in_channels, keep, 3, padding=1)
    new_conv.weight.data, new_conv.bias.data = conv.weight.data[idx].clone(), conv.bias.data[idx].clone()
    new_bn = nn.BatchNorm2d(keep)
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(new_bn, name).data = getattr(bn, name).data[idx].clone()
    new_next = nn.Conv2d(keep, nxt.out_channels, 3, padding=1)
    new_next.weight.data, new_next.bias.data = nxt.weight.data[:, idx].clone(), nxt.bias.data.clone()
    model.features[0], model.features[1], model.features[4] = new_conv, new_bn, new_next


def test_round_trip_of_a_shrunk_model_gives_identical_weights(tmp_path, same_model):
    model = create_model("vgg11_bn", num_classes=10, in_channels=1, width=0.25, labels=list("abcdefghij"))
    _shrink_first_block(model, keep=5)
    model.eval()
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    again = load_checkpoint(path)
    same_model(model, again, torch.randn(3, 1, 32, 32))
    assert again.features[0].out_channels == 5 and again.features[4].in_channels == 5
    assert spec_of(again).labels == list("abcdefghij")
    spec, _ = read_header(path)
    assert spec.layers["features.0"]["out_channels"] == 5


def test_checkpoint_holds_no_pickle(tmp_path):
    model = create_model("vgg11", width=0.125)
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8:8 + header_len])
    assert header["__metadata__"]["format"] == "edgeprune-checkpoint/1"
    assert b"\x80\x04\x95" not in path.read_bytes()[: 8 + header_len]  # no pickle protocol-4 frame


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = save_checkpoint(create_model("vgg11", width=0.125), tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        load_checkpoint(path)


def test_foreign_files_are_refused(tmp_path):
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="not an edgeprune checkpoint"):
        load_checkpoint(plain)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        load_checkpoint(junk)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_torchvision_model_round_trip(tmp_path, same_model):
    model = create_model("tv:mobilenet_v2", num_classes=3, input_size=32).eval()
    again = load_checkpoint(save_checkpoint(model, tmp_path / "mb.safetensors"))
    same_model(model, again, torch.randn(2, 3, 32, 32))
