"""Device bundles as files: deterministic .tar.gz writing, safe extraction, checksum verification."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from edgeprune.errors import EdgepruneError
from edgeprune.fileio import atomic_path, sha256_file

MANIFEST = "manifest.json"
FORMAT = "edgeprune-device-bundle/1"


class BundleError(EdgepruneError):
    """A device bundle is unsafe, tampered with or incomplete."""


def file_entries(files: Mapping[str, Path]) -> dict[str, dict[str, Any]]:
    """Manifest entries (sha256, bytes) of every file, by archive name."""
    return {name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for name, p in sorted(files.items())}


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
    """The manifest of an extracted bundle."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BundleError(f"{path} is missing or not JSON ({e})") from e
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BundleError(f"{path} is not an edgeprune device bundle manifest")
    return manifest


def verify_dir(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Check every file's sha256 against the manifest and refuse unlisted files; return the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    problems = []
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256_file(path) != entry["sha256"]:
            problems.append(f"{name} does not match its sha256")
    listed = {*manifest["files"], MANIFEST}
    extra = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                   and str(p.relative_to(folder)) not in listed and "__pycache__" not in p.parts)
    problems += [f"{name} is not in the manifest" for name in extra]
    if problems:
        raise BundleError(f"bundle {folder} failed its checksum check: {'; '.join(problems)}",
                          hint="the bundle was altered or truncated; rebuild and copy it again")
    return manifest
