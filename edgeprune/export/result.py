"""``ExportResult``: the content of export.json as a typed object (files, parity, accuracy, source, config).

``to_dict()`` is exactly what export.json holds, with the keys it has always had, so old run folders
still read; ``from_dict()`` reads them back (a key an older export did not write takes its default).
Torch-free: the bench, deploy and the report read exports through it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeprune.export.config import ExportConfig

ONNX_PREFERENCE = ("model.sim.onnx", "model.onnx")  # the simplified file is what OpenVINO is built from


@dataclass
class ExportFile:
    """One produced file: path relative to the export folder, format, precision, sha256 and bytes (all parts)."""

    path: str
    format: str
    precision: str
    bytes: int
    sha256: str
    parts: list[dict[str, Any]] = field(default_factory=list)  # each part (an IR's .xml and .bin): path, bytes, sha256
    parity_failed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, as export.json's ``files`` rows."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExportFile:
        """The file of an export.json ``files`` row."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class ExportResult:
    """What one export produced and verified; ``to_dict()`` is export.json."""

    status: str  # "ok" or "parity-failed"
    model: str
    input_shape: list[int]
    opset: int
    source: dict[str, Any] = field(default_factory=dict)  # the checkpoint: path, sha256, bytes ({} for a module)
    data: str | None = None
    files: list[ExportFile] = field(default_factory=list)
    simplify: dict[str, Any] = field(default_factory=dict)
    openvino_weights: str | None = None
    parity: list[dict[str, Any]] = field(default_factory=list)  # ParityRow.to_dict() rows
    parity_failed: list[str] = field(default_factory=list)
    accuracy: dict[str, Any] | None = None  # test split: n, torch_fp32, ort_fp32[, ort_int8], predictions, labels
    versions: dict[str, str | None] = field(default_factory=dict)
    seconds: float = 0.0
    config: ExportConfig | None = None  # None in exports written before the config was recorded

    @property
    def ok(self) -> bool:
        """Whether every enforced parity check passed."""
        return self.status == "ok"

    @property
    def source_sha256(self) -> str | None:
        """The sha256 of the checkpoint exported (None when a module in memory was)."""
        return (self.source or {}).get("sha256")

    @property
    def int8_accuracy(self) -> float | None:
        """Test accuracy of the INT8 model (ONNX Runtime), when it was measured."""
        value = (self.accuracy or {}).get("ort_int8")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def test_n(self) -> int | None:
        """How many test images the accuracies were measured on."""
        return (self.accuracy or {}).get("n")

    @property
    def test_labels(self) -> list[int] | None:
        """The true labels of those test images, in order (for paired comparisons)."""
        return (self.accuracy or {}).get("labels")

    def predictions(self, runtime: str) -> list[int] | None:
        """Top-1 predictions of ``runtime`` (e.g. ``ort_int8``) on those test images, in order."""
        return ((self.accuracy or {}).get("predictions") or {}).get(runtime)

    def file(self, path: str) -> ExportFile | None:
        """The produced file at ``path`` (relative to the export folder), if any."""
        return next((f for f in self.files if f.path == path), None)

    def verified(self) -> dict[str, ExportFile]:
        """form (``onnx``, ``openvino``, ``int8``) -> the file that passed parity; ONNX prefers the simplified one."""
        failed = set(self.parity_failed)
        checked = {r["artifact"] for r in self.parity if r.get("passed")} - failed
        ok = [f for f in self.files if not f.parity_failed and f.path in checked]
        fp32 = {f.path: f for f in ok if f.precision == "fp32"}
        out: dict[str, ExportFile] = {}
        onnx = next((fp32[n] for n in ONNX_PREFERENCE if n in fp32), None)
        if onnx is not None:
            out["onnx"] = onnx
        ir = next((f for f in fp32.values() if f.format == "openvino"), None)
        if ir is not None:
            out["openvino"] = ir
        int8 = next((f for f in ok if f.precision == "int8" and f.format == "onnx"), None)
        if int8 is not None:
            out["int8"] = int8
        return out

    def to_dict(self) -> dict[str, Any]:
        """export.json's content."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["files"] = [f.to_dict() for f in self.files]
        d["config"] = self.config.to_dict() if self.config is not None else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExportResult:
        """The result of an export.json dict (of this version or an older one)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["files"] = [ExportFile.from_dict(f) for f in d.get("files") or []]
        kwargs["source"] = dict(d.get("source") or {})
        kwargs["parity"] = list(d.get("parity") or [])
        kwargs["parity_failed"] = list(d.get("parity_failed") or [])
        kwargs["config"] = ExportConfig.from_dict(d["config"]) if d.get("config") else None
        return cls(**kwargs)

    @classmethod
    def read(cls, folder: str | Path) -> ExportResult | None:
        """The result recorded in ``folder/export.json``; None when the folder holds none."""
        from edgeprune.fileio import read_json

        path = Path(folder) / "export.json"
        return cls.from_dict(read_json(path)) if path.is_file() else None
