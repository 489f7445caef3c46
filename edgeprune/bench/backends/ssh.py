"""The ``ssh`` bench backend: a board runs the device bundle's runner (runtime/timing.py verbatim) over SSH.

Out of process: every MODEL becomes a device bundle for the board's own target, is copied over the
ssh channel, verified there, and measured by one runner process that interleaves all of them in
rounds; the raw samples come back with the board's environment header in ``RawResult.info["env"]``.

Where to connect: ``backend.device`` (set by the bench core from ``--device``/``device=``): a URL
``ssh://user@host[:port]`` whose query may set options (``?remote_setup=1&cpus=2,3&identity=...``),
a dict of :class:`edgeprune.runtime.device.remote.SshOptions` fields, or an ``SshOptions``; options
also come from ``Artifact.options``, :func:`configure` and ``$EDGEPRUNE_SSH_DEVICE``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from edgeprune.bench.backends import Artifact, Backend, Preset, RawResult, register_backend

_DEFAULTS: dict[str, Any] = {}


def configure(**options: Any) -> None:
    """Set the default device and SSH options (``device="ssh://user@host"``, ``remote_setup=True``, ...)."""
    from edgeprune.runtime.device.remote import SshOptions

    SshOptions.from_mapping({**_DEFAULTS, **options})  # validate now: a bad URL fails before any model loads
    _DEFAULTS.update(options)


@register_backend
class SshBackend(Backend):
    """onnxruntime on a remote Linux device reached with the user's SSH configuration and keys."""

    name, form, in_process = "ssh", "onnx", False
    description = "onnxruntime on a device over SSH (--device ssh://user@host[:port]; runner needs numpy + onnxruntime)"

    def __init__(self) -> None:
        self.device: Any = None
        self.device_env: dict[str, Any] = {}

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
        from edgeprune.runtime.device.remote import SshDevice, SshOptions

        defaults = {**_DEFAULTS, **(artifacts[0].options if artifacts else {})}
        where = self.device or defaults.pop("device", None) or os.environ.get("EDGEPRUNE_SSH_DEVICE")
        if not where:
            return [RawResult(a.name, error="no device given (--device ssh://user@host[:port])") for a in artifacts]
        try:
            device = SshDevice(SshOptions.parse(where, **defaults))
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
