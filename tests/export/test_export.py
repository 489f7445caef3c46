"""export(): every artifact, parity, INT8 accuracy, torchvision models, option errors."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

import edgeprune as ep
from edgeprune.errors import ConfigError
from edgeprune.export import ExportConfig, ExportResult, export, list_formats
from edgeprune.export.info import onnx_info
from edgeprune.export.onnx import read_spec
from edgeprune.export.runtime import openvino_runner
from edgeprune.fileio import sha256_file
from edgeprune.models import spec_of


def test_full_export_writes_every_artifact(tiny_export, trained_ckpt):
    out, result = tiny_export
    assert result == ExportResult.from_dict(json.loads((out / "export.json").read_text()))
    assert result.to_dict() == json.loads((out / "export.json").read_text())
    assert result.status == "ok" and result.source_sha256 == sha256_file(trained_ckpt)
    for name in ("model.onnx", "model.sim.onnx", "openvino/model.xml", "openvino/model.bin", "model.int8.onnx",
                 "export.md"):
        assert (out / name).is_file(), name
    for f in result.files:
        assert f.bytes == sum((out / p["path"]).stat().st_size for p in f.parts)
        assert f.sha256 == sha256_file(out / f.path)
    for name in ("model.onnx", "model.sim.onnx", "model.int8.onnx"):
        onnx.checker.check_model(str(out / name), full_check=True)
        assert read_spec(out / name) == spec_of(ep.load(trained_ckpt))
    assert set(result.versions) >= {"torch", "onnx", "onnxruntime", "onnxsim", "openvino", "edgeprune"}
    assert "fp32" in result.openvino_weights and "fp16 by default" in result.openvino_weights
    assert result.config == ExportConfig(formats=["onnx", "openvino"], int8=True)
    assert {form: f.path for form, f in result.verified().items()} == {
        "onnx": "model.sim.onnx", "openvino": "openvino/model.xml", "int8": "model.int8.onnx"}


def test_parity_holds_for_fp32_and_int8_runs_in_both_runtimes(tiny_export):
    _, result = tiny_export
    rows = result.parity
    fp32 = [r for r in rows if r["precision"] == "fp32"]
    assert {(r["artifact"], r["batch"]) for r in fp32} == {
        (a, b) for a in ("model.onnx", "model.sim.onnx", "openvino/model.xml") for b in ("test", "random")}
    assert all(r["rel_diff"] <= 1e-4 and r["top1_agreement"] == 1.0 and r["passed"] for r in fp32)
    int8 = [r for r in rows if r["precision"] == "int8"]
    assert {(r["backend"], r["batch"]) for r in int8} == {(b, s) for b in ("ort", "openvino") for s in ("test", "random")}
    assert all(r["top1_agreement"] >= 0.9 for r in int8 if r["batch"] == "test")


def test_int8_accuracy_within_one_point_and_smaller(tiny_export):
    out, result = tiny_export
    acc = result.accuracy
    assert acc["n"] > 200 and acc["ort_fp32"] == acc["torch_fp32"] > 0.95, acc
    assert abs(acc["ort_int8"] - acc["ort_fp32"]) <= 0.01, acc
    assert result.int8_accuracy == acc["ort_int8"]
    sizes = {f.path: f.bytes for f in result.files}
    assert sizes["model.int8.onnx"] < 0.4 * sizes["model.sim.onnx"]
    fp32, int8 = onnx_info(out / "model.sim.onnx"), onnx_info(out / "model.int8.onnx")
    assert int8["macs"] == fp32["macs"] and int8["layers"] == fp32["layers"]


def test_half_width_onnx_only_without_data(tiny_half_ckpt, tmp_path):
    result = export(tiny_half_ckpt, tmp_path, formats=["onnx"])
    assert result.accuracy is None and result.data is None and result.int8_accuracy is None
    assert {r["batch"] for r in result.parity} == {"random"} and all(r["passed"] for r in result.parity)
    assert not (tmp_path / "openvino").exists()


@pytest.mark.parametrize("name", ["tv:resnet18", "tv:mobilenet_v2"])
def test_torchvision_models_export_with_parity(name, digits, tmp_path):
    torch.manual_seed(0)
    model = ep.create_model(name, data=digits)
    result = export(model, tmp_path, formats=("onnx", "openvino"), data=digits)
    assert result.ok
    assert {r["artifact"] for r in result.parity} == {"model.onnx", "model.sim.onnx", "openvino/model.xml"}
    assert max(r["rel_diff"] for r in result.parity) <= 1e-4


def test_fp16_ir_is_about_half_and_still_close(digits, tmp_path):
    torch.manual_seed(0)
    model = ep.create_model("vgg11_bn", data=digits, width=0.25)
    r32 = export(model, tmp_path / "a", formats=("onnx", "openvino"))
    r16 = export(model, tmp_path / "b", formats=("onnx", "openvino"), fp16=True)
    b32 = next(f.bytes for f in r32.files if f.format == "openvino")
    b16 = next(f.bytes for f in r16.files if f.format == "openvino")
    assert 0.45 < b16 / b32 < 0.6
    ir = [r for r in r16.parity if r["backend"] == "openvino"]
    assert all(r["precision"] == "fp16" and r["passed"] for r in ir)
    x = np.zeros((1, 1, 32, 32), np.float32)
    assert openvino_runner(tmp_path / "b" / "openvino" / "model.xml")(x).shape == (1, 10)


def test_option_errors(tiny_ckpt, digits, tmp_path):
    with pytest.raises(ConfigError, match="unknown export format"):
        export(tiny_ckpt, tmp_path, formats=("tflite",))
    with pytest.raises(ConfigError, match="options of their own, not formats"):
        export(tiny_ckpt, tmp_path, formats=("onnx", "int8"))
    with pytest.raises(ConfigError, match="int8 needs data"):
        export(tiny_ckpt, tmp_path, int8=True)
    with pytest.raises(ConfigError, match="has input shape"):
        export(tiny_ckpt, tmp_path, data=ep.load_data("digits", input_size=64))
    cifar_like = ep.create_model("vgg11_bn", data=digits, width=0.125, labels=[f"c{i}" for i in range(10)])
    with pytest.raises(ConfigError, match="has classes"):
        export(cifar_like, tmp_path, data=digits)
    assert set(list_formats()) == {"onnx", "openvino", "int8", "fp16"}


def test_simplifier_failure_falls_back_with_a_warning(tiny_ckpt, tmp_path, monkeypatch):
    import onnxsim

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(onnxsim, "simplify", broken)
    result = export(tiny_ckpt, tmp_path, formats=["onnx"])
    assert result.simplify["tool"] in (None, "onnxslim")
    if result.simplify["tool"] is None:
        assert "onnxsim: boom" in result.simplify["warning"]
    assert result.ok
