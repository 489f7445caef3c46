"""ONNX export: one file, names, dynamic batch, spec in metadata, real widths, clear failures."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper
from torch import nn

import edgeprune as ep
from edgeprune.errors import ExportError
from edgeprune.export.onnx import export_onnx, onnx_files, read_metadata, read_spec, save_onnx
from edgeprune.export.runtime import ort_runner
from edgeprune.fileio import sha256_file
from edgeprune.models import layer_widths, spec_of


class Bessel(nn.Module):
    """A layer neither ONNX exporter can handle (no ONNX operator computes a Bessel function)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.special.bessel_j0(x)


def test_spec_and_readable_metadata_travel_into_the_file(tiny_ckpt, tmp_path):
    model = ep.load(tiny_ckpt)
    path = export_onnx(model, tmp_path / "m.onnx", source_sha256=sha256_file(tiny_ckpt))
    assert onnx_files(path) == [path]  # weights inside: one file
    assert read_spec(path) == spec_of(model)
    meta = read_metadata(path)
    assert meta["labels"] == '["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]'
    assert meta["input_shape"] == "[1, 32, 32]"
    assert np.allclose(eval(meta["mean"]), spec_of(model).mean) and np.allclose(eval(meta["std"]), spec_of(model).std)
    assert meta["source_sha256"] == sha256_file(tiny_ckpt)
    assert meta["edgeprune_version"] == ep.__version__


def test_names_and_dynamic_batch(tiny_ckpt, tmp_path):
    model = ep.load(tiny_ckpt)
    path = export_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["logits"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic batch
    assert {o.domain or "ai.onnx": o.version for o in proto.opset_import}["ai.onnx"] == 17
    run = ort_runner(path)
    for n in (1, 5):
        x = torch.randn(n, 1, 32, 32)
        with torch.no_grad():
            np.testing.assert_allclose(run(x.numpy()), model(x).numpy(), atol=1e-4)


def test_export_leaves_the_model_as_it_was(digits, tmp_path):
    model = ep.create_model("vgg11_bn", data=digits, width=0.125).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_onnx(model, tmp_path / "m.onnx")
    assert model.training  # training flag restored, BN statistics untouched
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_conv_shapes_equal_the_half_width_model(tiny_half_ckpt, tmp_path):
    model = ep.load(tiny_half_ckpt)
    proto = onnx.load(str(export_onnx(model, tmp_path / "half.onnx")))
    inits = {t.name: list(t.dims) for t in proto.graph.initializer}
    convs = [inits[n.input[1]] for n in proto.graph.node if n.op_type == "Conv"]
    widths = [w for w in layer_widths(model) if w.kind == "Conv2d"]
    assert [(c[1], c[0]) for c in convs] == [(w.inputs, w.outputs) for w in widths]
    assert [c[0] for c in convs] == [8, 16, 32, 32, 64, 64, 64, 64]


def test_unsupported_layer_is_named(digits, tmp_path):
    model = ep.create_model("vgg11_bn", data=digits, width=0.125)
    model.features[3] = Bessel()
    with pytest.raises(ExportError, match=r"features\.3 \(Bessel\).*bessel"):
        export_onnx(model, tmp_path / "bad.onnx")
    assert not (tmp_path / "bad.onnx").exists()


def test_input_size_the_model_cannot_take(digits, tmp_path):
    model = ep.create_model("vgg11", data=digits, width=0.125, classifier="seed", hidden=16)
    with pytest.raises(ExportError, match=r"cannot take inputs of shape \(1, 64, 64\)"):
        export_onnx(model, tmp_path / "m.onnx", input_shape=(1, 64, 64))


def test_large_models_go_to_external_data(tiny_ckpt, tmp_path, assert_outputs_close):
    model = ep.load(tiny_ckpt)
    proto = onnx.load(str(export_onnx(model, tmp_path / "one.onnx")))
    path = save_onnx(proto, tmp_path / "big.onnx", size_limit=1024)  # pretend 1 KiB is 2 GB
    files = onnx_files(path)
    assert [f.name for f in files] == ["big.onnx", "big.onnx.data"]
    assert files[1].stat().st_size > 10 * files[0].stat().st_size
    assert read_spec(path) == spec_of(model)
    x = np.random.default_rng(0).standard_normal((2, 1, 32, 32)).astype(np.float32)
    weights = [{t.name: numpy_helper.to_array(t) for t in onnx.load(str(p)).graph.initializer}
               for p in (path, tmp_path / "one.onnx")]
    assert weights[0].keys() == weights[1].keys()
    assert all(np.array_equal(weights[0][k], weights[1][k]) for k in weights[0])  # the same bytes, moved
    assert_outputs_close(ort_runner(path)(x), ort_runner(tmp_path / "one.onnx")(x))


def test_external_data_outside_the_folder_is_refused(tiny_ckpt, tmp_path):
    from onnx.external_data_helper import uses_external_data

    from edgeprune.errors import ExportError

    proto = onnx.load(str(export_onnx(ep.load(tiny_ckpt), tmp_path / "one.onnx")))
    path = save_onnx(proto, tmp_path / "big.onnx", size_limit=1024)
    evil = onnx.load(str(path), load_external_data=False)
    for t in evil.graph.initializer:
        if uses_external_data(t):
            for entry in t.external_data:
                if entry.key == "location":
                    entry.value = "../../etc/passwd"
    onnx.save(evil, str(tmp_path / "evil.onnx"))
    with pytest.raises(ExportError, match="outside its folder"):
        onnx_files(tmp_path / "evil.onnx")


def test_read_spec_of_a_foreign_file_is_none(tmp_path):
    proto = onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node("Relu", ["x"], ["y"])], "plain",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])]))
    onnx.save(proto, tmp_path / "plain.onnx")
    assert read_spec(tmp_path / "plain.onnx") is None
    with pytest.raises(ExportError, match="does not exist"):
        read_spec(tmp_path / "missing.onnx")


def test_what_torchscript_cannot_trace_goes_through_torch_export(digits, tmp_path, assert_outputs_close):
    model = ep.create_model("vgg11_bn", data=digits, width=0.125).eval()
    # torchvision's VGG at 32 px: AdaptiveAvgPool2d to 3x3 from a 1x1 map (TorchScript: "not factor of input size")
    model.features.append(nn.AdaptiveAvgPool2d((3, 3)))
    model.features.append(nn.AdaptiveAvgPool2d((1, 1)))
    path = export_onnx(model, tmp_path / "m.onnx")
    assert read_spec(path).name == "vgg11_bn"
    x = np.random.default_rng(0).standard_normal((3, 1, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    assert_outputs_close(ort_runner(path)(x), want)  # batch 3: the batch axis stayed dynamic
