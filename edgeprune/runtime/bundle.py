"""Checksums and the verification of an extracted device bundle: the one implementation.

Shipped verbatim in the device bundle (standard library only, Python 3.9+): ``edgeprune`` checks a
bundle with the same code the board's ``run.py verify`` runs. A bundle passes only when every file
the manifest lists is there with its sha256, and no file it does not list is.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Union

MANIFEST = "manifest.json"
FORMAT = "edgeprune-device-bundle/1"
IGNORED = ("__pycache__",)  # written by Python itself when the runner imports the shipped modules

PathLike = Union[str, "os.PathLike[str]"]


class BundleCheckError(Exception):
    """A bundle is incomplete, altered, or holds files its manifest does not list."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


def sha256_file(path: PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_manifest(folder: PathLike) -> dict[str, Any]:
    """The manifest of an extracted bundle (its format checked)."""
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BundleCheckError(f"{path} is missing or not JSON ({e})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BundleCheckError(f"{path} is not an edgeprune device bundle manifest")
    return manifest


def verify_dir(folder: PathLike) -> dict[str, Any]:
    """Check every listed file's sha256, refuse missing and unlisted files; return the manifest."""
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
    extra = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not any(part in IGNORED for part in p.relative_to(folder).parts))
    problems += [f"{name} is not in the manifest" for name in extra if name not in listed]
    if problems:
        raise BundleCheckError(f"bundle {folder} failed its checksum check: {'; '.join(problems)}",
                               hint="the bundle was altered or truncated; rebuild and copy it again")
    return manifest
