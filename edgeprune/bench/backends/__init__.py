"""Bench backends: a registry by name, and the two ways a backend plugs into the timing core.

Every backend is an object with these attributes (subclass :class:`Backend`):

- ``name``: registry key (``torch``, ``ort``, ``openvino``, ``web``, ``ssh``).
- ``display_name``: what tables and figures call it (``onnxruntime``, ``OpenVINO``); defaults to ``name``.
- ``options_type``: the dataclass of its options in :class:`edgeprune.bench.config.BenchConfig`
  (``SshOptions`` for ssh, ``WebOptions`` for web), or None; the core sets ``options`` to that
  config's value before measuring, so two benches in one process never share settings.
- ``form``: the artifact form it runs: ``"checkpoint"`` (an edgeprune ``.safetensors``),
  ``"onnx"`` or ``"openvino"`` (IR ``.xml``). The core converts each MODEL to that form once and
  caches it under ``OUT/cache``; a form that cannot be produced (an ONNX file for ``torch``)
  becomes a ❌ row, so a backend never sees an artifact of the wrong kind.
- ``in_process``: True or False, selecting one of the two interfaces below.
- ``missing() -> str | None``: why the backend cannot run here (package not installed, no
  browser, no board reachable), or None. Called before anything is loaded.
- ``version() -> str``: the runtime's version, recorded in every row.
- ``device``: set by the core from ``BenchConfig.device`` before measuring (where an
  out-of-process backend runs); None when not given.

In-process backends (torch, ort, openvino) implement

    load(artifact: Artifact, threads: int, batch: int) -> Session

``Session.run`` is a zero-argument callable that runs one inference on a fixed input batch
(prepared in ``load``); ``Session.init_ms`` is the load/compile time and ``Session.info`` what the
runtime reports about itself (threads read back, spinning, hints). The core owns the clock: it
runs the first inference, the warm-up and the timed rounds with :mod:`edgeprune.runtime.timing`,
interleaving baseline and candidates A B A B in rounds so drift hits all of them alike.

Out-of-process backends (web: a browser page runs the protocol in JavaScript; ssh: a runner on a
board runs ``edgeprune/runtime/timing.py`` verbatim) implement

    measure(artifacts: list[Artifact], threads: int, batch: int, preset: Preset) -> list[RawResult]

and must interleave the artifacts in rounds themselves (same order, same preset). They return one
:class:`edgeprune.runtime.timing.RawResult` per artifact, in order: ``init_ms``, ``first_ms`` and
``rounds`` (a list of rounds, each a list of per-inference milliseconds), plus ``info``; or a
``RawResult`` with ``error`` set. The core computes the very same statistics, speedups and claim
verdicts from those samples as for in-process backends. Optional hooks for them: a method
``thread_counts(requested: list[int]) -> list[int]`` picks the thread counts the backend runs (one
cell per count, instead of one per profile x thread count; no local CPU pinning is applied to
out-of-process backends); ``RawResult.info["profile"]`` renames the row's profile (e.g.
``browser-wasm-1t``), which ``--claim-on BACKEND:PROFILE`` then matches; ``version()`` is read again
after ``measure`` so a remote runtime can report the version it found. ``timing.RawResult.from_dict`` reads the
JSON that ``timing.measure_interleaved(...).to_dict()`` prints on a device.

Registering::

    from edgeprune.bench.backends import Backend, register_backend

    @register_backend
    class WebBackend(Backend):
        name, form, in_process = "web", "onnx", False
        ...

Backends in ``BUILTIN`` are imported lazily by :func:`get_backend`, so importing this registry
never imports torch, onnxruntime or openvino.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgeprune.errors import ConfigError
from edgeprune.runtime.timing import Preset, RawResult

__all__ = ["CPU_BACKENDS", "Artifact", "Backend", "Preset", "RawResult", "Session", "display_name", "get_backend",
           "list_backends", "register_backend"]

# name -> module that registers it on import (the web and ssh modules are written by other engineers)
BUILTIN: dict[str, str] = {
    "torch": "edgeprune.bench.backends.torch",
    "ort": "edgeprune.bench.backends.ort",
    "openvino": "edgeprune.bench.backends.openvino",
    "web": "edgeprune.bench.backends.web",
    "ssh": "edgeprune.bench.backends.ssh",
}
_REGISTRY: dict[str, type[Backend]] = {}
CPU_BACKENDS = ("torch", "ort", "openvino")  # this machine's CPU runtimes: the ones a claim "on fastest" compares


@dataclasses.dataclass
class Artifact:
    """One model in the form a backend runs: path, form, input shape (C, H, W) and display name."""

    name: str
    path: Path
    form: str
    input_shape: tuple[int, ...]
    source: Path | None = None
    options: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Session:
    """A loaded model: ``run()`` does one inference on a fixed batch; ``init_ms`` is the load time."""

    run: Callable[[], Any]
    init_ms: float
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    close: Callable[[], None] | None = None


class Backend:
    """Base class: override ``missing``, ``version`` and either ``load`` or ``measure``."""

    name: str = ""
    form: str = "onnx"
    in_process: bool = True
    description: str = ""
    display_name: str = ""  # empty: ``name``
    options_type: type | None = None
    device: Any = None  # BenchConfig.device (e.g. "user@board"), set before ``measure`` is called
    options: Any = None  # the BenchConfig's options of this backend (an ``options_type``), or None

    def missing(self) -> str | None:
        """Why this backend cannot run here, or None."""
        return None

    def version(self) -> str:
        """The runtime's version string."""
        return ""

    def load(self, artifact: Artifact, threads: int, batch: int) -> Session:
        """In-process backends: load ``artifact`` with ``threads`` and return a ready session."""
        raise NotImplementedError(f"{self.name} is not an in-process backend")

    def measure(self, artifacts: list[Artifact], threads: int, batch: int, preset: Preset) -> list[RawResult]:
        """Out-of-process backends: run the protocol on all artifacts, interleaved, and return raw samples."""
        raise NotImplementedError(f"{self.name} is not an out-of-process backend")


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: make a backend available by its ``name``."""
    if not cls.name:
        raise ValueError("a backend needs a name")
    _REGISTRY[cls.name] = cls
    return cls


def display_name(name: str) -> str:
    """A backend's name in tables (``ort`` -> ``onnxruntime``); an unknown name is shown as it is."""
    try:
        backend = get_backend(name)
    except (ConfigError, ImportError):
        return name
    return backend.display_name or backend.name


def backend_names() -> list[str]:
    """Every known backend name (built in or registered), without importing any runtime."""
    return sorted(set(BUILTIN) | set(_REGISTRY))


def list_backends() -> dict[str, str]:
    """Known backend names with one-line descriptions (importing each lazily)."""
    out: dict[str, str] = {}
    for name in backend_names():
        try:
            out[name] = get_backend(name).description
        except ConfigError as e:
            out[name] = f"(unavailable: {e.message})"
    return out


def get_backend(name: str) -> Backend:
    """A backend instance by name; unknown names raise ConfigError listing the known ones."""
    if name not in _REGISTRY and name in BUILTIN:
        try:
            importlib.import_module(BUILTIN[name])
        except ModuleNotFoundError as e:
            if e.name == BUILTIN[name]:
                raise ConfigError(f"backend {name!r} is not part of this installation") from e
            raise
    if name not in _REGISTRY:
        known = ", ".join(sorted(set(BUILTIN) | set(_REGISTRY)))
        raise ConfigError(f"unknown backend {name!r}", hint=f"choose from: {known}")
    return _REGISTRY[name]()
