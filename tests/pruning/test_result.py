"""ep.prune returns a PruneResult: the smaller model and prune.json's content, round-tripping through JSON."""

from __future__ import annotations

import json

import torch

import edgeprune as ep
from edgeprune.fileio import read_json
from edgeprune.models import count_macs, count_params
from edgeprune.pruning import PruneConfig, PruneResult


def test_prune_returns_a_result_that_round_trips(tmp_path):
    model = ep.create_model("vgg11_bn", num_classes=10, in_channels=1, input_size=32, width=0.125)
    config = PruneConfig.from_options("magnitude", ratio=0.5, norm="l2", round_to=1)
    result = ep.prune(model, config, out=tmp_path)
    assert isinstance(result, PruneResult) and result.config == config
    assert result.params == count_params(result.model) < count_params(model)
    assert result.macs == count_macs(result.model, (1, 32, 32))
    assert result.checkpoint == str(tmp_path / "model.safetensors")
    data = json.loads(json.dumps(result.to_dict()))
    assert data == read_json(tmp_path / "prune.json")  # prune.json is the result's dict
    again = PruneResult.from_dict(data)
    assert again.model is None and again.to_dict() == result.to_dict()
    loaded = PruneResult.read(tmp_path, load=True).model
    x = torch.randn(2, 1, 32, 32)
    assert torch.allclose(loaded(x), result.model(x), atol=1e-5)


def test_the_keyword_form_builds_the_same_config(tmp_path):
    model = ep.create_model("vgg11_bn", num_classes=10, in_channels=1, input_size=32, width=0.125)
    result = ep.prune(model, "magnitude", None, ratio=0.5, norm="l2", round_to=1)
    assert result.config == PruneConfig.from_options("magnitude", ratio=0.5, norm="l2", round_to=1)
    assert result.checkpoint is None and result.options["norm"] == "l2"


def test_a_moved_folder_and_a_prune_json_from_before_typed_configs_still_read(tmp_path):
    """read() finds the checkpoint in the folder it reads, wherever that folder went; no ``config`` reads as None."""
    model = ep.create_model("vgg11_bn", num_classes=10, in_channels=1, input_size=32, width=0.125)
    ep.prune(model, "magnitude", None, ratio=0.5, out=tmp_path / "a")
    (tmp_path / "a").rename(tmp_path / "b")
    moved = PruneResult.read(tmp_path / "b", load=True)
    assert moved.checkpoint == str(tmp_path / "b" / "model.safetensors") and moved.model is not None
    old = {k: v for k, v in read_json(tmp_path / "b" / "prune.json").items() if k not in ("config", "checkpoint")}
    (tmp_path / "b" / "prune.json").write_text(json.dumps(old))
    legacy = PruneResult.read(tmp_path / "b")
    assert legacy.config is None and legacy.method == "magnitude" and legacy.macs_kept < 1
    assert legacy.to_dict()["config"] is None
