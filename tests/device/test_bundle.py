"""Device bundle: contents, checksums, tamper and path-traversal refusal, targets, CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from edgeprune.deploy.device import BundleError, deploy_device, extract_bundle, verify_dir
from edgeprune.errors import ConfigError
from edgeprune.fileio import sha256_file

REPO = Path(__file__).resolve().parents[2]


def test_bundle_contents_and_manifest(extracted, digits_onnx):
    manifest = json.loads((extracted / "manifest.json").read_text())
    names = set(manifest["files"])
    assert {"model.onnx", "run.py", "runtime/timing.py", "requirements.txt", "README.md"} <= names
    for name, entry in manifest["files"].items():
        assert sha256_file(extracted / name) == entry["sha256"]
    assert manifest["target"] == "linux-x86_64"
    assert manifest["spec"]["input_shape"] == [1, 32, 32]
    assert manifest["spec"]["labels"] == [str(i) for i in range(10)]
    assert sha256_file(extracted / "model.onnx") == sha256_file(digits_onnx)  # ONNX copied as is
    from edgeprune.runtime import SHIPPED

    shipped = {n for n in names if n.startswith("runtime/")}
    assert shipped == {f"runtime/{m}" for m in SHIPPED}
    for name in shipped:  # the very same protocol, verification and session settings as edgeprune's
        assert (extracted / name).read_bytes() == (REPO / "edgeprune" / name).read_bytes()


def test_requirements_pinned_for_target(extracted):
    lines = [ln for ln in (extracted / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines and all("==" in ln and 'platform_machine == "x86_64"' in ln for ln in lines)
    assert {ln.split("==")[0] for ln in lines} == {"numpy", "onnxruntime"}


def test_bundle_is_reproducible(digits_onnx, bundle, tmp_path):
    again = deploy_device(digits_onnx, tmp_path / "again.tar.gz", target="linux-x86_64")
    assert sha256_file(again.path) == sha256_file(bundle)


def test_tampered_file_is_refused(extracted):
    model = extracted / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"model\.onnx does not match its sha256"):
        verify_dir(extracted)


def test_tampered_archive_is_refused(bundle, tmp_path):
    bad = tmp_path / "tampered.tar.gz"
    with tarfile.open(bundle) as src, tarfile.open(bad, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name == "run.py":
                data = data.replace(b"RunnerError", b"RunnerErrod", 1)  # one byte changed
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    with pytest.raises(BundleError, match=r"run\.py does not match"):
        extract_bundle(bad, tmp_path / "out")


def test_unlisted_file_is_refused(extracted):
    (extracted / "extra.py").write_text("print('hi')\n")
    with pytest.raises(BundleError, match="not in the manifest"):
        verify_dir(extracted)


def test_missing_file_is_refused(extracted):
    (extracted / "runtime" / "ort.py").unlink()
    with pytest.raises(BundleError, match=r"runtime/ort\.py is missing"):
        verify_dir(extracted)


def test_pycache_of_the_shipped_modules_is_not_unlisted(extracted):
    (extracted / "runtime" / "__pycache__").mkdir()
    (extracted / "runtime" / "__pycache__" / "bundle.cpython-311.pyc").write_bytes(b"\0")
    assert verify_dir(extracted)["format"] == "edgeprune-device-bundle/1"


def _tar_with(path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "{tmp}/abs/evil.txt"],
                         ids=["parent", "nested-parent", "absolute"])
def test_traversal_is_refused(tmp_path, name):
    out = tmp_path / "out"
    name = name.format(tmp=tmp_path)  # the absolute member points into this test's own folder, not /tmp
    # where a naive extraction would have written it: out/../evil.txt, out/a/../../evil.txt, or the absolute path
    landing = Path(os.path.normpath(os.path.join(out, name)))
    assert landing.parent in (tmp_path, tmp_path / "abs") and not landing.is_relative_to(out)
    archive = _tar_with(tmp_path / "evil.tar.gz", tarfile.TarInfo(name))
    with pytest.raises(BundleError, match="unsafe path"):
        extract_bundle(archive, out)
    assert not landing.exists()
    assert not out.exists()  # refused before anything was written, stripped-slash variants included


def test_links_are_refused(tmp_path):
    link = tarfile.TarInfo("model.onnx")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(BundleError, match="link or special file"):
        extract_bundle(_tar_with(tmp_path / "link.tar.gz", link), tmp_path / "out")


def test_bad_target_and_out(digits_onnx, tmp_path):
    with pytest.raises(ConfigError, match="linux-aarch64"):
        deploy_device(digits_onnx, tmp_path / "b.tar.gz", target="windows-arm")
    with pytest.raises(ConfigError, match=r"\.tar\.gz"):
        deploy_device(digits_onnx, tmp_path / "b.zip", target="linux-x86_64")


def test_cli_deploy_device_from_checkpoint(tiny_ckpt, tmp_path):
    out = tmp_path / "pi.tar.gz"
    proc = subprocess.run([sys.executable, "-m", "edgeprune.cli", "deploy", "device", str(tiny_ckpt),
                           "--target", "linux-aarch64", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    folder = extract_bundle(out, tmp_path / "x")
    manifest = verify_dir(folder)
    assert manifest["target"] == "linux-aarch64"
    assert 'platform_machine == "aarch64"' in (folder / "requirements.txt").read_text()
    missing = subprocess.run([sys.executable, "-m", "edgeprune.cli", "deploy", "device", str(tmp_path / "nope.onnx"),
                              "--out", str(out)], capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_openvino_ir_is_optional_and_checksummed(digits_onnx, tmp_path):
    b = deploy_device(digits_onnx, tmp_path / "ov.tar.gz", target="linux-aarch64", openvino=True)
    manifest = verify_dir(extract_bundle(b.path, tmp_path / "x"))
    assert manifest["openvino"] == "openvino/model.xml"
    assert {"openvino/model.xml", "openvino/model.bin"} <= set(manifest["files"])
