"""Device bundles as files: the runner's files, deterministic .tar.gz writing, safe extraction, verification.

A bundle is ``model.onnx``, ``run.py`` (needs only numpy + onnxruntime), the runtime modules it
imports (``runtime/``, verbatim copies of :mod:`edgeprune.runtime`'s ``SHIPPED`` modules), a pinned
``requirements.txt``, ``README.md`` and ``manifest.json`` (spec, files with sha256 and bytes).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from edgeprune.errors import ConfigError, EdgepruneError, first_line
from edgeprune.runtime import SHIPPED
from edgeprune.runtime import bundle as _check
from edgeprune.runtime.bundle import FORMAT, MANIFEST, sha256_file
from edgeprune.runtime.device.targets import check_target, requirements_txt
from edgeprune.runtime.files import atomic_path
from edgeprune.runtime.onnxfile import deploy_spec, onnx_files, read_spec_json

TEMPLATE = Path(__file__).resolve().parent
RUNTIME = TEMPLATE.parent
SHIPPED_DIR = "runtime"  # beside run.py in the bundle

__all__ = ["FORMAT", "MANIFEST", "BundleError", "archive_manifest", "bundle_onnx", "check_members", "extract_bundle", "read_manifest",
           "runner_files", "verify_dir", "write_bundle"]


class BundleError(EdgepruneError):
    """A device bundle is unsafe, tampered with or incomplete."""


def file_entries(files: Mapping[str, Path]) -> dict[str, dict[str, Any]]:
    """Manifest entries (sha256, bytes) of every file, by archive name."""
    return {name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for name, p in sorted(files.items())}


def runner_files(work: Path, target: str, spec: dict[str, Any]) -> dict[str, Path]:
    """run.py and the runtime modules it imports, verbatim; requirements.txt pinned for ``target``; README.md."""
    req = work / "requirements.txt"
    req.write_text(requirements_txt(target), encoding="utf-8")
    readme = work / "README.md"
    text = (TEMPLATE / "README.device.md").read_text(encoding="utf-8")
    readme.write_text(text.format(name=spec["name"], target=target, shape="x".join(map(str, spec["input_shape"])),
                                  classes=len(spec["labels"])), encoding="utf-8")
    shipped = {f"{SHIPPED_DIR}/{name}": RUNTIME / name for name in SHIPPED}
    return {"run.py": TEMPLATE / "run.py", **shipped, "requirements.txt": req, "README.md": readme}


def bundle_onnx(onnx_path: str | os.PathLike[str], out: str | os.PathLike[str], target: str | None = None, *,
                extra_files: Mapping[str, Path] | None = None, **manifest: Any) -> Path:
    """Write the device bundle of one self-contained ONNX file (with its edgeprune spec) to ``out``.

    ``extra_files`` (archive name -> path) travel too, e.g. an OpenVINO IR; ``manifest`` keys
    (``openvino``, ``source``, ``edgeprune``) are written into manifest.json beside the required ones.
    """
    target, onnx_path = check_target(target), Path(onnx_path)
    if len(onnx_files(onnx_path)) > 1:
        raise ConfigError(f"{onnx_path} keeps its weights in external data files",
                          hint="re-export it as one file (models under 2 GB are)")
    raw = read_spec_json(onnx_path)
    if raw is None:
        raise ConfigError(f"{onnx_path} carries no edgeprune spec (labels, input shape, mean/std)",
                          hint="export it with `edgeprune export CKPT --to onnx` or pass the checkpoint")
    spec = deploy_spec(raw)
    with tempfile.TemporaryDirectory(prefix="edgeprune-device-") as tmp:
        work = Path(tmp)
        files = {"model.onnx": onnx_path, **(extra_files or {}), **runner_files(work, target, spec)}
        head = {"format": FORMAT, "target": target, "name": spec["name"], "model": "model.onnx",
                "openvino": manifest.pop("openvino", None), "spec": spec,
                "source": manifest.pop("source", onnx_path.name), **manifest}
        return write_bundle(files, head, Path(out))


def write_bundle(files: Mapping[str, Path], manifest: dict[str, Any], out: Path) -> Path:
    """Write ``files`` plus ``manifest.json`` (with their checksums) to the .tar.gz ``out``."""
    manifest = {**manifest, "files": file_entries(files)}
    data = (json.dumps(manifest, indent=2) + "\n").encode()
    with atomic_path(out) as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in sorted(files.items()):
            info = _info(name, path.stat().st_size, 0o755 if name.endswith(".py") else 0o644)
            with open(path, "rb") as f:
                tar.addfile(info, f)
        tar.addfile(_info(MANIFEST, len(data), 0o644), io.BytesIO(data))
    return out


def _info(name: str, size: int, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, 0  # reproducible: same inputs, same bytes
    return info


def check_members(tar: tarfile.TarFile) -> None:
    """Refuse absolute paths, ``..`` parts, links and special files before anything is written."""
    for m in tar.getmembers():
        p = PurePosixPath(m.name)
        if p.is_absolute() or ".." in p.parts or m.name.startswith(("/", "\\")):
            raise BundleError(f"unsafe path {m.name!r} in the bundle", hint="rebuild it with `edgeprune deploy device`")
        if not (m.isfile() or m.isdir()):
            raise BundleError(f"bundle member {m.name!r} is a link or special file",
                              hint="rebuild it with `edgeprune deploy device`")


def extract_bundle(archive: str | os.PathLike[str], dest: str | os.PathLike[str], verify: bool = True) -> Path:
    """Extract ``archive`` into ``dest`` safely (checked members, tarfile 'data' filter); verify checksums."""
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise BundleError(f"bundle {archive} does not exist", hint="build one with `edgeprune deploy device MODEL`")
    try:
        with tarfile.open(archive, "r:*") as tar:
            check_members(tar)
            dest.mkdir(parents=True, exist_ok=True)
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BundleError(f"{archive} is not a readable bundle ({e})") from e
    if verify:
        verify_dir(dest)
    return dest


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of an extracted bundle (BundleError when it is missing or not a bundle's)."""
    try:
        return _check.read_manifest(folder)
    except _check.BundleCheckError as e:
        raise BundleError(e.message, hint=e.hint) from e


def archive_manifest(archive: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest.json of a bundle archive, read without extracting anything else."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return json.loads(member.read().decode("utf-8"))
    except (tarfile.TarError, OSError, EOFError, KeyError, ValueError) as e:
        raise BundleError(f"{archive} is not a readable bundle ({first_line(e)})") from e


def verify_dir(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Check every file's sha256 against the manifest and refuse missing and unlisted files; return the manifest.

    The very check the bundle's ``run.py verify`` runs on the device (:func:`edgeprune.runtime.bundle.verify_dir`).
    """
    try:
        return _check.verify_dir(folder)
    except _check.BundleCheckError as e:
        raise BundleError(e.message, hint=e.hint) from e

