"""Run directory, manifest and stage executor: artifacts with sha256, stage keys, skip-if-unchanged, resume.

``manifest.json`` records, for every finished stage, a key (sha256 of the stage's config and of its
input files' hashes), its inputs, its artifacts (path, sha256, bytes) and when it ran. A stage is
skipped when its key is unchanged and its artifacts are intact on disk; the manifest is rewritten
atomically after each stage, so an interrupted run loses nothing that finished and the same command
resumes at the first stage that did not.

:class:`Layout` says where each stage's files live (the pipeline writes there, the report reads there);
:class:`Executor` runs a list of :class:`Stage` objects against a run. Both are generic: they know stage
names, keys and folders, nothing of training, pruning or recipes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError, EdgepruneError
from edgeprune.fileio import read_json, sha256_file, write_json
from edgeprune.ui import log

MANIFEST = "manifest.json"
VERSION = 1
INTERRUPT_ENV = "EDGEPRUNE_PIPELINE_INTERRUPT"  # test hook: raise KeyboardInterrupt when this stage starts


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


@dataclass(frozen=True)
class Layout:
    """Where the stages of a run keep their files: one map for the stages that write and the report that reads."""

    root: Path

    def data_json(self) -> Path:
        """The data stage's description of the dataset (labels, shapes, split sizes, fingerprint)."""
        return self.root / "data" / "data.json"

    def model_dir(self, name: str, seed: int | None = None) -> Path:
        """Where the base model or a variant lives (a repeat seed's models under ``seeds/``)."""
        return self.root / "models" / name if seed is None else self.root / "seeds" / f"seed-{seed}" / name

    def checkpoint(self, name: str, seed: int | None = None) -> Path:
        """The checkpoint of the base model or a variant."""
        return self.model_dir(name, seed) / "model.safetensors"

    def export_dir(self, name: str) -> Path:
        """Where a model's exports live (``export.json`` lists what was verified)."""
        return self.root / "export" / name

    def bench_dir(self) -> Path:
        """Where the bench writes ``bench.json`` and ``labels.json``."""
        return self.root / "bench"

    def deploy_dir(self, kind: str) -> Path:
        """Where a deploy target's bundle is built (``web``, ``device``)."""
        return self.root / "deploy" / kind


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
                                 hint="delete it to recompute every stage, or use another run folder") from None

    def path(self, *parts: str) -> Path:
        """A path inside the run directory."""
        return self.root.joinpath(*parts)

    @property
    def layout(self) -> Layout:
        """Where each stage's files live in this run directory."""
        return Layout(self.root)

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


# ---------------------------------------------------------------- stages and their executor
def family(name: str) -> str:
    """A stage name is ``family[:item][@tag]``: ``prune`` for ``prune:OBD`` and ``prune:OBD@seed1``."""
    return name.split("@", 1)[0].split(":", 1)[0]


@dataclass
class Stage:
    """One unit of work: its name, config (part of the key), input files and the function doing it."""

    name: str
    config: Any  # JSON-able, or a function returning it (called when the key is computed)
    inputs: Callable[[], list[Path]]
    work: Callable[[], tuple[list[Path], dict[str, Any]]]
    needs: list[str] = field(default_factory=list)
    folder: Path | None = None  # the stage's own output folder
    resumable: bool = False  # keep ``folder`` when resuming the same work; otherwise it is emptied first
    optional: bool = False  # a stage that may never have run: those needing it do not wait for it
    units: float = 0.0  # work in units of the executor's pace (for the time estimate)
    fixed_s: float = 1.0  # seconds the stage takes besides its units of work (for the time estimate)

    @property
    def family(self) -> str:
        """The name's family (``prune`` for ``prune:OBD@seed1``)."""
        return family(self.name)

    def key_config(self) -> Any:
        """The config that goes into the stage key."""
        return self.config() if callable(self.config) else self.config


@dataclass(frozen=True)
class Selection:
    """Which stages a call runs (``only``; all when empty), redoes (``force``) and stops after (``last``)."""

    only: frozenset[str] = frozenset()
    force: frozenset[str] = frozenset()
    last: str | None = None


