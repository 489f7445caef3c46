"""Model builders: the papers' parameter counts, a hand MAC count, torchvision names, local weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeprune.errors import ModelError, WeightsNotFoundError
from edgeprune.models import count_macs, count_params, create_model, layer_widths, list_models, spec_of


def test_vgg16_seed_head_has_the_papers_parameter_count():
    with torch.device("meta"):
        from edgeprune.models import build

        model = build("vgg16", num_classes=2, input_size=224, classifier="seed")
    assert count_params(model) == 134_268_738


@pytest.mark.parametrize(("name", "params"), [("vgg11", 132_863_336), ("vgg19", 143_667_240)])
def test_imagenet_vgg_counts_match_torchvision(name, params):
    with torch.device("meta"):
        from edgeprune.models import build

        model = build(name, num_classes=1000, input_size=224, classifier="seed")
    assert count_params(model) == params


def test_macs_match_a_hand_count():
    model = create_model("vgg11", num_classes=10, in_channels=1, input_size=32, widths=[2, 3, 4, 4, 5, 5, 6, 6])
    # conv k=3, padding 1: MACs = H*W*Cin*Cout*9; spatial 32,16,8,8,4,4,2,2; then Linear 6->10
    hand = (32 * 32 * 1 * 2 + 16 * 16 * 2 * 3 + 8 * 8 * (3 * 4 + 4 * 4) + 4 * 4 * (4 * 5 + 5 * 5) + 2 * 2 * (5 * 6 + 6 * 6)) * 9
    hand += 6 * 10
    assert count_macs(model, (1, 32, 32)) == hand
    assert [w.outputs for w in layer_widths(model)] == [2, 3, 4, 4, 5, 5, 6, 6, 10]


def test_seed_head_linear_size_follows_input_size():
    model = create_model("vgg11_bn", num_classes=3, input_size=64, width=0.125, classifier="seed", hidden=32)
    first_linear = next(m for m in model.classifier if isinstance(m, nn.Linear))
    assert first_linear.in_features == 64 * 2 * 2
    assert model(torch.zeros(2, 3, 64, 64)).shape == (2, 3)


def test_too_small_input_is_a_clear_error():
    with pytest.raises(ModelError, match="at least 32 px"):
        create_model("vgg16", input_size=16)


def test_torchvision_models_by_name():
    assert "tv:resnet18" in list_models("tv:res*")
    model = create_model("tv:resnet18", num_classes=4, in_channels=1, input_size=32).eval()
    assert model(torch.zeros(1, 1, 32, 32)).shape == (1, 4)
    assert spec_of(model).input_shape == (1, 32, 32)
    with pytest.raises(ModelError, match="no classification model"):
        create_model("tv:resnet9000")


def test_imagenet_weights_absent_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsNotFoundError) as e:
        create_model("tv:resnet18", weights="imagenet")
    assert "resnet18" in str(e.value) and str(tmp_path) in str(e.value)


def test_local_vgg_weights_map_onto_the_seed_head(tmp_path):
    from safetensors.torch import save_file
    from torchvision.models import vgg11

    src = vgg11(weights=None)
    path = tmp_path / "vgg11.safetensors"
    save_file({k: v.contiguous() for k, v in src.state_dict().items()}, str(path))
    model = create_model("vgg11", num_classes=2, input_size=224, classifier="seed", weights=str(path))
    assert torch.equal(model.features[0].weight, src.features[0].weight)
    assert torch.equal(model.classifier[1].weight, src.classifier[0].weight)
    assert torch.equal(model.classifier[4].weight, src.classifier[3].weight)
    assert model.classifier[6].weight.shape == (2, 4096)  # the new head keeps its own init
