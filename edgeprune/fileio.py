"""Atomic writes and checksums: a crash never leaves a half-written file that looks finished."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError, EdgepruneError
from edgeprune.runtime.bundle import sha256_file
from edgeprune.runtime.files import atomic_path

LOCK_NAME = ".edgeprune.lock"


class FolderBusyError(EdgepruneError):
    """Another edgeprune process is writing into the same --out folder."""


__all__ = ["FolderBusyError", "atomic_path", "locked_folder", "read_json", "sha256_file", "write_json", "write_text"]


@contextlib.contextmanager
def locked_folder(folder: str | os.PathLike[str], flag: str = "--out") -> Iterator[Path]:
    """Hold ``folder/.edgeprune.lock`` (non-blocking flock) while the block writes into ``folder``.

    A second run into the same folder is refused with the holder's pid; a lock file left by a dead
    process does not block (the kernel drops its flock). On exit the lock file goes, and so do the
    folders this call created when they are still empty, so a refused run leaves ``folder`` as it was.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{flag} {folder} is an existing file, not a folder",
                          hint=f"pass a folder for {flag} (it is created when missing)")
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _remove_empty(created)
        raise ConfigError(f"{flag} {folder} cannot be created: {e.strerror or e}",
                          hint=f"pass a folder path under a writable folder for {flag}") from None
    lock = folder / LOCK_NAME
    try:
        fd = _take_lock(lock, folder)
    except BaseException:
        _remove_empty(created)
        raise
    try:
        yield folder
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)
        _remove_empty(created)


def _take_lock(lock: Path, folder: Path) -> int:
    """An fd holding an exclusive flock on ``lock`` with this pid written in it; FolderBusyError if held."""
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ConfigError(f"out {folder} is not writable: {e.strerror or e}",
                              hint="pass a folder you can write to", params=("out",)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise FolderBusyError(f"another edgeprune run holds {folder} (pid {holder})",
                                  hint="wait for it to finish, or pass another out", params=("out",)) from None
        try:  # the holder may have removed the file between our open and flock: lock the current one
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) that are empty; keep any that hold something."""
    for p in folders:
        try:
            p.rmdir()
        except OSError:
            return


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write JSON atomically, with stable key order and indentation for diffs."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_jsonable) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
