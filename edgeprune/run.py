"""Run directory and manifest: artifacts with sha256, stage keys, skip-if-unchanged, resume.

``manifest.json`` records, for every finished stage, a key (sha256 of the stage's config and of its
input files' hashes), its inputs, its artifacts (path, sha256, bytes) and when it ran. A stage is
skipped when its key is unchanged and its artifacts are intact on disk; the manifest is rewritten
atomically after each stage, so an interrupted run loses nothing that finished and the same command
resumes at the first stage that did not.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from edgeprune.errors import EdgepruneError
from edgeprune.fileio import read_json, sha256_file, write_json

MANIFEST = "manifest.json"
VERSION = 1


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def config_hash(config: Any) -> str:
    """sha256 of a JSON-able config (sorted keys, so dict order does not matter)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class StageRecord:
    """One finished stage as the manifest keeps it."""

    name: str
    key: str
    config: Any
    inputs: dict[str, str]
    artifacts: list[dict[str, Any]]
    started: str
    finished: str
    seconds: float
    runs: int = 1
    info: dict[str, Any] = field(default_factory=dict)


class Run:
    """A run directory with its manifest; paths in the manifest are relative to the directory."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / MANIFEST
        self.stages: dict[str, StageRecord] = {}
        self.meta: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        if self.manifest_path.exists():
            self._load()

    def _load(self) -> None:
        try:
            raw = read_json(self.manifest_path)
            self.meta = raw.get("meta", {})
            self.events = raw.get("events", [])
            self.stages = {name: StageRecord(**rec) for name, rec in raw.get("stages", {}).items()}
        except (ValueError, TypeError, KeyError) as e:
            raise EdgepruneError(f"{self.manifest_path} is damaged ({e})",
                                 hint="delete it to recompute every stage, or use another --out") from None

    def path(self, *parts: str) -> Path:
        """A path inside the run directory."""
        return self.root.joinpath(*parts)

    def rel(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to the run directory when inside it (POSIX separators)."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(p)

    def abs(self, rel: str) -> Path:
        """The absolute path of a manifest entry."""
        p = Path(rel)
        return p if p.is_absolute() else self.root / p

    def key(self, config: Any, inputs: list[Path]) -> tuple[str, dict[str, str]]:
        """The stage key (config + input file hashes) and the input hashes by relative path."""
        hashes = {self.rel(p): self.hash(p) for p in inputs}
        return config_hash({"config": config, "inputs": hashes}), hashes

    def hash(self, path: Path) -> str:
        """sha256 of a file, reusing the manifest's hash when size and mtime say it is unchanged."""
        rel = self.rel(path)
        st = path.stat()
        for rec in self.stages.values():
            for a in rec.artifacts:
                if a["path"] == rel and a["bytes"] == st.st_size and a.get("mtime_ns") == st.st_mtime_ns:
                    return a["sha256"]
        return sha256_file(path)

    def fresh(self, stage: str, key: str) -> bool:
        """True when ``stage`` finished with this key and its artifacts are intact on disk."""
        rec = self.stages.get(stage)
        if rec is None or rec.key != key:
            return False
        for a in rec.artifacts:
            p = self.abs(a["path"])
            if not p.is_file() or p.stat().st_size != a["bytes"]:
                return False
            if p.stat().st_mtime_ns != a.get("mtime_ns") and sha256_file(p) != a["sha256"]:
                return False
        return True

    def record(self, stage: str, key: str, config: Any, inputs: dict[str, str], artifacts: list[Path],
               started: float, info: dict[str, Any] | None = None) -> StageRecord:
        """Record a finished stage and rewrite the manifest atomically."""
        entries = []
        for p in sorted({Path(a) for a in artifacts}):
            st = p.stat()
            entries.append({"path": self.rel(p), "sha256": sha256_file(p), "bytes": st.st_size,
                            "mtime_ns": st.st_mtime_ns})
        previous = self.stages.get(stage)
        rec = StageRecord(name=stage, key=key, config=config, inputs=inputs, artifacts=entries,
                          started=datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="milliseconds"),
                          finished=_now(), seconds=round(time.time() - started, 3),
                          runs=(previous.runs + 1) if previous else 1, info=info or {})
        self.stages[stage] = rec
        self.event(stage, "ran", rec.seconds)
        return rec

    def event(self, stage: str, action: str, seconds: float | None = None) -> None:
        """Append a log line (ran / skipped / failed / interrupted) and save the manifest."""
        item: dict[str, Any] = {"at": _now(), "stage": stage, "action": action}
        if seconds is not None:
            item["seconds"] = seconds
        self.events.append(item)
        self.save()

    def forget(self, stage: str) -> None:
        """Drop a stage's record (its artifacts stay, but it will run again)."""
        if self.stages.pop(stage, None) is not None:
            self.save()

    def artifacts(self, stage: str) -> list[Path]:
        """Absolute paths of a finished stage's artifacts."""
        rec = self.stages.get(stage)
        return [self.abs(a["path"]) for a in rec.artifacts] if rec else []

    def save(self) -> None:
        """Write the manifest atomically."""
        write_json(self.manifest_path, {
            "version": VERSION,
            "meta": self.meta,
            "stages": {name: rec.__dict__ for name, rec in self.stages.items()},
            "artifacts": {a["path"]: {"sha256": a["sha256"], "bytes": a["bytes"], "stage": name}
                          for name, rec in self.stages.items() for a in rec.artifacts},
            "events": self.events[-500:],
        })


def files_under(folder: Path) -> list[Path]:
    """Every regular file under ``folder`` (hidden temporary files excluded), sorted."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
