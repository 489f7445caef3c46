"""onnx_info: the same keys as model_info, MACs and params read from the graph alone."""

from __future__ import annotations

import pytest
import torch

import edgeprune as ep
from edgeprune.export.info import module_name, onnx_info
from edgeprune.export.onnx import export_onnx
from edgeprune.models import count_macs, count_params, layer_widths


def test_module_names_from_node_names():
    assert module_name("/features/features.0/Conv") == "features.0"
    assert module_name("/layer2/layer2.0/downsample/downsample.0/Conv") == "layer2.0.downsample.0"
    assert module_name("/fc/Gemm") == "fc"


@pytest.mark.parametrize(("name", "kw"), [
    ("vgg11", {"width": 0.125}), ("vgg11_bn", {"width": 0.125}),
    ("vgg11_bn", {"width": 0.125, "classifier": "seed", "hidden": 32}), ("tv:resnet18", {}), ("tv:mobilenet_v2", {}),
])
def test_macs_and_layers_equal_the_source_model(name, kw, digits, tmp_path):
    torch.manual_seed(0)
    model = ep.create_model(name, data=digits, **kw)
    info = onnx_info(export_onnx(model, tmp_path / "m.onnx"))
    assert set(info) == set(ep.model_info(model).to_dict())
    assert info["macs"] == count_macs(model, (1, 32, 32))
    assert info["input_shape"] == [1, 32, 32] and info["classes"] == 10 and info["name"] == name
    assert info["file_bytes"] == (tmp_path / "m.onnx").stat().st_size
    widths = [(w.name, w.kind, w.inputs, w.outputs) for w in layer_widths(model)]
    assert [(r["name"], r["kind"], r["inputs"], r["outputs"]) for r in info["layers"]] == widths
    # BatchNorm folds into the convolutions: its scale and shift go, bias-less convolutions gain a bias
    bn = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
    new_bias = sum(m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.bias is None)
    assert info["params"] == count_params(model) - bn + new_bias
