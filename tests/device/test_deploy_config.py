"""DeployConfig per target (validated, round trips) and DeployResult: what a device bundle ships, from its manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgeprune.deploy import DeployConfig, DeployResult, DeviceDeployConfig, WebDeployConfig, deploy
from edgeprune.errors import ConfigError
from edgeprune.fileio import sha256_file
from edgeprune.runtime.device import extract_bundle, verify_dir


def test_configs_round_trip_through_json():
    for config in (WebDeployConfig(title="Digits", quiet=True), DeviceDeployConfig(target="linux-aarch64", openvino=True)):
        d = json.loads(json.dumps(config.to_dict()))
        assert DeployConfig.from_dict(d) == config
    assert WebDeployConfig().to_dict() == {"kind": "web", "title": None, "quiet": False, "require_spec": True}
    assert DeployConfig.of("device", target="linux-x86_64") == DeviceDeployConfig(target="linux-x86_64")
    assert DeployConfig.of(WebDeployConfig(quiet=True), title="t") == WebDeployConfig(title="t", quiet=True)


@pytest.mark.parametrize(("kind", "options", "message"), [
    ("web", {"titel": "x"}, "unknown web deploy option 'titel'"),
    ("web", {"openvino": True}, "unknown web deploy option 'openvino'; it applies to device deploys"),
    ("device", {"title": "x"}, "unknown device deploy option 'title'; it applies to web deploys"),
    ("device", {"target": "windows-arm"}, "device target 'windows-arm' is not one of"),
    ("device", {"openvino": "yes"}, "openvino must be true or false, got 'yes'"),
    ("web", {"quiet": 1}, "quiet must be true or false, got 1"),
    ("phone", {}, "deploy target 'phone' is not one of ['device', 'web']"),
])
def test_bad_options_are_one_error_that_names_them(kind, options, message):
    with pytest.raises(ConfigError) as err:
        DeployConfig.of(kind, **options)
    assert err.value.message.startswith(message)


def test_device_result_lists_what_the_manifest_records(digits_onnx, tmp_path):
    result = deploy(digits_onnx, tmp_path / "b.tar.gz", DeviceDeployConfig(target="linux-x86_64"))
    manifest = verify_dir(extract_bundle(result.path, tmp_path / "x"))
    assert result.kind == "device" and result.path == str(tmp_path / "b.tar.gz")
    assert result.files == manifest["files"] and result.model == "model.onnx"
    assert result.model_sha256 == sha256_file(digits_onnx) == sha256_file(tmp_path / "x" / "model.onnx")
    assert result.config == {"kind": "device", "target": "linux-x86_64", "openvino": False}
    assert DeployResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_a_checkpoint_ships_its_exports_verified_file(tiny_ckpt, tmp_path):
    from edgeprune.export import export

    made = export(tiny_ckpt, tmp_path / "export", formats=["onnx", "openvino"])
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(tiny_ckpt.read_bytes())  # beside its export folder, as ep.fit + ep.export_model lay them out
    result = deploy(ckpt, tmp_path / "b.tar.gz", "device", target="linux-x86_64", openvino=True)
    assert result.shipped_from == str(tmp_path / "export" / "model.sim.onnx")
    assert result.model_sha256 == made.verified()["onnx"].sha256
    assert result.files["openvino/model.xml"]["sha256"] == made.verified()["openvino"].sha256


def test_the_cli_speaks_of_flags(digits_onnx, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "edgeprune.cli", "deploy", "device", str(digits_onnx), "--out",
                           str(Path(tmp_path) / "b.zip")], capture_output=True, text=True,
                          env={**os.environ, "EDGEPRUNE_QUIET": "1"}, timeout=120)
    assert proc.returncode == 2 and "--out " in proc.stderr and "a device bundle is a .tar.gz file" in proc.stderr
