"""Device bundles: model.onnx, a runner needing only numpy + onnxruntime, pinned requirements, checksums."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from edgeprune.deploy.device.bundle import FORMAT, BundleError, extract_bundle, verify_dir, write_bundle
from edgeprune.deploy.device.targets import check_target, requirements_txt
from edgeprune.errors import ConfigError

TEMPLATE = Path(__file__).resolve().parent
TIMING = TEMPLATE.parents[1] / "bench" / "timing.py"

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
        files, spec = _model_files(model_path, work)
        if openvino:
            files.update(_openvino_files(files["model.onnx"], work))
        files.update(_runner_files(work, target, spec, model_path.stem))
        from edgeprune import __version__

        manifest = {"format": FORMAT, "target": target, "name": spec["name"], "model": "model.onnx",
                    "openvino": "openvino/model.xml" if openvino else None, "spec": spec,
                    "source": model_path.name, "edgeprune": __version__}
        return write_bundle(files, manifest, out)


def _bundle_path(out: Path, target: str) -> Path:
    if out.name.endswith((".tar.gz", ".tgz")):
        return out
    if out.suffix:
        raise ConfigError(f"--out {out}: a device bundle is a .tar.gz file", hint="e.g. --out bundle.tar.gz")
    return out / f"bundle-{target}.tar.gz"


def _model_files(model_path: Path, work: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    """model.onnx (exported from a checkpoint, or copied) and the deploy part of its spec."""
    from edgeprune.export.onnx import export_onnx, onnx_files, read_spec

    if not model_path.is_file():
        raise ConfigError(f"model {model_path} does not exist", hint="pass a .safetensors checkpoint or an .onnx file")
    onnx_path = work / "model.onnx"
    if model_path.suffix == ".safetensors":
        from edgeprune.models import load_checkpoint

        export_onnx(load_checkpoint(model_path), onnx_path)
    elif model_path.suffix == ".onnx":
        if len(onnx_files(model_path)) > 1:
            raise ConfigError(f"{model_path} keeps its weights in external data files",
                              hint="re-export it as one file (models under 2 GB are)")
        shutil.copyfile(model_path, onnx_path)
    else:
        raise ConfigError(f"model {model_path}: expected a .safetensors checkpoint or an .onnx file")
    spec = read_spec(onnx_path)
    if spec is None:
        raise ConfigError(f"{model_path} carries no edgeprune spec (labels, input shape, mean/std)",
                          hint="export it with `edgeprune export CKPT --to onnx` or pass the checkpoint")
    deploy_spec = {"name": spec.name, "input_shape": list(spec.input_shape), "labels": list(spec.labels),
                   "mean": list(spec.mean), "std": list(spec.std)}
    return {"model.onnx": onnx_path}, deploy_spec


def _openvino_files(onnx_path: Path, work: Path) -> dict[str, Path]:
    from edgeprune.export.openvino import ir_files, to_openvino

    xml = to_openvino(onnx_path, work / "openvino" / "model.xml")
    return {f"openvino/{p.name}": p for p in ir_files(xml)}


def _runner_files(work: Path, target: str, spec: dict[str, Any], name: str) -> dict[str, Path]:
    """run.py and timing.py verbatim, requirements.txt pinned for ``target``, README.md."""
    if not TIMING.is_file():
        raise ConfigError(f"{TIMING} is missing: the device runner ships the bench timing protocol verbatim")
    req = work / "requirements.txt"
    req.write_text(requirements_txt(target), encoding="utf-8")
    readme = work / "README.md"
    text = (TEMPLATE / "README.device.md").read_text(encoding="utf-8")
    readme.write_text(text.format(name=spec["name"], target=target, shape="x".join(map(str, spec["input_shape"])),
                                  classes=len(spec["labels"])), encoding="utf-8")
    return {"run.py": TEMPLATE / "run.py", "timing.py": TIMING, "requirements.txt": req, "README.md": readme}
