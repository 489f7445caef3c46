"""Device bundles: model.onnx, a runner needing only numpy + onnxruntime, pinned requirements, checksums.

The bundle itself (runner template, packing, verification) lives in :mod:`edgeprune.runtime.device`;
this module adds what needs the rest of edgeprune: exporting a checkpoint, converting to OpenVINO.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError
from edgeprune.runtime.device import BundleError, bundle_onnx, extract_bundle, verify_dir
from edgeprune.runtime.device.targets import check_target

__all__ = ["BundleError", "deploy_device", "extract_bundle", "verify_dir"]


def deploy_device(model_path: str | os.PathLike[str], out: str | os.PathLike[str], target: str | None = None,
                  openvino: bool = False, **options: Any) -> Path:
    """Build a device bundle (.tar.gz) for ``target`` from a checkpoint or ONNX file; return its path."""
    from edgeprune.deploy import check_model_file, check_options

    check_options(options, (), "device")
    target = check_target(target)
    model_path, out = Path(model_path), _bundle_path(Path(out), target)
    check_model_file(model_path)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; a device bundle is a .tar.gz file", hint="e.g. --out bundle.tar.gz")
    with tempfile.TemporaryDirectory(prefix="edgeprune-device-") as tmp:
        work = Path(tmp)
        onnx_path = _model_file(model_path, work)
        extra = _openvino_files(onnx_path, work) if openvino else {}
        from edgeprune import __version__

        return bundle_onnx(onnx_path, out, target, extra_files=extra,
                           openvino="openvino/model.xml" if openvino else None, source=model_path.name,
                           edgeprune=__version__)


def _bundle_path(out: Path, target: str) -> Path:
    if out.name.endswith((".tar.gz", ".tgz")):
        return out
    if out.suffix:
        raise ConfigError(f"--out {out}: a device bundle is a .tar.gz file", hint="e.g. --out bundle.tar.gz")
    return out / f"bundle-{target}.tar.gz"


def _model_file(model_path: Path, work: Path) -> Path:
    """The ONNX file to bundle: exported from a checkpoint into ``work``, or ``model_path`` itself."""
    if not model_path.is_file():
        raise ConfigError(f"model {model_path} does not exist", hint="pass a .safetensors checkpoint or an .onnx file")
    if model_path.suffix == ".onnx":
        return model_path
    if model_path.suffix != ".safetensors":
        raise ConfigError(f"model {model_path}: expected a .safetensors checkpoint or an .onnx file")
    from edgeprune.export.onnx import export_onnx
    from edgeprune.models import load_checkpoint

    return export_onnx(load_checkpoint(model_path), work / "model.onnx")


def _openvino_files(onnx_path: Path, work: Path) -> dict[str, Path]:
    from edgeprune.export.openvino import ir_files, to_openvino

    xml = to_openvino(onnx_path, work / "openvino" / "model.xml")
    return {f"openvino/{p.name}": p for p in ir_files(xml)}
