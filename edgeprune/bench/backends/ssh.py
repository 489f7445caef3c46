"""The ``ssh`` bench backend: a board runs the device bundle's runner (runtime/timing.py verbatim) over SSH.

Out of process: every MODEL becomes a device bundle for the board's own target, is copied over the
ssh channel, verified there, and measured by one runner process that interleaves all of them in
rounds; the raw samples come back with the board's environment header in ``RawResult.info["env"]``.

Where to connect: ``backend.options``, the :class:`edgeprune.runtime.device.remote.SshOptions` of the
bench's ``BenchConfig.ssh`` (built from ``device="ssh://user@host[:port]?remote_setup=1&cpus=2,3"`` when
only a URL is given), set by the bench core per bench; without it, ``Artifact.options`` (a dict of
SshOptions fields) or ``$EDGEPRUNE_SSH_DEVICE``. Nothing is kept between benches.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from edgeprune.bench.backends import Artifact, Backend, Preset, RawResult, register_backend
from edgeprune.runtime.device.remote import SshOptions


@register_backend
class SshBackend(Backend):
    """onnxruntime on a remote Linux device reached with the user's SSH configuration and keys."""

    name, form, in_process = "ssh", "onnx", False
    description = "onnxruntime on a device over SSH (--device ssh://user@host[:port]; runner needs numpy + onnxruntime)"
    options_type = SshOptions

    def __init__(self) -> None:
        self.device: Any = None
        self.options: SshOptions | None = None
        self.device_env: dict[str, Any] = {}

    def _options(self, artifacts: list[Artifact]) -> SshOptions | None:
        """This bench's options; else the artifacts' own, the device URL, or $EDGEPRUNE_SSH_DEVICE."""
        if self.options is not None:
            return self.options
        extra = dict(artifacts[0].options) if artifacts else {}
        where = self.device or extra.pop("device", None) or os.environ.get("EDGEPRUNE_SSH_DEVICE")
        return SshOptions.parse(where, **extra) if where else None

    def missing(self) -> str | None:
        """Why it cannot run: no ssh client (the device is checked in ``measure``, once the core has set it)."""
        return None if shutil.which("ssh") else "the OpenSSH client (ssh) is not installed"

    def version(self) -> str:
        """The device's onnxruntime version once measured."""
        return str(self.device_env.get("onnxruntime", "device onnxruntime"))

    def measure(self, artifacts: list[Artifact], threads: int, batch: int, preset: Preset) -> list[RawResult]:
        """Bundle, copy, verify, (set up,) then run the protocol on the device over all artifacts."""
        from edgeprune import __version__
        from edgeprune.errors import EdgepruneError
        from edgeprune.runtime.device import bundle_onnx
        from edgeprune.runtime.device.remote import SshDevice

        try:
            options = self._options(artifacts)
        except EdgepruneError as e:
            return [RawResult(a.name, error=e.message) for a in artifacts]
        if options is None:
            return [RawResult(a.name, error="no device given (ssh options or device ssh://user@host[:port])")
                    for a in artifacts]
        try:
            device = SshDevice(options)
            target = device.target()
            with tempfile.TemporaryDirectory(prefix="edgeprune-ssh-") as tmp:
                folders = [device.install(bundle_onnx(a.path, Path(tmp) / f"{i}.tar.gz", target, edgeprune=__version__))
                           for i, a in enumerate(artifacts)]
            if device.options.remote_setup:
                device.setup(folders[0])
            out = device.bench(folders, threads, batch, preset.to_dict())
        except EdgepruneError as e:
            return [RawResult(a.name, error=e.message) for a in artifacts]
        self.device_env = out["env"]
        results = [RawResult.from_dict(r) for r in out["runs"][0]["results"]]
        for a, r in zip(artifacts, results, strict=True):
            r.name = a.name
            # the host's profile does not describe the board: its rows say "device" (pinned only with cpus=)
            r.info.update({"env": self.device_env, "device": device.options.device, "target": target,
                           "profile": "device"})
        return results
