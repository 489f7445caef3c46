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
