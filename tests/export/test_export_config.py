"""ExportConfig validation in parameter terms, ExportResult round trips, and materialize (one conversion, once)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from edgeprune.errors import ConfigError, ExportError
from edgeprune.export.config import ExportConfig
from edgeprune.export.materialize import materialize
from edgeprune.export.result import ExportFile, ExportResult
from edgeprune.fileio import read_json, sha256_file


def test_config_defaults_round_trip_through_json():
    c = ExportConfig(formats="onnx,openvino", int8=True, opset=18, input_shape=[1, 28, 28])
    assert c.formats == ["onnx", "openvino"] and c.input_shape == (1, 28, 28)
    assert ExportConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert ExportConfig().to_dict() == {"formats": ["onnx", "openvino"], "int8": False, "fp16": False, "opset": 17,
                                        "input_shape": None}


@pytest.mark.parametrize(("kwargs", "message", "params"), [
    ({"formats": ["tflite"]}, "formats names unknown export format(s) ['tflite']", ("formats",)),
    ({"formats": []}, "formats is empty: no export format given", ("formats",)),
    ({"opset": 6}, "opset 6 is not supported: the exporter writes opsets 7 to", ("opset",)),
    ({"opset": "17"}, "opset must be an integer, got '17'", ("opset",)),
    ({"int8": "yes"}, "int8 must be true or false, got 'yes'", ("int8",)),
    ({"input_shape": (1, 28)}, "input_shape must be (channels, height, width)", ("input_shape",)),
])
def test_config_refuses_bad_values_naming_the_parameter(kwargs, message, params):
    with pytest.raises(ConfigError) as err:
        ExportConfig(**kwargs)
    assert err.value.message.startswith(message) and err.value.params == params


def test_an_unknown_option_is_refused_in_every_call_form():
    with pytest.raises(ConfigError, match="unknown export option 'opst'") as err:
        ExportConfig.from_dict({"opst": 17})
    assert "formats, int8, fp16, opset, input_shape" in err.value.hint
    with pytest.raises(ConfigError, match="unknown export option 'fromats'"):
        ExportConfig.of(None, fromats=["onnx"])
    assert ExportConfig.of(ExportConfig(int8=True), opset=18) == ExportConfig(int8=True, opset=18)


def test_the_cli_shows_the_flag_for_the_parameter(tiny_ckpt, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "edgeprune.cli", "export", str(tiny_ckpt), "--to", "tflite",
                           "--no-data", "--out", str(tmp_path / "x")], capture_output=True, text=True,
                          env={**os.environ, "EDGEPRUNE_QUIET": "1"}, timeout=120)
    assert proc.returncode == 2
    assert "--to names unknown export format(s) ['tflite']" in proc.stderr and "Traceback" not in proc.stderr


def _result() -> ExportResult:
    return ExportResult(
        status="ok", model="vgg", input_shape=[1, 8, 8], opset=17, source={"path": "m.safetensors", "sha256": "ab"},
        files=[ExportFile("model.onnx", "onnx", "fp32", 10, "s1"), ExportFile("model.sim.onnx", "onnx", "fp32", 9, "s2"),
               ExportFile("openvino/model.xml", "openvino", "fp32", 30, "s3"),
               ExportFile("model.int8.onnx", "onnx", "int8", 4, "s4")],
        parity=[{"artifact": a, "passed": a != "openvino/model.xml"}
                for a in ("model.onnx", "model.sim.onnx", "openvino/model.xml", "model.int8.onnx")],
        parity_failed=["openvino/model.xml"], accuracy={"n": 10, "ort_fp32": 0.9, "ort_int8": 0.8},
        config=ExportConfig(int8=True))


def test_result_round_trips_and_reads_its_verified_files():
    r = _result()
    assert ExportResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    assert {form: f.sha256 for form, f in r.verified().items()} == {"onnx": "s2", "int8": "s4"}  # the IR failed
    assert r.int8_accuracy == 0.8 and r.source_sha256 == "ab" and r.file("model.onnx").bytes == 10


def test_an_export_json_without_config_still_reads():
    old = {k: v for k, v in _result().to_dict().items() if k != "config"}
    assert ExportResult.from_dict(old).config is None and ExportResult.from_dict(old).verified()["onnx"].bytes == 9


def test_export_returns_what_export_json_holds(tiny_ckpt, tmp_path):
    from edgeprune.export import export

    result = export(tiny_ckpt, tmp_path, ExportConfig(formats=["onnx"]))
    assert result == ExportResult.from_dict(read_json(tmp_path / "export.json"))
    assert result.config == ExportConfig(formats=["onnx"])


def test_materialize_returns_the_exports_verified_file(tiny_ckpt, tmp_path):
    from edgeprune.export import export

    made = export(tiny_ckpt, tmp_path / "export", formats=["onnx", "openvino"])
    cache = tmp_path / "cache"
    onnx = materialize(tiny_ckpt, "onnx", cache, export_dir=tmp_path / "export")
    ir = materialize(tiny_ckpt, "openvino", cache, export_dir=tmp_path / "export")
    assert onnx == tmp_path / "export" / "model.sim.onnx" and sha256_file(onnx) == made.verified()["onnx"].sha256
    assert ir == tmp_path / "export" / "openvino" / "model.xml"
    assert not cache.exists()  # nothing converted
    with pytest.raises(ExportError, match="no verified INT8 export"):
        materialize(tiny_ckpt, "int8", cache, export_dir=tmp_path / "export")


def test_materialize_converts_once_into_the_cache(tiny_half_ckpt, tmp_path, monkeypatch):
    import edgeprune.export.exporter as exporter

    cache = tmp_path / "cache"
    onnx = materialize(tiny_half_ckpt, "onnx", cache, export_dir=tmp_path / "none")
    ir = materialize(tiny_half_ckpt, "openvino", cache, export_dir=tmp_path / "none")
    entry = cache / f"{tiny_half_ckpt.name.split('.')[0]}-{sha256_file(tiny_half_ckpt)[:12]}"
    assert onnx == entry / "model.sim.onnx" and ir == entry / "openvino" / "model.xml"
    result = ExportResult.read(entry)
    assert result.source_sha256 == sha256_file(tiny_half_ckpt) and result.verified()["onnx"].sha256 == sha256_file(onnx)

    def no_more(*_a, **_k):
        raise AssertionError("converted again")

    monkeypatch.setattr(exporter, "export", no_more)
    assert materialize(tiny_half_ckpt, "onnx", cache, export_dir=tmp_path / "none") == onnx
    assert materialize(tiny_half_ckpt, "openvino", cache, export_dir=tmp_path / "none") == ir


def test_materialize_makes_a_checked_ir_of_an_onnx_file_once(tiny_half_ckpt, tmp_path, monkeypatch):
    import edgeprune.export.openvino as ov

    onnx = materialize(tiny_half_ckpt, "onnx", tmp_path / "a", export_dir=tmp_path / "none")
    assert materialize(onnx, "onnx", tmp_path / "b") == onnx  # already in that form
    ir = materialize(onnx, "openvino", tmp_path / "b")
    assert ir.is_file() and ir.with_suffix(".bin").is_file() and ir.is_relative_to(tmp_path / "b")
    monkeypatch.setattr(ov, "to_openvino", lambda *_a, **_k: pytest.fail("converted again"))
    assert materialize(onnx, "openvino", tmp_path / "b") == ir
    with pytest.raises(ExportError, match=r"cannot make onnx from openvino \(model\.xml\)"):
        materialize(ir, "onnx", tmp_path / "b")


def test_an_onnx_file_for_a_checkpoint_needs_no_openvino(tiny_half_ckpt, tmp_path, monkeypatch):
    """The bench's onnxruntime rows and the web bundle ask for ONNX only: OpenVINO is not run for them."""
    import edgeprune.export.openvino as ov

    monkeypatch.setattr(ov, "to_openvino", lambda *_a, **_k: pytest.fail("OpenVINO ran for an ONNX request"))
    onnx = materialize(tiny_half_ckpt, "onnx", tmp_path / "cache", export_dir=tmp_path / "none")
    assert onnx.name == "model.sim.onnx" and not (onnx.parent / "openvino").exists()


def test_the_ir_of_a_quantized_onnx_file_is_checked_by_top1_agreement(tiny_export, tmp_path):
    """INT8 kernels differ between runtimes: the IR of model.int8.onnx passes by the INT8 rule, not the FP32 one."""
    out, _ = tiny_export
    ir = materialize(out / "model.int8.onnx", "openvino", tmp_path / "cache")
    assert ir.is_file() and ir.with_suffix(".bin").is_file()
