"""Pruning torchvision architectures at 50%: forward, ONNX export with reduced shapes, reload."""

from __future__ import annotations

import pytest
import torch

from edgeprune.models import count_macs, create_model, layer_widths, load_checkpoint, save_checkpoint
from edgeprune.pruning import prune


def _onnx_shapes(model, path, input_shape):
    import onnx

    torch.onnx.export(model.eval(), torch.randn(1, *input_shape), str(path), dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"])
    graph = onnx.load(str(path)).graph
    return {init.name: list(init.dims) for init in graph.initializer}


@pytest.mark.parametrize("name,expect", [("vgg16_bn", "features.0.weight"), ("tv:resnet18", "conv1.weight"),
                                          ("tv:mobilenet_v2", "features.0.0.weight")])
def test_prune_half_forward_and_onnx(name, expect, tmp_path):
    kwargs = {"width": 0.25} if name.startswith("vgg") else {}
    model = create_model(name, num_classes=10, in_channels=3, input_size=32, **kwargs)
    before = {w.name: w.outputs for w in layer_widths(model)}
    small = prune(model, "magnitude", None, ratio=0.5, scope="uniform").model
    after = {w.name: w.outputs for w in layer_widths(small)}
    shrunk = [n for n in before if after[n] < before[n]]
    assert len(shrunk) >= len(before) - 2  # all but the classifier (and a residual-coupled stem)
    assert sum(after.values()) < 0.75 * sum(before.values())
    assert small(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert count_macs(small, (3, 32, 32)) < count_macs(model, (3, 32, 32))
    shapes = _onnx_shapes(small, tmp_path / "m.onnx", (3, 32, 32))
    convs = {n: m for n, m in small.named_modules() if isinstance(m, torch.nn.Conv2d)}
    onnx_out = sorted(d[0] for d in shapes.values() if len(d) == 4)
    assert onnx_out == sorted(m.out_channels for m in convs.values())  # the graph carries the reduced widths
    assert min(onnx_out) < max(before.values())
    assert all(w % 8 == 0 or w == before[n] for n, w in after.items() if n in convs)


def test_pruned_round_trip_identical_weights(tmp_path, tiny_ckpt, digits, same_model):
    small = prune(tiny_ckpt, "taylor", digits, target_macs=0.5, samples=64).model
    path = save_checkpoint(small, tmp_path / "p.safetensors")
    again = load_checkpoint(path)
    same_model(again, small, torch.randn(3, 1, 32, 32))
    prov = again.edgeprune_spec.provenance
    assert prov["method"] == "taylor" and len(prov["parent_sha256"]) == 64
