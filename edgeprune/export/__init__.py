"""Export: ONNX (simplified), OpenVINO IR, INT8 QDQ, each checked against PyTorch (parity).

    from edgeprune.export import ExportConfig, export
    result = export("runs/a/model.safetensors", "runs/a/export", ExportConfig(int8=True), data="digits")
    result.verified()["onnx"].sha256  # the parity-checked file the bench measures and deploy ships

The names below load lazily: runtime-only modules (``edgeprune.export.runtime``, used by the
bench's memory workers) must import without torch, or the peak memory they measure includes it;
the config and the result are torch-free.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module that defines it
_WHERE = {
    "FORMATS": "config", "ExportConfig": "config", "list_formats": "config",
    "ExportFile": "result", "ExportResult": "result",
    "export": "exporter",
    "materialize": "materialize",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"edgeprune.export.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'edgeprune.export' has no attribute {name!r}")
