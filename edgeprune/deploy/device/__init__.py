"""Device bundles: model.onnx, a runner needing only numpy + onnxruntime, pinned requirements, checksums.

The bundle itself (runner template, packing, verification) lives in :mod:`edgeprune.runtime.device`;
this module adds what needs the rest of edgeprune: a checkpoint's verified export (ONNX, OpenVINO IR),
through :func:`~edgeprune.export.materialize.materialize`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from edgeprune.deploy.config import DeployResult, DeviceDeployConfig
from edgeprune.errors import ConfigError
from edgeprune.runtime.device import BundleError, bundle_onnx, extract_bundle, verify_dir
from edgeprune.runtime.device.pack import archive_manifest

__all__ = ["BundleError", "deploy_device", "extract_bundle", "verify_dir"]


def deploy_device(model_path: str | os.PathLike[str], out: str | os.PathLike[str],
                  config: DeviceDeployConfig | None = None, **options: Any) -> DeployResult:
    """Build a device bundle (.tar.gz) from a checkpoint or ONNX file; return what it ships.

    ``config`` (or its fields as keywords): ``target`` (None: this machine's platform), ``openvino``
    (ship the IR too).
    """
    from edgeprune.deploy import check_model_file, config_of
    from edgeprune.export.materialize import materialize

    config = config_of(DeviceDeployConfig, config, options)
    model_path, out = Path(model_path), _bundle_path(Path(out), config.target)
    check_model_file(model_path)
    if out.is_dir():
        raise ConfigError(f"out {out} is a folder; a device bundle is a .tar.gz file", hint="e.g. bundle.tar.gz",
                          params=("out",))
    from edgeprune.export.openvino import ir_files

    with tempfile.TemporaryDirectory(prefix="edgeprune-device-") as tmp:
        onnx_path = materialize(model_path, "onnx", tmp)
        extra = {}
        if config.openvino:
            extra = {f"openvino/{p.name}": p for p in ir_files(materialize(model_path, "openvino", tmp))}
        from edgeprune import __version__

        bundle = bundle_onnx(onnx_path, out, config.target, extra_files=extra,
                             openvino="openvino/model.xml" if config.openvino else None, source=model_path.name,
                             edgeprune=__version__)
        shipped_from = None if onnx_path.is_relative_to(tmp) else str(onnx_path)
    return DeployResult.of_manifest(str(bundle), archive_manifest(bundle), source=str(model_path),
                                    shipped_from=shipped_from, config=config)


def _bundle_path(out: Path, target: str) -> Path:
    if out.name.endswith((".tar.gz", ".tgz")):
        return out
    if out.suffix:
        raise ConfigError(f"out {out}: a device bundle is a .tar.gz file", hint="e.g. bundle.tar.gz", params=("out",))
    return out / f"bundle-{target}.tar.gz"
