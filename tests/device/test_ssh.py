"""The ssh path end to end against a real sshd on 127.0.0.1: install, verify, classify, bench."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from edgeprune.errors import ConfigError
from edgeprune.runtime.device.remote import RemoteError, SshDevice, SshOptions, parse_device

pytestmark = pytest.mark.ssh


def test_parse_device():
    assert parse_device("ssh://pi@raspberrypi.local:2222") == ("pi@raspberrypi.local", 2222)
    assert parse_device("pi@board") == ("pi@board", None)
    assert parse_device("ssh://[::1]:22") == ("[::1]", 22)
    for bad in ("http://pi@board", "ssh://", "ssh://pi@board/path", "ssh://pi@board:notaport"):
        with pytest.raises(ConfigError):
            parse_device(bad)


def test_ssh_args_use_batch_mode_and_options():
    dev = SshDevice(SshOptions("ssh://pi@board:2200", identity="/k", strict_host_key_checking="accept-new",
                               known_hosts="/kh"))
    args = dev.ssh_args()
    assert args[0] == "ssh" and args[-1] == "pi@board"
    assert "BatchMode=yes" in args and "StrictHostKeyChecking=accept-new" in args and "UserKnownHostsFile=/kh" in args
    assert args[args.index("-p") + 1] == "2200" and args[args.index("-i") + 1] == "/k"
    assert "-F" not in args  # the user's ~/.ssh/config applies unless another one is named


def test_remote_predictions_equal_local(sshd, bundle, digit_pixels, local_logits, tmp_path, assert_outputs_close):
    dev = SshDevice(SshOptions(**sshd))
    assert dev.target() == "linux-x86_64"
    folder = dev.install(bundle)
    np.save(tmp_path / "x.npy", digit_pixels)
    rows = dev.classify(folder, tmp_path / "x.npy")
    assert len(rows) == len(digit_pixels)
    expected = local_logits(digit_pixels)
    assert_outputs_close(np.array([r["logits"] for r in rows], dtype=np.float32), expected)
    assert [r["index"] for r in rows] == expected.argmax(1).tolist()


def test_remote_refuses_tampered_bundle(sshd, bundle, tmp_path):
    bad = tmp_path / "tampered.tar.gz"
    with tarfile.open(bundle) as src, tarfile.open(bad, "w:gz") as dst:
        for m in src.getmembers():
            data = bytearray(src.extractfile(m).read())
            if m.name == "model.onnx":
                data[100] ^= 0x01
            dst.addfile(m, io.BytesIO(bytes(data)))
    with pytest.raises(RemoteError, match=r"model\.onnx does not match its sha256"):
        SshDevice(SshOptions(**sshd)).install(bad)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(RemoteError, match="unsafe bundle members"):
        SshDevice(SshOptions(**sshd)).install(evil)


def test_unreachable_device_is_a_clear_error(sshd):
    opts = SshOptions(**{**sshd, "identity": "/nonexistent-key", "connect_timeout": 5})
    with pytest.raises(RemoteError, match="failed"):
        SshDevice(opts).target()


def test_ssh_backend_measures_interleaved_with_device_env(sshd, digits_onnx, tmp_path):
    from edgeprune.bench.backends import Artifact, get_backend
    from edgeprune.runtime.timing import Preset

    backend = get_backend("ssh")
    assert not backend.in_process and backend.form == "onnx"
    preset = Preset("test", warmup_runs=1, warmup_s=0.1, min_runs=6, min_rounds=3, min_time_s=0.0, max_time_s=5.0)
    arts = [Artifact(name, digits_onnx, "onnx", (1, 32, 32), options=sshd) for name in ("base", "cand")]
    results = backend.measure(arts, threads=1, batch=1, preset=preset)
    assert [r.name for r in results] == ["base", "cand"]
    for r in results:
        assert r.error is None, r.error
        assert len(r.rounds) >= 3 and len(r.samples) >= 6 and r.first_ms > 0
        assert {"cpu_model", "cores", "onnxruntime"} <= set(r.info["env"]) and r.info["target"] == "linux-x86_64"
    assert backend.version() == r.info["env"]["onnxruntime"]
    down = backend.measure([Artifact("x", digits_onnx, "onnx", (1, 32, 32), options={**sshd, "identity": "/nope"})],
                           threads=1, batch=1, preset=preset)
    assert down[0].error and "failed" in down[0].error  # a failure is a row, not a crash


@pytest.mark.parametrize("filters", [True, False], ids=["tarfile-filter", "no-filter (Debian 12 Python 3.11.2)"])
def test_device_side_extraction(bundle, tmp_path, filters):
    import subprocess
    import sys

    from edgeprune.runtime.device import verify_dir
    from edgeprune.runtime.device.remote import EXTRACT

    code = EXTRACT if filters else "import tarfile\ndel tarfile.data_filter\n" + EXTRACT
    ok = subprocess.run([sys.executable, "-c", code, str(bundle), str(tmp_path / "b")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    verify_dir(tmp_path / "b")
    assert (tmp_path / "b" / "run.py").stat().st_mode & 0o100
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("a/../../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    bad = subprocess.run([sys.executable, "-c", code, str(evil), str(tmp_path / "e")], capture_output=True, text=True)
    assert bad.returncode == 1 and "unsafe bundle members" in bad.stderr
    assert not (tmp_path / "escaped.txt").exists()


def test_options_from_device_url():
    o = SshOptions.parse("ssh://pi@board:2200?remote_setup=1&cpus=2,3&connect-timeout=5&identity=/k")
    assert (o.device, o.remote_setup, o.cpus, o.connect_timeout, o.identity) == ("ssh://pi@board:2200", True, "2,3", 5, "/k")
    assert SshOptions.parse({"device": "pi@board", "python": "python3.9"}).python == "python3.9"
    with pytest.raises(ConfigError, match="unknown ssh option"):
        SshOptions.parse("ssh://pi@board?password=hunter2")


def test_cli_bench_over_ssh(sshd, digits_onnx, tmp_path):
    import subprocess
    import sys
    from urllib.parse import urlencode

    url = sshd["device"] + "?" + urlencode({k: v for k, v in sshd.items() if k != "device"})
    proc = subprocess.run([sys.executable, "-m", "edgeprune.cli", "bench", str(digits_onnx), "--backends", "ssh",
                           "--threads", "1", "--no-memory", "--device", url, "--out", str(tmp_path / "b")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "b" / "bench.json").read_text())
    (row,) = report["rows"]
    assert row["backend"] == "ssh" and row["status"] == "ok" and row["p50_ms"] > 0
    assert row["runtime"]["env"]["machine"] == "x86_64" and row["runtime"]["target"] == "linux-x86_64"
    assert row["profile"] == "device"
    assert f"- device {row['runtime']['device']}: " in (tmp_path / "b" / "bench.md").read_text()
