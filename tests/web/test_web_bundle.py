"""The web bundle (no browser needed): files, manifest, runtime pinning, server headers, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from edgeprune.deploy import DeployResult
from edgeprune.deploy.web import RUNTIME_FILES, RuntimeMissingError, bundle_sizes, deploy_web, pinned_version
from edgeprune.errors import ConfigError, ModelError
from edgeprune.fileio import sha256_file

REPO = Path(__file__).resolve().parents[2]


def test_bundle_files_and_manifest(web_bundle, digits):
    m = json.loads((web_bundle / "manifest.json").read_text())
    assert {"index.html", "app.js", "style.css", "serve.py", "model.onnx"} <= {p.name for p in web_bundle.iterdir()}
    assert sorted(p.name for p in (web_bundle / "ort").iterdir()) == sorted(RUNTIME_FILES)
    assert m["input_shape"] == list(digits.input_shape) == [1, 32, 32]
    assert m["labels"] == list(digits.labels)
    assert m["mean"] == pytest.approx(digits.mean) and m["std"] == pytest.approx(digits.std)
    assert m["draw"] is True
    assert m["runtime"]["version"] == pinned_version() == "1.30.0"
    on_disk = {p.relative_to(web_bundle).as_posix() for p in web_bundle.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(m["files"]) == on_disk
    for rel, f in m["files"].items():
        assert f["sha256"] == sha256_file(web_bundle / rel) and f["bytes"] == (web_bundle / rel).stat().st_size
    sizes = bundle_sizes(m)
    assert sizes["model"] == m["files"]["model.onnx"]["bytes"] and sizes["runtime"] > 10 * 2**20


def test_page_references_only_bundle_files(web_bundle):
    html = (web_bundle / "index.html").read_text() + (web_bundle / "app.js").read_text()
    assert "http://" not in html and "https://" not in html  # no CDN
    assert 'src="ort/ort.wasm.min.js"' in html


def test_onnx_input_is_copied_as_is(tiny_onnx, tmp_path, need_runtime):
    result = deploy_web(tiny_onnx, tmp_path / "site", quiet=True)
    out = Path(result.path)
    assert sha256_file(out / "model.onnx") == sha256_file(tiny_onnx) == result.model_sha256
    assert result.files == json.loads((out / "manifest.json").read_text())["files"]
    assert result.shipped_from == str(tiny_onnx) and DeployResult.from_dict(result.to_dict()) == result


def test_an_unknown_option_is_refused(tiny_onnx, tmp_path):
    with pytest.raises(ConfigError, match="unknown web deploy option 'colour'"):
        deploy_web(tiny_onnx, tmp_path / "site", colour="blue")
    with pytest.raises(ConfigError, match="unknown web deploy option 'target'; it applies to device deploys"):
        deploy_web(tiny_onnx, tmp_path / "site", target="linux-aarch64")
    assert not (tmp_path / "site").exists()


def test_onnx_without_spec_is_a_clear_error(tiny_onnx, tmp_path, need_runtime):
    import onnx

    proto = onnx.load(str(tiny_onnx))
    del proto.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(proto, str(bare))
    with pytest.raises(ModelError, match="no edgeprune spec"):
        deploy_web(bare, tmp_path / "site", quiet=True)
    out = Path(deploy_web(bare, tmp_path / "site2", quiet=True, require_spec=False).path)
    m = json.loads((out / "manifest.json").read_text())
    assert m["input_shape"] == [1, 32, 32] and m["labels"] == [str(i) for i in range(10)] and m["std"] == [1.0]


def test_user_mistakes(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="does not exist"):
        deploy_web(tmp_path / "nope.onnx", tmp_path / "site")
    (tmp_path / "m.pt").write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"expected a \.safetensors"):
        deploy_web(tmp_path / "m.pt", tmp_path / "site")
    monkeypatch.setenv("EDGEPRUNE_ORT_WEB", str(tmp_path / "no-runtime"))
    with pytest.raises(RuntimeMissingError, match="make setup"):
        deploy_web(tmp_path / "m.pt", tmp_path / "site")


def test_serve_sends_isolation_headers_and_mime_types(web_bundle):
    from edgeprune.runtime.serve import Serving

    with Serving(web_bundle) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        want = {"index.html": "text/html", "app.js": "text/javascript", "ort/ort-wasm-simd-threaded.mjs": "text/javascript",
                "ort/ort-wasm-simd-threaded.wasm": "application/wasm", "manifest.json": "application/json"}
        for rel, mime in want.items():
            with urllib.request.urlopen(srv.url + rel) as r:
                assert r.headers["Content-Type"].split(";")[0] == mime, rel
                assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
                assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"


def test_bundled_serve_py_runs_standalone(web_bundle, tmp_path):
    site = tmp_path / "copy"
    shutil.copytree(web_bundle, site)
    proc = subprocess.Popen([sys.executable, str(site / "serve.py"), "--port", "0"], stdout=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        line = proc.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "manifest.json") as r:
            assert json.loads(r.read())["model"] == "model.onnx"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cli_deploy_web(tiny_onnx, tmp_path, need_runtime):
    exe = Path(sys.executable).with_name("edgeprune")
    r = subprocess.run([str(exe), "deploy", "web", str(tiny_onnx), "--out", str(tmp_path / "site")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "model" in r.stdout and "runtime (onnxruntime-web 1.30.0" in r.stdout and "MiB" in r.stdout
    assert (tmp_path / "site" / "manifest.json").is_file()


def test_setup_script_is_idempotent_and_never_fails():
    r = subprocess.run(["bash", str(REPO / "scripts" / "setup-web.sh")], capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "VENV": str(Path(sys.executable).parents[1])})
    assert r.returncode == 0
    assert "onnxruntime-web 1.30.0 present" in r.stdout or "skipped onnxruntime-web" in r.stdout
    assert "playwright install" not in r.stdout.replace("never run `playwright install`", "")
