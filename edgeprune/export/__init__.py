"""Export: ONNX (simplified), OpenVINO IR, INT8 QDQ, each checked against PyTorch (parity).

    from edgeprune.export import export
    result = export("runs/a/model.safetensors", "runs/a/export", int8=True, data="digits")

The names below load lazily: runtime-only modules (``edgeprune.export.runtime``, used by the
bench's memory workers) must import without torch, or the peak memory they measure includes it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMATS", "export", "list_formats"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from edgeprune.export import exporter

        return getattr(exporter, name)
    raise AttributeError(f"module 'edgeprune.export' has no attribute {name!r}")
