"""Device fixtures: a bundle of the tiny digits model, and a throwaway sshd on 127.0.0.1.

No sshd (or one that crashes or never listens) is the ``ssh`` component missing: a skip with the reason,
or a failure with it under ``EDGEPRUNE_REQUIRE=ssh`` (CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


@pytest.fixture(scope="session")
def digits_onnx(tiny_ckpt, tmp_path_factory) -> Path:
    """The tiny digits model as ONNX (with its spec)."""
    from edgeprune.export.onnx import export_onnx
    from edgeprune.models import load_checkpoint

    return export_onnx(load_checkpoint(tiny_ckpt), tmp_path_factory.mktemp("onnx") / "model.onnx")


@pytest.fixture(scope="session")
def bundle(digits_onnx, tmp_path_factory) -> Path:
    """A linux-x86_64 device bundle of the tiny digits model."""
    from edgeprune.deploy.device import deploy_device

    return Path(deploy_device(digits_onnx, tmp_path_factory.mktemp("bundle") / "bundle.tar.gz",
                              target="linux-x86_64").path)


@pytest.fixture()
def extracted(bundle, tmp_path) -> Path:
    """The bundle extracted (and verified) into a fresh folder."""
    from edgeprune.deploy.device import extract_bundle

    return extract_bundle(bundle, tmp_path / "bundle")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory, require_or_skip):
    """A real sshd on 127.0.0.1 (odd port, throwaway host and user keys); yields SSH options for it."""
    if not os.path.exists(SSHD):
        require_or_skip("ssh", f"{SSHD} is missing: `make setup` installs openssh-server when run as root")
    if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        require_or_skip("ssh", "the OpenSSH client (ssh, ssh-keygen) is missing")
    d = tmp_path_factory.mktemp("sshd")
    _keygen(d / "host_key")
    _keygen(d / "user_key")
    shutil.copy(d / "user_key.pub", d / "authorized_keys")
    port = _free_port()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {(d / 'host_key.pub').read_text()}")
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    log = open(d / "sshd.log", "wb")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                require_or_skip("ssh", f"sshd exited at start: {(d / 'sshd.log').read_text()[-300:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    require_or_skip("ssh", f"sshd did not listen within 10 s: {(d / 'sshd.log').read_text()[-300:]}")
                time.sleep(0.05)
        user = os.environ.get("USER") or __import__("getpass").getuser()
        yield {"device": f"ssh://{user}@127.0.0.1:{port}", "identity": str(d / "user_key"),
               "known_hosts": str(d / "known_hosts"), "strict_host_key_checking": "yes",
               "ssh_config": "/dev/null", "remote_dir": str(d / "remote"), "python": __import__("sys").executable}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture()
def digit_pixels(digits):
    """Eight test digits as [0, 1] pixels (N, 1, 32, 32), undoing the dataset's normalization."""
    import numpy as np

    x, _ = digits.sample("test", 8)
    return (x.numpy() * np.float32(digits.std[0]) + np.float32(digits.mean[0])).clip(0, 1).astype(np.float32)


@pytest.fixture()
def local_logits(extracted):
    """pixels -> what onnxruntime in this process gives for the bundle's model and (x - mean) / std."""
    import json

    import numpy as np
    import onnxruntime as ort

    spec = json.loads((extracted / "manifest.json").read_text())["spec"]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(extracted / "model.onnx"), opts, providers=["CPUExecutionProvider"])

    def logits(pixels):
        x = ((pixels - np.float32(spec["mean"][0])) / np.float32(spec["std"][0])).astype(np.float32)
        return sess.run(None, {sess.get_inputs()[0].name: x})[0]

    return logits