@dataclass
class Executed:
    """What an executor call did: the stages it ran and those it found up to date."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Executor:
    """Runs stages in order against a run: skips the fresh ones, resumes interrupted folders, records each.

    ``pace`` gives the seconds per unit of :attr:`Stage.units` once known (None until then, when the
    progress line says ``pace_pending`` instead of a time estimate).
    """

    def __init__(self, run: Run, stages: list[Stage], pace: Callable[[], float | None] = lambda: None,
                 pace_pending: str = "a time estimate follows the first stage") -> None:
        self.run = run
        self.stages = stages
        self.pace = pace
        self.pace_pending = pace_pending
        self.started = time.perf_counter()
        self._by_name = {s.name: s for s in stages}

    def select(self, only: list[str] | None = None, force: list[str] | None = None,
               until: str | None = None) -> Selection:
        """The stages named by ``only``, ``force`` and ``until`` (names, families or items; comma-separated)."""
        names = [s.name for s in self.stages]
        only_set = select_names(only or [], names, "only")
        force_set = select_names(force or [], names, "force") | only_set
        until_set = select_names([until], names, "until") if until else set()
        primary = {n for n in until_set if "@" not in n} or until_set  # tagged stages only when named
        last = max((names.index(n) for n in primary), default=None)  # until prune: after the last prune stage
        return Selection(frozenset(only_set), frozenset(force_set), None if last is None else names[last])

    def execute(self, selection: Selection, meta: dict[str, Any] | None = None) -> Executed:
        """Run the selected stages (``meta`` goes into the manifest first); Ctrl-C stops between or in stages."""
        with SIGINT:
            return self._execute(selection, meta or {})

    def _execute(self, selection: Selection, meta: dict[str, Any]) -> Executed:
        run, only = self.run, selection.only
        run.root.mkdir(parents=True, exist_ok=True)
        run.meta.update(meta)
        run.save()
        done = Executed()
        current = None
        try:
            for stage in self.stages:
                current = stage.name
                if only and stage.name not in only:
                    continue
                missing = [n for n in stage.needs if n not in run.stages and self._required(n)]
                if missing:
                    raise EdgepruneError(f"stage {stage.name} needs {', '.join(missing)}, which has not run in {run.root}",
                                         hint="run every stage once first (leave out only)", params=("only",))
                config = stage.key_config()
                key, hashes = run.key(config, stage.inputs())
                if stage.name not in selection.force and run.fresh(stage.name, key):
                    log(f"[dim]{stage.name}: up to date, skipped[/dim]")
                    run.event(stage.name, "skipped")
                    done.skipped.append(stage.name)
                else:
                    self._execute_stage(stage, key, config, hashes)
                    done.ran.append(stage.name)
                    left = [s for s in self.stages[self.stages.index(stage) + 1:] if not only or s.name in only]
                    log(self._progress(left, time.perf_counter() - self.started))
                if stage.name == selection.last:
                    log(f"stopped after {stage.name} (--until)")
                    break
        except KeyboardInterrupt:  # between stages too: the manifest says where it stopped
            if not run.events or run.events[-1]["action"] != "interrupted":
                run.event(current or "pipeline", "interrupted")
            raise
        return done

    def _required(self, name: str) -> bool:
        stage = self._by_name.get(name)
        return stage is None or not stage.optional

    def states(self) -> dict[str, str]:
        """Each stage's state without running anything: ``done``, ``pending``, or ``stale (why)``.

        A stage is done only when its key (config + input hashes) matches the record and every
        stage it needs is done too, so an edited config shows as stale from the first stage it touches.
        """
        states: dict[str, str] = {}
        for stage in self.stages:
            rec = self.run.stages.get(stage.name)
            if rec is None:
                states[stage.name] = "pending"
                continue
            behind = [n for n in stage.needs
                      if states.get(n, "done") != "done" and (n in self.run.stages or self._required(n))]
            if behind:
                states[stage.name] = f"stale ({behind[0]} will run first)"
                continue
            try:
                key, _ = self.run.key(stage.key_config(), stage.inputs())
            except (OSError, EdgepruneError):
                states[stage.name] = "stale (its inputs are missing)"
                continue
            states[stage.name] = "done" if self.run.fresh(stage.name, key) else "stale (recipe or inputs changed)"
        return states

    def _progress(self, left: list[Stage], elapsed: float) -> str:
        """``5/23 stages, 160 s so far, about 290 s left``: the seconds per unit of work come from ``pace``."""
        done = len(self.stages) - len(left)
        text = f"{done}/{len(self.stages)} stages, {elapsed:.0f} s so far"
        if not left:
            return text
        per_unit = self.pace()
        if per_unit is None:
            return text + f"; {self.pace_pending}"
        eta = sum(s.units * per_unit + s.fixed_s for s in left if s.name not in self.run.stages)
        return text + f", about {eta:.0f} s left (estimated)"

    def _prepare_folder(self, stage: Stage, key: str) -> None:
        """Empty the stage's folder unless it holds an interrupted run of this very work (then it resumes)."""
        pending = self.run.meta.setdefault("pending", {})
        if stage.folder is not None and stage.folder.exists():
            if stage.resumable and pending.get(stage.name) == key:
                log(f"{stage.name}: resuming the interrupted run in {stage.folder}")
            else:
                shutil.rmtree(stage.folder)
        pending[stage.name] = key
        self.run.save()

    def _execute_stage(self, stage: Stage, key: str, config: Any, hashes: dict[str, str]) -> None:
        log(f"[bold]{stage.name}[/bold]: running")
        started = time.time()
        try:
            if os.environ.get(INTERRUPT_ENV) == stage.name:
                raise KeyboardInterrupt(f"{INTERRUPT_ENV}={stage.name}")
            self._prepare_folder(stage, key)
            artifacts, info = stage.work()
        except KeyboardInterrupt:
            self.run.event(stage.name, "interrupted", round(time.time() - started, 3))
            raise
        except BaseException as e:
            if SIGINT.seen:  # Ctrl-C inside a library call can surface as that library's own error
                self.run.event(stage.name, "interrupted", round(time.time() - started, 3))
                raise KeyboardInterrupt(f"interrupted in {stage.name}") from e
            self.run.event(stage.name, "failed", round(time.time() - started, 3))
            if isinstance(e, EdgepruneError):
                e.params = ()  # the stage, not the caller of the run, passed those parameters: no flag stands for them
            raise
        self.run.meta.get("pending", {}).pop(stage.name, None)
        rec = self.run.record(stage.name, key, config, hashes, artifacts, started, info)
        log(f"{stage.name}: done in {rec.seconds:.1f} s")


def select_names(items: list[str], names: list[str], param: str) -> set[str]:
    """Stage names matching each item: an exact name, a family (``prune``), or an item (``OBD``, ``OBD@seed1``)."""
    chosen: set[str] = set()
    for item in items:
        for part in (p.strip() for p in item.split(",") if p.strip()):
            hits = [n for n in names if n == part or family(n) == part or n.split(":", 1)[-1] == part
                    or n.split(":", 1)[-1].split("@", 1)[0] == part]
            if not hits:
                families = sorted({family(n) for n in names})
                raise ConfigError(f"{param} {part!r} names no stage of this recipe",
                                  hint=f"a stage ({', '.join(names)}) or a family ({', '.join(families)})",
                                  params=(param,))
            chosen.update(hits)
    return chosen


class SigintWatch:
    """While stages run, remember that Ctrl-C came (then raise KeyboardInterrupt as Python would)."""

    seen = False

    def __enter__(self) -> SigintWatch:
        import signal
        import threading

        self.seen, self._previous = False, None
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # a background job: Ctrl-C is not for us
        if threading.current_thread() is threading.main_thread() and not ignored:
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


SIGINT = SigintWatch()
